"""A small Telegram Bot API client for sending notifications (sendMessage, and sendPhoto by file_id).

The bot process has python-telegram-bot; delivery needs one call and a
precise reading of its outcomes, so it speaks HTTP itself (httpx) against
settings.TELEGRAM_BASE_URL. Every outcome that is not "sent" is an exception
named for what the caller must do about it:

- RetryAfter: Telegram said 429; wait `retry_after` seconds, nothing was sent.
- TemporaryFailure: a 5xx or a network error before the request left; nothing
  was sent, try again later.
- OutcomeUnknown: the request left but no answer came back (read timeout,
  connection dropped); Telegram may have shown the message. Not safe to resend.
- BotBlocked: the user blocked the bot (or deleted their account): stop.
- PermanentFailure: Telegram refused the request (400 chat not found, …).
"""

import logging
from dataclasses import dataclass

import httpx
from django.conf import settings

logger = logging.getLogger(__name__)


class SendError(Exception):
    """Base class: the message was not (known to be) delivered."""

    def __init__(self, description):
        super().__init__(description)
        self.description = description


class RetryAfter(SendError):
    def __init__(self, description, retry_after):
        super().__init__(description)
        self.retry_after = retry_after


class TemporaryFailure(SendError):
    pass


class OutcomeUnknown(SendError):
    pass


class BotBlocked(SendError):
    pass


class PermanentFailure(SendError):
    pass


# httpx errors raised before the request reached the server: safe to resend.
_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteError, httpx.WriteTimeout)
# Raised after the request was written: the server may have acted on it.
_MAYBE_SENT_ERRORS = (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError)


@dataclass(frozen=True)
class Message:
    chat_id: int
    text: str
    reply_markup: dict | None = None  # an InlineKeyboardMarkup as Telegram's JSON
    photo: str = ""  # a Telegram file_id: sent with sendPhoto, `text` as its caption
    paid_broadcast: bool = False  # allow_paid_broadcast: past the 30/s limit, billed in Stars


class TelegramSender:
    """One per process; holds a keep-alive connection pool to the Bot API."""

    def __init__(self, *, base_url=None, token=None, timeout=None):
        base_url = base_url or settings.TELEGRAM_BASE_URL
        token = token or settings.TELEGRAM_BOT_TOKEN
        self._url = f"{base_url}{token}/sendMessage"
        self._photo_url = f"{base_url}{token}/sendPhoto"
        self._client = httpx.Client(timeout=timeout or settings.TELEGRAM_SEND_TIMEOUT_SECONDS)

    def close(self):
        self._client.close()

    def send_message(self, message):
        """Send `message`; returns Telegram's message_id or raises a SendError."""
        url, body = self._url, {"chat_id": message.chat_id, "text": message.text, "parse_mode": "HTML"}
        if message.photo:
            # A photo a user sent us, forwarded by its file_id (no upload): the text is its caption.
            url, body = self._photo_url, {"chat_id": message.chat_id, "photo": message.photo, "parse_mode": "HTML"}
            body["caption"] = message.text
        if message.reply_markup:
            body["reply_markup"] = message.reply_markup
        if message.paid_broadcast:
            body["allow_paid_broadcast"] = True
        try:
            response = self._client.post(url, json=body)
        except _NOT_SENT_ERRORS as exc:
            raise TemporaryFailure(f"network error before sending: {exc.__class__.__name__}") from exc
        except _MAYBE_SENT_ERRORS as exc:
            raise OutcomeUnknown(f"no answer after sending: {exc.__class__.__name__}") from exc
        return _read_answer(response)


def _read_answer(response):
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    description = str(answer.get("description") or f"HTTP {response.status_code}")
    if response.status_code == 200 and answer.get("ok"):
        return answer["result"]["message_id"]
    if response.status_code == 429:
        retry_after = (answer.get("parameters") or {}).get("retry_after") or 1
        raise RetryAfter(description, int(retry_after))
    if response.status_code >= 500:
        raise TemporaryFailure(description)
    if response.status_code == 403:
        # "Forbidden: bot was blocked by the user", "user is deactivated", …
        raise BotBlocked(description)
    raise PermanentFailure(description)


_sender = None


def get_sender():
    """The process's sender, created on first use (after a prefork worker forks)."""
    global _sender
    if _sender is None:
        _sender = TelegramSender()
    return _sender
