"""Who is an admin: a staff user (checked in the database by each view) who is
also a member of the admin group chat (checked here, with Telegram).

Membership is asked with getChatMember and remembered briefly in Django's
cache (shared by every process when it is Redis), so a burst of presses
costs one call, and someone removed from the group loses admin rights
within a minute.
"""

import asyncio
import logging

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, Forbidden

logger = logging.getLogger(__name__)

MEMBERSHIP_TTL_SECONDS = 60
_MEMBER_STATUSES = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}


async def in_admin_chat(bot, telegram_user_id):
    """Is this Telegram user in TELEGRAM_ADMIN_CHAT_ID? With no admin chat configured, staff alone decides."""
    chat_id = settings.TELEGRAM_ADMIN_CHAT_ID
    if chat_id is None:
        return True
    # The chat is part of the key: after TELEGRAM_ADMIN_CHAT_ID changes, nothing old is read.
    key = f"bot:admin-member:{chat_id}:{telegram_user_id}"
    cached = await _cached(key)
    if cached is not None:
        return cached
    try:
        member = await bot.get_chat_member(chat_id, telegram_user_id)
    except (BadRequest, Forbidden) as error:
        # "user not found", or the bot is not in the admin chat: not an admin.
        logger.info("Admin check for user %s in chat %s: %s", telegram_user_id, chat_id, error.message)
        is_member = False
    else:
        is_member = member.status in _MEMBER_STATUSES or (
            member.status == ChatMemberStatus.RESTRICTED and getattr(member, "is_member", False)
        )
    await _remember(key, is_member)
    return is_member


async def _cached(key):
    """The remembered answer, or None; the cache call may wait on Redis, so it runs off the event loop."""
    try:
        return await asyncio.to_thread(cache.get, key)
    except RedisError as error:
        logger.warning("Admin membership cache unavailable, asking Telegram: %s", error)
        return None


async def _remember(key, is_member):
    try:
        await asyncio.to_thread(cache.set, key, is_member, MEMBERSHIP_TTL_SECONDS)
    except RedisError as error:
        logger.warning("Admin membership not remembered, the cache failed: %s", error)
