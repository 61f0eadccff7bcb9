"""The bot's replies drawn from the same flood budget as the notification workers.

Telegram counts messages per bot token, so a burst of bot replies at the
moment the workers deliver a burst of notifications must not add up to more
than Telegram allows. `SharedRateLimiter` plugs python-telegram-bot's
rate-limiter hook into core/ratelimit.py's buckets (Redis when `REDIS_URL` is
set): a message waits for its slot in the overall and the chat bucket, an
edit for its slot in the overall bucket, and anything else (answering a
button, chat actions, getUpdates) goes straight out.

A reply may run a little ahead of the steady per-chat rate (`CHAT_BURST`
messages in a private chat, `GROUP_BURST` in a group), as Telegram allows
short bursts; the workers never do, so together they stay under the limit.
A 429 still happens (Telegram's limits are not published exactly): its
`retry_after` is booked on the chat's bucket, so the workers wait too, and
the request is retried up to `max_retries` times. While Redis is unreachable
the process paces itself alone rather than answer nobody (as bot/flood.py),
and asks Redis again every `REDIS_RETRY_SECONDS`.
"""

import asyncio
import logging
import time
from datetime import timedelta

from redis.exceptions import RedisError
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from core.ratelimit import LocalRateLimiter, buckets_for, get_rate_limiter, overall_bucket

logger = logging.getLogger(__name__)

CHAT_BURST = 3  # private chat: 3 at once, then 1/s (Telegram tolerates a few more)
GROUP_BURST = 10  # group: 10 at once, then 20/min (Telegram: 20 a minute)
MAX_WAIT = 3600.0  # a reply always books its slot, however far (the limiter's cap)
REDIS_RETRY_SECONDS = 10.0  # after Redis failed, pace alone this long before trying it again

# Requests that put a message in a chat. Everything else whose name starts with
# "send" does too, except a chat action ("typing…").
MESSAGE_ENDPOINTS = {"copyMessage", "copyMessages", "forwardMessage", "forwardMessages"}


def is_message(endpoint):
    return endpoint in MESSAGE_ENDPOINTS or (endpoint.startswith("send") and endpoint != "sendChatAction")


def is_edit(endpoint):
    return endpoint.startswith("edit")


def chat_id_of(data):
    """The integer chat id of a request, or None (a @channel name has no bucket of its own)."""
    try:
        return int(data.get("chat_id"))
    except (TypeError, ValueError):
        return None


def buckets_for_request(endpoint, data):
    """The buckets `endpoint` with `data` counts against; empty when it is not limited."""
    chat_id = chat_id_of(data)
    if is_message(endpoint) and chat_id is not None:
        is_group = chat_id < 0
        return buckets_for(chat_id, is_group=is_group, burst=GROUP_BURST if is_group else CHAT_BURST)
    if is_message(endpoint) or is_edit(endpoint):
        return [overall_bucket()]
    return []


def retry_seconds(error):
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class SharedRateLimiter(BaseRateLimiter[int]):
    """PTB's rate limiter hook over core/ratelimit.py; `rate_limit_args` overrides `max_retries`."""

    def __init__(self, *, max_retries=3, limiter=None):
        self._max_retries = max_retries
        self._limiter = limiter
        self._alone = LocalRateLimiter()  # this process's own buckets, while Redis is away
        self._alone_until = 0.0

    @property
    def limiter(self):
        return self._limiter or get_rate_limiter()

    async def initialize(self):
        pass

    async def shutdown(self):
        pass

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        buckets = buckets_for_request(endpoint, data)
        max_retries = self._max_retries if rate_limit_args is None else rate_limit_args
        attempt = 0
        while True:
            if buckets:
                await self._wait_for_slot(buckets)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt >= max_retries:
                    raise
                attempt += 1
                seconds = retry_seconds(error)
                logger.warning(
                    "%s got a 429: retrying in %.1f s (attempt %d of %d)", endpoint, seconds, attempt, max_retries
                )
                if len(buckets) == 2:
                    # The chat's next slot moves past retry_after: the retry and the workers wait for it.
                    await self._call("penalise", buckets[1], seconds)
                else:
                    await asyncio.sleep(seconds)

    async def _wait_for_slot(self, buckets):
        while True:
            reservation = await self._call("reserve", buckets, max_wait=MAX_WAIT)
            if reservation.wait:
                await asyncio.sleep(reservation.wait)
            if reservation.booked:
                return

    async def _call(self, name, *args, **kwargs):
        """The shared limiter's `name`, off the event loop (it may wait on Redis); alone if Redis fails."""
        if time.monotonic() >= self._alone_until:
            try:
                return await asyncio.to_thread(getattr(self.limiter, name), *args, **kwargs)
            except RedisError as error:
                self._alone_until = time.monotonic() + REDIS_RETRY_SECONDS
                logger.warning(
                    "Telegram rate limiter: Redis is unreachable (%s); this process paces itself alone for %.0f s",
                    error.__class__.__name__,
                    REDIS_RETRY_SECONDS,
                )
        return await asyncio.to_thread(getattr(self._alone, name), *args, **kwargs)
