"""The per-user flood limit: one limit for all processes that share a cache, per user, sliding."""

import uuid

import pytest
from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

from bot.flood import DROP, OK, WARN, FloodGuard
from core.ratelimit import LocalRateLimiter

ALICE, BOB = 1001, 1002
WINDOW = 10


class Clock:
    """Wall-clock time the test moves by hand (every guard reads the same one, as hosts would)."""

    def __init__(self):
        self.now = 1_900_000_000.0  # the start of a window

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture(params=["redis", "locmem"])
def shared_cache(request):
    """The cache two bot processes would share: Redis (production), or one process's memory."""
    prefix = f"slotbot-test-{uuid.uuid4()}"
    if request.param == "locmem":
        yield LocMemCache(prefix, {})
        return
    cache = RedisCache(settings.REDIS_URL or "redis://127.0.0.1:6379/0", {"KEY_PREFIX": prefix})
    yield cache
    client = cache._cache.get_client(write=True)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def guards(cache, clock, count=2, limit=3):
    """`count` guards over one cache, as `count` webhook processes would each build one."""
    return [FloodGuard(limit=limit, window_seconds=WINDOW, cache=cache, clock=clock) for _ in range(count)]


def test_two_guards_sharing_a_cache_enforce_one_limit(shared_cache, clock):
    first, second = guards(shared_cache, clock)

    verdicts = [first.check(ALICE), second.check(ALICE), first.check(ALICE), second.check(ALICE), first.check(ALICE)]

    assert verdicts == [OK, OK, OK, WARN, DROP]


def test_a_flood_from_one_user_does_not_limit_another(shared_cache, clock):
    first, second = guards(shared_cache, clock)
    for _ in range(10):
        first.check(ALICE)

    assert second.check(BOB) == OK
    assert first.check(ALICE) == DROP


def test_the_limit_frees_up_as_the_window_slides_past(shared_cache, clock):
    (guard,) = guards(shared_cache, clock, count=1)
    for _ in range(3):
        guard.check(ALICE)
    assert guard.check(ALICE) == WARN

    clock.now += WINDOW  # next window: the last one's 3 still lie wholly within the sliding window
    assert guard.check(ALICE) == WARN

    clock.now += WINDOW / 2  # half of them have slid out: room for one more (this window warned already)
    assert [guard.check(ALICE) for _ in range(2)] == [OK, DROP]


def test_dropped_updates_do_not_prolong_the_flood(shared_cache, clock):
    (guard,) = guards(shared_cache, clock, count=1)
    for _ in range(3):
        guard.check(ALICE)
    for _ in range(50):
        assert guard.check(ALICE) in (WARN, DROP)

    clock.now += 2 * WINDOW

    assert [guard.check(ALICE) for _ in range(3)] == [OK, OK, OK]


def test_each_window_warns_once(shared_cache, clock):
    (guard,) = guards(shared_cache, clock, count=1, limit=1)
    guard.check(ALICE)
    first_window = [guard.check(ALICE) for _ in range(3)]
    clock.now += WINDOW
    second_window = [guard.check(ALICE) for _ in range(3)]

    assert first_window == [WARN, DROP, DROP]
    assert second_window == [WARN, DROP, DROP]


def test_an_unreachable_redis_lets_updates_through(clock, caplog):
    unreachable = RedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.5}})
    (guard,) = guards(unreachable, clock, count=1, limit=1)

    assert [guard.check(ALICE) for _ in range(3)] == [OK, OK, OK]
    assert "shared cache failed" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_flooding_user_is_told_once_and_others_are_still_served(make_bot, alice, bob):
    make_bot(flood_guard=FloodGuard(limit=2, window_seconds=60))
    for _ in range(5):
        alice.send("/start")

    replies = [alice.expect_message().text for _ in range(3)]
    bob.send("/start")
    bob.expect_message(containing="Hello")
    alice.expect_no_message()

    assert sum("Hello" in text for text in replies) == 2
    assert sum("too fast" in text for text in replies) == 1


def test_messages_beyond_the_chats_reply_backlog_are_dropped_with_one_warning(shared_cache, clock):
    guard = FloodGuard(
        limit=1000, window_seconds=WINDOW, cache=shared_cache, clock=clock, reply_backlog=5, limiter=LocalRateLimiter()
    )

    verdicts = [guard.check_update(ALICE, reply_chat_id=ALICE) for _ in range(30)]

    # 3 replies at once, then one a second: the 8th waits 5 s, the 9th would wait 6.
    assert verdicts == [OK] * 8 + [WARN] + [DROP] * 21
    assert guard.check_update(BOB, reply_chat_id=BOB) == OK, "another chat has its own reply queue"
    assert guard.check_update(ALICE) == OK, "a button press books no reply and is let through"


def test_a_window_warning_after_a_backlog_warning_is_not_a_second_notice(shared_cache, clock):
    guard = FloodGuard(
        limit=10, window_seconds=WINDOW, cache=shared_cache, clock=clock, reply_backlog=5, limiter=LocalRateLimiter()
    )

    verdicts = [guard.check_update(ALICE, reply_chat_id=ALICE) for _ in range(30)]

    assert verdicts.count(WARN) == 1
