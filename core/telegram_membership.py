"""Is a Telegram user a member of a chat? Asked with getChatMember, remembered briefly.

Used by the booking policies ("members of the chat Physics lab students may
book the oscilloscopes"); bookings/ knows nothing of Telegram, so the call
lives here. It is a blocking HTTP call (httpx against
settings.TELEGRAM_BASE_URL, as notifications/sender.py does): call it outside
any database transaction, so no row lock waits on Telegram. Answers are kept
in Django's cache for MEMBERSHIP_TTL_SECONDS, so someone who leaves the chat
loses access within that time.
"""

import logging

import httpx
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

MEMBERSHIP_TTL_SECONDS = 60
TIMEOUT_SECONDS = 5.0
_MEMBER_STATUSES = {"creator", "administrator", "member"}


def is_chat_member(*, telegram_id: int | None, chat_id: int) -> bool:
    """True when the user is in the chat now (or was, within the cache's TTL).

    Unknown users, chats the bot is not in, and an unreachable Telegram all
    answer False: access is refused, never granted, by a failure.
    """
    if telegram_id is None:
        return False
    key = f"policies:chat-member:{chat_id}:{telegram_id}"
    try:
        cached = cache.get(key)
    except Exception as error:  # a cache outage must not stop bookings; ask Telegram instead
        logger.warning("Chat membership cache unavailable: %s", error)
        cached = None
    if cached is not None:
        return cached
    is_member = _ask_telegram(telegram_id, chat_id)
    if is_member is None:
        return False  # not remembered: the next call asks again
    try:
        cache.set(key, is_member, MEMBERSHIP_TTL_SECONDS)
    except Exception as error:
        logger.warning("Chat membership not remembered, the cache failed: %s", error)
    return is_member


def forget_chat_member(*, telegram_id: int, chat_id: int) -> None:
    """Drop the remembered answer (after the admin changed the chat, or in tests)."""
    cache.delete(f"policies:chat-member:{chat_id}:{telegram_id}")


def _ask_telegram(telegram_id, chat_id):
    """True / False from getChatMember; None when Telegram could not answer."""
    url = f"{settings.TELEGRAM_BASE_URL}{settings.TELEGRAM_BOT_TOKEN}/getChatMember"
    try:
        response = httpx.post(url, json={"chat_id": chat_id, "user_id": telegram_id}, timeout=TIMEOUT_SECONDS)
        answer = response.json()
    except (httpx.HTTPError, ValueError) as error:
        logger.warning("getChatMember of user %s in chat %s failed: %s", telegram_id, chat_id, error)
        return None
    if not answer.get("ok"):
        # "user not found", "chat not found", the bot not in the chat: not a member.
        if response.status_code in (400, 403):
            logger.info("getChatMember of user %s in chat %s: %s", telegram_id, chat_id, answer.get("description"))
            return False
        return None
    member = answer.get("result") or {}
    status = member.get("status")
    return status in _MEMBER_STATUSES or (status == "restricted" and bool(member.get("is_member")))
