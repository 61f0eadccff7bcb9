"""Deep links that open the bot at a resource: `https://t.me/<bot>?start=r<id>` (QR stickers).

The payload format lives here because the admin (bookings) prints the links
and the bot (bot/handlers/sticker.py) reads them, and neither imports the
other. Telegram allows a start payload of 1-64 characters of A-Za-z0-9_-.
The bot's username comes from TELEGRAM_BOT_USERNAME, or else from getMe,
asked once and cached (never at import time).
"""

import re

import httpx
from django.conf import settings
from django.core.cache import cache

MAX_PAYLOAD = 64
_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_RESOURCE = re.compile(r"^r([1-9][0-9]{0,18})$")
_USERNAME_CACHE_KEY = "telegram:bot-username"
_USERNAME_TTL = 24 * 3600


class BotUsernameUnknown(Exception):
    """Neither the setting nor the Bot API gave the bot's username."""


def resource_payload(resource_id: int) -> str:
    """The /start payload naming a resource: 'r42'."""
    payload = f"r{int(resource_id)}"
    if not _PAYLOAD.match(payload):
        raise ValueError(f"payload {payload!r} is not a valid start parameter")
    return payload


def resource_id_from_payload(payload: str) -> int | None:
    """42 for 'r42'; None for any payload that does not name a resource that way."""
    match = _RESOURCE.match(payload or "")
    if not match or not _PAYLOAD.match(payload):
        return None
    number = int(match.group(1))
    return number if number <= 2**63 - 1 else None


def resource_deep_link(*, resource_id: int, username: str | None = None) -> str:
    """https://t.me/<bot>?start=r<id>; the username is looked up when not given."""
    return f"https://t.me/{username or bot_username()}?start={resource_payload(resource_id)}"


def bot_username() -> str:
    """The bot's username: the setting, else getMe (cached a day). Raises BotUsernameUnknown."""
    if settings.TELEGRAM_BOT_USERNAME:
        return settings.TELEGRAM_BOT_USERNAME
    username = cache.get(_USERNAME_CACHE_KEY)
    if username:
        return username
    url = f"{settings.TELEGRAM_BASE_URL}{settings.TELEGRAM_BOT_TOKEN}/getMe"
    try:
        answer = httpx.get(url, timeout=settings.TELEGRAM_SEND_TIMEOUT_SECONDS).json()
    except (httpx.HTTPError, ValueError) as exc:
        raise BotUsernameUnknown(f"getMe failed: {exc.__class__.__name__}") from exc
    username = (answer.get("result") or {}).get("username") if answer.get("ok") else None
    if not username:
        raise BotUsernameUnknown(str(answer.get("description") or "getMe gave no username"))
    cache.set(_USERNAME_CACHE_KEY, username, _USERNAME_TTL)
    return username
