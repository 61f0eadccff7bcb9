"""core/ratelimit.py on its own: a chat's backlog delays that chat only, and the overall budget still holds.

Both implementations run the same cases: the Lua script against a real Redis
on 127.0.0.1:6379 (keys under a prefix of each test's own) and the
in-process LocalRateLimiter.
"""

import time
import uuid
import zlib

import pytest
import redis

from core.ratelimit import Bucket, LocalRateLimiter, RedisRateLimiter, buckets_for, chat_bucket, overall_bucket

REDIS_URL = f"redis://127.0.0.1:6379/{1 + zlib.crc32(__name__.encode()) % 15}"


@pytest.fixture(params=["redis", "local"])
def limiter(request):
    if request.param == "local":
        yield LocalRateLimiter()
        return
    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"test:{uuid.uuid4().hex}:"
    yield RedisRateLimiter(client, prefix=prefix)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def test_a_chats_backlog_does_not_push_back_other_chats(limiter):
    flooder = [limiter.reserve(buckets_for(1, is_group=False, burst=3), max_wait=3600) for _ in range(30)]
    assert flooder[-1].booked and flooder[-1].wait > 20, "the flooder's own replies are paced at 1/s"

    other = limiter.reserve(buckets_for(2, is_group=False, burst=3), max_wait=3600)
    worker = limiter.reserve(buckets_for(3, is_group=False), max_wait=2.0)

    assert other.booked and other.wait < 1.0
    assert worker.booked and worker.wait < 1.0


def test_the_overall_budget_still_spaces_messages_to_many_chats(limiter):
    # When each message may go: the moment of asking plus its wait (a wait is relative to its own call,
    # and the 90 calls themselves take time, so waits alone would mix clocks).
    sends = []
    for chat in range(90):
        asked = time.monotonic()
        sends.append(asked + limiter.reserve(buckets_for(chat, is_group=False), max_wait=3600).wait)

    assert max(sends) - min(sends) > 2.5, "90 messages at 30/s take three seconds"
    for first in sends:
        window = [at for at in sends if first <= at < first + 1.0]
        assert len(window) <= 31, "at most Telegram's 30 a second (+1 at a slot's edge)"


def test_a_slot_beyond_max_wait_books_nothing(limiter):
    chat = chat_bucket(5, is_group=False)
    overall = overall_bucket()
    assert limiter.reserve([overall, chat], max_wait=0).booked
    refused = limiter.reserve([overall, chat], max_wait=0.5)

    assert not refused.booked and refused.wait > 0.5
    # Nothing was booked: the chat's next slot is still one interval away, not two.
    assert limiter.reserve([overall, chat], max_wait=2).wait <= chat.interval + 0.05


def test_a_penalty_on_the_overall_bucket_holds_every_chat(limiter):
    overall = overall_bucket()
    limiter.penalise(overall, 5)

    reservation = limiter.reserve(buckets_for(6, is_group=False), max_wait=1)

    assert not reservation.booked and reservation.wait > 4


def test_buckets_keep_working_without_the_shared_flag():
    """A bucket built by hand (bench scripts, older callers) is a plain GCRA bucket."""
    limiter = LocalRateLimiter()
    plain = Bucket("plain", 1.0, 0.0)
    assert [limiter.reserve([plain], max_wait=10).wait > 0.5 for _ in range(2)] == [False, True]


def test_paid_broadcasts_draw_on_their_own_budget_not_the_30_per_second(limiter):
    paid = [limiter.reserve(buckets_for(1000 + n, is_group=False, paid=True), max_wait=0.5) for n in range(100)]
    assert all(r.booked for r in paid), "100 paid messages fit in 0.1 s at 1,000/s"
    free = limiter.reserve(buckets_for(5000, is_group=False), max_wait=2.0)
    assert free.booked and free.wait < 0.1, "the free budget was not spent by them"
