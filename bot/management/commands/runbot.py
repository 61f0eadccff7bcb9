"""python manage.py runbot: the bot in long-polling mode (the "bot" process)."""

from django.core.management.base import BaseCommand
from telegram import Update

from bot.app import build_application


class Command(BaseCommand):
    help = "Run the Telegram bot with long polling (TELEGRAM_BASE_URL picks Telegram or the sandbox)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--drop-pending", action="store_true", help="Skip updates that arrived while the bot was down."
        )

    def handle(self, *args, drop_pending, **options):
        application = build_application()
        # run_polling removes any webhook first, calls post_init (setMyCommands) and stops on Ctrl-C / SIGTERM.
        application.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=drop_pending)
