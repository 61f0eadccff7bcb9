"""The Telegram bot: python-telegram-bot Application, handlers, keyboards, texts."""
