"""python manage.py setwebhook --url https://…/telegram/webhook/  |  --delete

Registers the webhook with the secret Telegram will send back in
X-Telegram-Bot-Api-Secret-Token, and the bot's command list.
"""

import asyncio

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from telegram import Update
from telegram.error import TelegramError

from bot.app import build_application, set_commands


class Command(BaseCommand):
    help = "Point Telegram at the webhook endpoint, or remove the webhook (then use runbot)."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--url", help="The public HTTPS URL of /telegram/webhook/.")
        group.add_argument("--delete", action="store_true", help="Remove the webhook.")
        parser.add_argument("--drop-pending", action="store_true", help="Discard updates waiting at Telegram.")

    def handle(self, *args, url, delete, drop_pending, **options):
        if url and not settings.TELEGRAM_WEBHOOK_SECRET:
            raise CommandError("TELEGRAM_WEBHOOK_SECRET must be set: the endpoint refuses updates without it")
        try:
            message = asyncio.run(self._apply(url, delete, drop_pending))
        except TelegramError as error:
            raise CommandError(f"Telegram refused: {error.message}") from None
        self.stdout.write(self.style.SUCCESS(message))

    async def _apply(self, url, delete, drop_pending):
        application = build_application(with_updater=False, rate_limit=False)
        async with application:
            if delete:
                await application.bot.delete_webhook(drop_pending_updates=drop_pending)
                return "Webhook removed."
            await application.bot.set_webhook(
                url,
                secret_token=settings.TELEGRAM_WEBHOOK_SECRET,
                allowed_updates=Update.ALL_TYPES,
                drop_pending_updates=drop_pending,
            )
            await set_commands(application)
            return f"Webhook set to {url}."
