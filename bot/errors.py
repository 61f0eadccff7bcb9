"""The bot's error handler: log it, report it to Sentry with the update's context, apologise.

Only numbers identify the update in Sentry (update, chat and user ids):
no names, usernames or texts, since no personal data goes to Sentry by
default. The event is sent once, by capture_exception; the log line is kept
out of Sentry's logging integration so it is not reported twice.
"""

import logging

import sentry_sdk
from django.utils import translation
from sentry_sdk.integrations.logging import ignore_logger
from telegram import Update
from telegram.error import TelegramError

from bot import texts
from core.services import language_from_telegram

logger = logging.getLogger(__name__)
ignore_logger(__name__)


def update_context(update):
    """The ids that let one find an update again, and nothing personal."""
    if not isinstance(update, Update):
        return {}
    return {
        "update_id": update.update_id,
        "chat_id": update.effective_chat.id if update.effective_chat else None,
        "user_id": update.effective_user.id if update.effective_user else None,
    }


async def on_error(update, context):
    error = context.error
    ids = update_context(update)
    with sentry_sdk.new_scope() as scope:
        scope.set_context("telegram", ids)
        scope.set_tag("telegram.update_id", ids.get("update_id"))
        if ids.get("user_id") is not None:
            scope.set_user({"id": str(ids["user_id"])})
        logger.error("Error while handling update %s", ids or update, exc_info=error)
        sentry_sdk.capture_exception(error)
    if isinstance(update, Update):
        await _apologise(update, context)


async def _apologise(update, context):
    person = update.effective_user
    with translation.override(language_from_telegram(person.language_code if person else "")):
        apology = str(texts.APOLOGY)
    try:
        if update.callback_query:
            await update.callback_query.answer(apology, show_alert=True)
        elif update.effective_chat and update.effective_message:
            await context.bot.send_message(update.effective_chat.id, apology)
    except TelegramError as error:
        # Already answered, or Telegram itself is the problem: the log has the original error.
        logger.warning("Could not apologise for update %s: %s", update.update_id, error)
