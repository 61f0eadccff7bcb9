"""Telegram's flood limits, shared by every process that talks to Telegram (GCRA in Redis).

Telegram allows about 30 messages a second overall, about one a second in a
chat and 20 a minute in a group, and it counts them per bot token: the
notification workers and the bot's own replies draw on the same budget. So
both use these buckets (notifications/delivery.py and bot/ratelimit.py);
the module sits in core/ because neither of them may import the other.

A chat's limit is a GCRA bucket (a "theoretical arrival time" per key).
The overall limit is shared by every chat, so it is a calendar of single
slots instead: a message takes the first free overall slot at or after its
chat's slot. A chat's backlog thus books overall slots at its own (late)
times and delays only that chat; with one moving arrival time for all, one
chatty user's queued replies pushed every other chat's messages behind them.
`reserve()` checks all the buckets a message counts against in one Lua
script, so several processes never overshoot together, and books a slot for
the caller, who then sleeps until it. A slot further away than `max_wait` is
not booked: a worker reschedules its task instead of holding a process.

Without REDIS_URL (the embedded default) the buckets live in the process:
exact for one process, but the dev command's bot and worker then each keep
their own.
"""

import math
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

KEY_PREFIX = "slotbot:ratelimit:"

# KEYS: bucket keys. ARGV: max_wait, then (interval, tolerance, shared 0/1) per key, in seconds.
# Returns {booked (0/1), wait seconds as a string}.
# A chat's bucket is a GCRA "theoretical arrival time"; a shared bucket is a calendar of single
# slots (key:<slot number>, one message each) plus a "not before" time in its own key (penalise).
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
  local allowed = tat
  if ARGV[3 * i + 1] == '0' then allowed = tat - tonumber(ARGV[3 * i]) end
  if allowed > at then at = allowed end
end
local slots = {}
for i, key in ipairs(KEYS) do
  if ARGV[3 * i + 1] == '1' then
    local interval = tonumber(ARGV[3 * i - 1])
    local slot = math.floor(at / interval)
    while redis.call('EXISTS', key .. ':' .. slot) == 1 do
      slot = slot + 1
      if slot * interval - now > max_wait then break end
    end
    if slot * interval > at then at = slot * interval end
    slots[i] = slot
  end
end
local wait = at - now
if wait > max_wait then
  return {0, tostring(wait)}
end
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[3 * i - 1])
  if slots[i] then
    local ttl = math.ceil(((slots[i] + 1) * interval - now) * 1000) + 1000
    redis.call('SET', key .. ':' .. slots[i], '1', 'PX', ttl)
  else
    local tat = tats[i]
    if tat < at then tat = at end
    tat = tat + interval
    redis.call('SET', key, tostring(tat), 'PX', math.ceil((tat - now) * 1000) + 1000)
  end
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
    tolerance: float  # how far ahead of the steady rate a burst may run (not for a shared bucket)
    # Shared by every chat (the overall budget): booked one slot at a time, so a slot booked far
    # ahead for one chat's backlog holds that slot only, and other chats still get the ones before it.
    shared: bool = False


@dataclass(frozen=True)
class Reservation:
    booked: bool  # False: the slot is further away than max_wait, nothing was booked
    wait: float  # seconds to sleep before sending (booked) or before trying again (not booked)


def overall_bucket():
    """The bot's whole budget: every message and edit counts against it."""
    return Bucket("all", 1 / settings.TELEGRAM_RATE_PER_SECOND, 0.0, shared=True)


def chat_bucket(chat_id, *, is_group, burst=1):
    """The budget of one chat; `burst` messages may go out at once before the steady rate applies."""
    if is_group:
        interval = 60 / settings.TELEGRAM_RATE_PER_GROUP_PER_MINUTE
        return Bucket(f"group:{chat_id}", interval, (burst - 1) * interval)
    interval = 1 / settings.TELEGRAM_RATE_PER_CHAT_PER_SECOND
    return Bucket(f"chat:{chat_id}", interval, (burst - 1) * interval)


def paid_broadcast_bucket():
    """Paid broadcasts' own overall budget (allow_paid_broadcast: up to 1,000/s, billed per message)."""
    return Bucket("paid", 1 / settings.TELEGRAM_PAID_BROADCAST_RATE_PER_SECOND, 0.0, shared=True)


def buckets_for(chat_id, *, is_group, burst=1, paid=False):
    """The buckets a message to `chat_id` counts against (overall, or the paid budget, + its chat's)."""
    overall = paid_broadcast_bucket() if paid else overall_bucket()
    return [overall, chat_bucket(chat_id, is_group=is_group, burst=burst)]


class RedisRateLimiter:
    def __init__(self, client, *, prefix=KEY_PREFIX):
        self._prefix = prefix
        self._reserve = client.register_script(_RESERVE_LUA)
        self._penalise = client.register_script(_PENALISE_LUA)

    def reserve(self, buckets, *, max_wait):
        args = [max_wait]
        for bucket in buckets:
            args += [bucket.interval, bucket.tolerance, "1" if bucket.shared else "0"]
        booked, wait = self._reserve(keys=[self._prefix + b.key for b in buckets], args=args)
        return Reservation(bool(booked), max(0.0, float(wait)))

    def penalise(self, bucket, seconds):
        self._penalise(keys=[self._prefix + bucket.key], args=[seconds])


class LocalRateLimiter:
    """The same algorithm in one process, for the embedded default without Redis."""

    def __init__(self):
        self._lock = threading.Lock()
        self._tats = {}  # a chat bucket's next slot; a shared bucket's "not before" (penalise)
        self._slots = {}  # a shared bucket's booked slot numbers

    def reserve(self, buckets, *, max_wait):
        with self._lock:
            now = time.monotonic()
            tats = [max(self._tats.get(b.key, now), now) for b in buckets]
            at = max([now] + [tat if b.shared else tat - b.tolerance for tat, b in zip(tats, buckets)])
            slots = {}
            for bucket in buckets:
                if bucket.shared:
                    booked = self._slots.setdefault(bucket.key, set())
                    slot = math.floor(at / bucket.interval)
                    while slot in booked and slot * bucket.interval - now <= max_wait:
                        slot += 1
                    at = max(at, slot * bucket.interval)
                    slots[bucket.key] = slot
            if at - now > max_wait:
                return Reservation(False, at - now)
            for tat, bucket in zip(tats, buckets):
                if bucket.shared:
                    booked = self._slots[bucket.key]
                    booked.difference_update([s for s in booked if (s + 1) * bucket.interval < now])
                    booked.add(slots[bucket.key])
                else:
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
