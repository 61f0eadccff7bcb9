"""Flood limits the way Telegram applies them to a bot, with token buckets.

Telegram documents: about 30 messages per second overall, about one message per
second in a single chat (short bursts allowed), at most 20 messages per minute
in a group. Past a limit the Bot API answers 429 "Too Many Requests: retry
after N" with ``parameters.retry_after`` (whole seconds, at least 1).

Which calls count (see sandbox/README.md):
- messages that appear in a chat (sendMessage, sendPhoto, sendDocument) count
  toward the overall bucket and toward the chat's bucket: the per-chat bucket
  for a private chat, the per-group bucket for a group;
- edits (editMessageText, editMessageReplyMarkup) count toward the overall
  bucket only, so a bot that edits a message on every button press is not
  throttled per chat;
- a call with ``allow_paid_broadcast`` (sendMessage, sendPhoto, sendDocument) draws on
  the paid overall bucket (1,000/s, as Telegram bills it in Stars) instead of the
  free one, and still on its chat's bucket;
- everything else (getUpdates, answerCallbackQuery, sendChatAction,
  deleteMessage, get*/set*) is not limited.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, fields

__all__ = ["FloodConfig", "FloodLimiter", "TokenBucket"]


@dataclass
class FloodConfig:
    """Tunable limits; every field can be changed at run time via the user API."""

    enabled: bool = True
    per_chat_per_second: float = 1.0
    per_chat_burst: int = 5
    overall_per_second: float = 30.0
    # "30 messages per second or so": a few extra tokens absorb network jitter, so a
    # client limiter pacing at exactly 30/s (PTB's AIORateLimiter) is never refused.
    overall_burst: int = 33
    group_per_minute: float = 20.0
    group_burst: int = 20
    # allow_paid_broadcast (billed in Stars): such calls draw on this overall bucket instead.
    paid_broadcast_per_second: float = 1000.0
    paid_broadcast_burst: int = 1000

    def update(self, changes: dict) -> None:
        known = {f.name: f.type for f in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown limit {name!r}; known: {', '.join(known)}")
            current = getattr(self, name)
            if isinstance(current, bool):
                value = value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
            setattr(self, name, type(current)(value))

    def to_dict(self) -> dict:
        return asdict(self)


class TokenBucket:
    """Holds up to ``capacity`` tokens, refilled at ``rate`` tokens per second."""

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.stamp = now

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        self.refill(now)
        if self.tokens >= 1:
            return 0.0
        return (1 - self.tokens) / self.rate if self.rate > 0 else math.inf

    def take(self) -> None:
        self.tokens -= 1


class FloodLimiter:
    """All buckets of all bots; ``check`` either admits a call or says how long to wait."""

    def __init__(self, config: FloodConfig | None = None, clock=time.monotonic) -> None:
        self.config = config or FloodConfig()
        self.clock = clock
        self._overall: dict[int, TokenBucket] = {}
        self._paid: dict[int, TokenBucket] = {}
        self._chats: dict[tuple[int, int], TokenBucket] = {}

    def reset(self) -> None:
        self._overall.clear()
        self._paid.clear()
        self._chats.clear()

    def reconfigure(self, changes: dict) -> None:
        self.config.update(changes)
        self.reset()  # buckets are rebuilt with the new sizes on next use

    def check(self, bot_id: int, chat_id: int, *, is_group: bool, counts_per_chat: bool, paid: bool = False) -> int:
        """Take one token from each relevant bucket; return 0, or retry_after seconds.

        ``paid``: the call carries allow_paid_broadcast, so the paid overall bucket (1,000/s)
        stands in for the free one; the chat's own limit still applies.
        """
        if not self.config.enabled:
            return 0
        now = self.clock()
        buckets = [self._paid_bucket(bot_id, now) if paid else self._overall_bucket(bot_id, now)]
        if counts_per_chat:
            buckets.append(self._chat_bucket(bot_id, chat_id, is_group, now))
        wait = max(bucket.wait_time(now) for bucket in buckets)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.take()
        if len(self._chats) > 50_000:
            self._forget_full_buckets(now)
        return 0

    def _overall_bucket(self, bot_id: int, now: float) -> TokenBucket:
        bucket = self._overall.get(bot_id)
        if bucket is None:
            config = self.config
            bucket = self._overall[bot_id] = TokenBucket(config.overall_burst, config.overall_per_second, now)
        return bucket

    def _paid_bucket(self, bot_id: int, now: float) -> TokenBucket:
        bucket = self._paid.get(bot_id)
        if bucket is None:
            config = self.config
            bucket = self._paid[bot_id] = TokenBucket(
                config.paid_broadcast_burst, config.paid_broadcast_per_second, now
            )
        return bucket

    def _chat_bucket(self, bot_id: int, chat_id: int, is_group: bool, now: float) -> TokenBucket:
        key = (bot_id, chat_id)
        bucket = self._chats.get(key)
        if bucket is None:
            config = self.config
            if is_group:
                bucket = TokenBucket(config.group_burst, config.group_per_minute / 60.0, now)
            else:
                bucket = TokenBucket(config.per_chat_burst, config.per_chat_per_second, now)
            self._chats[key] = bucket
        return bucket

    def _forget_full_buckets(self, now: float) -> None:
        """A full bucket is the same as no bucket: drop them to bound memory."""
        for key in [k for k, b in self._chats.items() if (b.refill(now) or b.tokens >= b.capacity)]:
            del self._chats[key]
