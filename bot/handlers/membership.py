"""The bot's own membership of a chat changed (Telegram's my_chat_member update).

In a private chat that is a person blocking the bot ("kicked") or unblocking
it ("member"): they are marked unreachable or reachable again, so messages
queued for them after an unblock are delivered without their writing first.
In a group the bot was added, removed or banned: that is logged, and loudly
for the admin chat, where admin alerts then cannot be delivered.
"""

import logging

from django.conf import settings
from telegram.constants import ChatMemberStatus, ChatType

from bot.sync import db
from core.services import user_set_reachable_by_telegram_id

logger = logging.getLogger(__name__)

GONE = {ChatMemberStatus.LEFT, ChatMemberStatus.BANNED}  # BANNED is Telegram's "kicked"


async def on_my_chat_member(update, context):
    change = update.my_chat_member
    chat, status = change.chat, change.new_chat_member.status
    if chat.type == ChatType.PRIVATE:
        if status == ChatMemberStatus.BANNED:
            await db(_set_reachable)(chat.id, False)
        elif status == ChatMemberStatus.MEMBER:
            await db(_set_reachable)(chat.id, True)
        return
    logger.info("The bot is now %s in %s chat %s (%s)", status, chat.type, chat.id, chat.title or "")
    if chat.id == settings.TELEGRAM_ADMIN_CHAT_ID and status in GONE:
        logger.warning("The bot was removed from the admin chat %s: admin alerts cannot be delivered", chat.id)


def _set_reachable(telegram_id, reachable):
    # A private chat's id is its user's Telegram id.
    changed = user_set_reachable_by_telegram_id(telegram_id=telegram_id, reachable=reachable)
    logger.info("Telegram user %s %s the bot", telegram_id, "unblocked" if reachable else "blocked")
    return changed
