"""Notifications: the outbox, Celery delivery, the Telegram sender, admin alerts."""
