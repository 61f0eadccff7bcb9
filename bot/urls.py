"""The Telegram webhook endpoint; core.urls mounts it under telegram/."""

from django.urls import path

from bot.webhook import telegram_webhook

app_name = "bot"
urlpatterns = [path("webhook/", telegram_webhook, name="webhook")]
