"""Telegram's flood limits, shared by every process that talks to Telegram (GCRA in Redis).

Telegram allows about 30 messages a second overall, about one a second in a
chat and 20 a minute in a group, and it counts them per bot token: the
notification workers and the bot's own replies draw on the same budget. So
both use these buckets (notifications/delivery.py and bot/ratelimit.py);
the module sits in core/ because neither of them may import the other.

Each limit is a GCRA bucket (a "theoretical arrival time" per key);
`reserve()` checks all the buckets a message counts against in one Lua
script, so several processes never overshoot together, and books a slot for
the caller, who then sleeps until it. A slot further away than `max_wait` is
not booked: a worker reschedules its task instead of holding a process.

Without REDIS_URL (the embedded default) the buckets live in the process:
exact for one process, but the dev command's bot and worker then each keep
their own.
"""

import threading
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

KEY_PREFIX = "slotbot:ratelimit:"

# KEYS: bucket keys. ARGV: max_wait, then (interval, tolerance) per key, in seconds.
# Returns {booked (0/1), wait seconds as a string}.
_RESERVE_LUA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local max_wait = tonumber(ARGV[1])
local at = now
local tats = {}
for i, key in ipairs(KEYS) do
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now then tat = now end
  tats[i] = tat
  local allowed = tat - tonumber(ARGV[2 * i + 1])
  if allowed > at then at = allowed end
end
local wait = at - now
if wait > max_wait then
  return {0, tostring(wait)}
end
for i, key in ipairs(KEYS) do
  local tat = tats[i]
  if tat < at then tat = at end
  tat = tat + tonumber(ARGV[2 * i])
  redis.call('SET', key, tostring(tat), 'PX', math.ceil((tat - now) * 1000) + 1000)
end
return {1, tostring(wait)}
"""

# KEYS: one bucket key. ARGV: seconds. Pushes the bucket's next slot to now + seconds.
_PENALISE_LUA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local until_ = now + tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < until_ then
  redis.call('SET', KEYS[1], tostring(until_), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
end
return 1
"""


@dataclass(frozen=True)
class Bucket:
    key: str
    interval: float  # seconds between messages at the steady rate
    tolerance: float  # how far ahead of the steady rate a burst may run


@dataclass(frozen=True)
class Reservation:
    booked: bool  # False: the slot is further away than max_wait, nothing was booked
    wait: float  # seconds to sleep before sending (booked) or before trying again (not booked)


def overall_bucket():
    """The bot's whole budget: every message and edit counts against it."""
    return Bucket("all", 1 / settings.TELEGRAM_RATE_PER_SECOND, 0.0)


def chat_bucket(chat_id, *, is_group, burst=1):
    """The budget of one chat; `burst` messages may go out at once before the steady rate applies."""
    if is_group:
        interval = 60 / settings.TELEGRAM_RATE_PER_GROUP_PER_MINUTE
        return Bucket(f"group:{chat_id}", interval, (burst - 1) * interval)
    interval = 1 / settings.TELEGRAM_RATE_PER_CHAT_PER_SECOND
    return Bucket(f"chat:{chat_id}", interval, (burst - 1) * interval)


def buckets_for(chat_id, *, is_group, burst=1):
    """The buckets a message to `chat_id` counts against (overall + its chat's)."""
    return [overall_bucket(), chat_bucket(chat_id, is_group=is_group, burst=burst)]


class RedisRateLimiter:
    def __init__(self, client, *, prefix=KEY_PREFIX):
        self._prefix = prefix
        self._reserve = client.register_script(_RESERVE_LUA)
        self._penalise = client.register_script(_PENALISE_LUA)

    def reserve(self, buckets, *, max_wait):
        args = [max_wait]
        for bucket in buckets:
            args += [bucket.interval, bucket.tolerance]
        booked, wait = self._reserve(keys=[self._prefix + b.key for b in buckets], args=args)
        return Reservation(bool(booked), max(0.0, float(wait)))

    def penalise(self, bucket, seconds):
        self._penalise(keys=[self._prefix + bucket.key], args=[seconds])


class LocalRateLimiter:
    """The same algorithm in one process, for the embedded default without Redis."""

    def __init__(self):
        self._lock = threading.Lock()
        self._tats = {}

    def reserve(self, buckets, *, max_wait):
        with self._lock:
            now = time.monotonic()
            tats = [max(self._tats.get(b.key, now), now) for b in buckets]
            at = max([now] + [tat - b.tolerance for tat, b in zip(tats, buckets)])
            if at - now > max_wait:
                return Reservation(False, at - now)
            for tat, bucket in zip(tats, buckets):
                self._tats[bucket.key] = max(tat, at) + bucket.interval
            return Reservation(True, at - now)

    def penalise(self, bucket, seconds):
        with self._lock:
            until = time.monotonic() + seconds
            self._tats[bucket.key] = max(self._tats.get(bucket.key, 0.0), until)


def redis_client(url):
    """A client that fails fast: every message waits on it, and redis-py's default
    (10 retries with backoff, ~4 s) would hold each one that long while Redis is away."""
    import redis  # only needed when Redis is configured
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2, retry=Retry(NoBackoff(), 1))


@lru_cache(maxsize=1)
def get_rate_limiter():
    if settings.REDIS_URL:
        return RedisRateLimiter(redis_client(settings.REDIS_URL))
    return LocalRateLimiter()
