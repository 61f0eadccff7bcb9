"""The bot's replies and the notification workers share one flood budget (bot/ratelimit.py).

These run against the sandbox with Telegram's flood limits on (30/s overall with
a burst of 33, 5 at once then 1/s per chat) and a real Redis on 127.0.0.1:6379,
in a database of this module's own.
"""

import asyncio
import socket
import threading
import zlib

import pytest
import redis
from telegram.error import RetryAfter
from telegram.ext import Application

from bot.app import build_application
from bot.ratelimit import CHAT_BURST, GROUP_BURST, SharedRateLimiter, buckets_for_request
from core import ratelimit
from core.ratelimit import RedisRateLimiter, buckets_for, redis_client
from sandbox.testing import run_sandbox
from tests.bot.conftest import GENEROUS, TOKEN
from tests.notifications.harness import wait_for

# PTB 22 warns that RetryAfter.retry_after will become a timedelta; bot/ratelimit.py takes both.
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")

REDIS_URL = f"redis://127.0.0.1:6379/{1 + zlib.crc32(__name__.encode()) % 15}"


@pytest.fixture
def limited_sandbox():
    with run_sandbox(tokens=[TOKEN]) as client:
        yield client


@pytest.fixture
def shared_redis(settings):
    """REDIS_URL set for this process, as in production; the database is emptied first."""
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    settings.REDIS_URL = REDIS_URL
    ratelimit.get_rate_limiter.cache_clear()
    yield client
    ratelimit.get_rate_limiter.cache_clear()
    client.flushdb()


def slotbot(sandbox):
    return build_application(
        token=TOKEN,
        base_url=sandbox.base_url,
        rate_limit=True,
        flood_guard=GENEROUS,
        register_commands=False,
        with_updater=False,
    )


async def send_all(application, messages):
    async with application:
        return await asyncio.gather(*(application.bot.send_message(chat_id, text) for chat_id, text in messages))


def test_which_requests_count_against_which_bucket():
    to_user = buckets_for_request("sendMessage", {"chat_id": 42, "text": "hi"})
    assert [b.key for b in to_user] == ["all", "chat:42"]
    assert to_user[1].tolerance == pytest.approx((CHAT_BURST - 1) * to_user[1].interval)
    to_group = buckets_for_request("sendMessage", {"chat_id": "-100", "text": "hi"})
    assert [b.key for b in to_group] == ["all", "group:-100"]
    assert to_group[1].tolerance == pytest.approx((GROUP_BURST - 1) * to_group[1].interval)
    assert [b.key for b in buckets_for_request("sendDocument", {"chat_id": 7})] == ["all", "chat:7"]
    assert [b.key for b in buckets_for_request("editMessageText", {"chat_id": 7, "message_id": 1})] == ["all"]
    assert [b.key for b in buckets_for_request("sendMessage", {"chat_id": "@channel"})] == ["all"]
    for free in ("answerCallbackQuery", "sendChatAction", "getUpdates", "deleteMessage", "setMyCommands"):
        assert buckets_for_request(free, {"chat_id": 7}) == [], free
    # The workers' buckets are the same keys, run strictly at the steady rate.
    assert [(b.key, b.tolerance) for b in buckets_for(42, is_group=False)] == [("all", 0.0), ("chat:42", 0.0)]


def test_bot_replies_and_a_worker_in_another_process_share_one_budget(limited_sandbox, shared_redis):
    """45 bot messages and 45 worker messages at once: 90 in all, three times what Telegram
    takes in a second. Each on its own budget they would run at 60/s and be refused."""
    sandbox = limited_sandbox
    users = [sandbox.user(f"User {n}", started=True) for n in range(90)]
    bot_side, worker_side = users[:45], users[45:]
    worker_limiter = RedisRateLimiter(redis.Redis.from_url(REDIS_URL))  # its own connection, as in a worker
    worker_errors = []

    def worker():
        for user in worker_side:
            reservation = worker_limiter.reserve(buckets_for(user.id, is_group=False), max_wait=60)
            threading.Event().wait(reservation.wait)
            answer = sandbox.bot_api("sendMessage", chat_id=user.id, text="reminder")
            if not answer["ok"]:
                worker_errors.append(answer)

    thread = threading.Thread(target=worker)
    thread.start()
    sent = asyncio.run(send_all(slotbot(sandbox), [(user.id, "your booking") for user in bot_side]))
    thread.join()

    assert len(sent) == 45 and worker_errors == []
    assert sandbox.stats()["flood_429"] == 0, "together they must stay under Telegram's 30/s"
    assert all(len(user.bot_messages()) == 1 for user in users)


def test_a_burst_of_replies_to_one_chat_is_paced_not_refused(limited_sandbox, shared_redis):
    sandbox = limited_sandbox
    alice = sandbox.user("Alice", started=True)
    texts = [f"part {n}" for n in range(7)]  # the sandbox takes 5 at once, then 1/s

    asyncio.run(send_all(slotbot(sandbox), [(alice.id, text) for text in texts]))

    assert sorted(message["text"] for message in alice.bot_messages()) == sorted(texts)
    assert sandbox.stats()["flood_429"] == 0


def test_a_429_is_retried_and_holds_the_workers_back_from_that_chat(limited_sandbox, shared_redis):
    sandbox = limited_sandbox
    alice = sandbox.user("Alice", started=True)
    sandbox.add_fault("flood", count=1, methods="sendMessage", retry_after=2)

    asyncio.run(send_all(slotbot(sandbox), [(alice.id, "booked")]))

    assert [message["text"] for message in alice.bot_messages()] == ["booked"]
    # Telegram's retry_after was booked on Alice's bucket in Redis: a worker may not send to her now.
    reservation = ratelimit.get_rate_limiter().reserve(buckets_for(alice.id, is_group=False), max_wait=0)
    assert not reservation.booked and reservation.wait > 0


def test_retries_give_up_after_max_retries(limited_sandbox, shared_redis):
    sandbox = limited_sandbox
    alice = sandbox.user("Alice", started=True)
    sandbox.add_fault("flood", count=5, methods="sendMessage", retry_after=1)
    application = (
        Application.builder()
        .token(TOKEN)
        .base_url(sandbox.base_url)
        .rate_limiter(SharedRateLimiter(max_retries=1))
        .updater(None)
        .build()
    )

    async def scenario():
        async with application:
            with pytest.raises(RetryAfter):
                await application.bot.send_message(alice.id, "booked")

    asyncio.run(scenario())
    assert alice.bot_messages() == []
    assert sandbox.stats()["injected_faults"] == 2, "the first try and one retry, then the 429 reaches the caller"


def test_replies_still_go_out_paced_when_redis_is_unreachable(limited_sandbox, caplog):
    sandbox = limited_sandbox
    users = [sandbox.user(f"User {n}", started=True) for n in range(40)]
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    nowhere = RedisRateLimiter(redis_client(f"redis://127.0.0.1:{port}/0"))  # as get_rate_limiter() builds it
    application = (
        Application.builder()
        .token(TOKEN)
        .base_url(sandbox.base_url)
        .rate_limiter(SharedRateLimiter(max_retries=0, limiter=nowhere))
        .updater(None)
        .build()
    )

    asyncio.run(send_all(application, [(user.id, "your booking") for user in users]))

    assert all(len(user.bot_messages()) == 1 for user in users)
    assert sandbox.stats()["flood_429"] == 0, "paced by the process's own buckets meanwhile"
    assert "Redis is unreachable" in caplog.text


def drained(user, quiet=2.0):
    """Read the user's chat until the bot has been quiet for `quiet` seconds (the backlog is sent)."""
    while True:
        try:
            user.expect_message(timeout=quiet)
        except AssertionError:
            return


@pytest.mark.django_db(transaction=True)
def test_one_users_burst_does_not_delay_another_users_replies_or_a_worker(limited_sandbox, shared_redis):
    """Alice's 30 queued replies take ~28 s at her chat's 1/s. Bob's replies and a worker's
    message to Carol must not queue behind them (the flood guard is off: the limiter alone)."""
    sandbox = limited_sandbox
    alice, bob, carol = (sandbox.user(name, started=True) for name in ("Alice", "Bob", "Carol"))
    application = build_application(
        token=TOKEN, base_url=sandbox.base_url, rate_limit=True, flood_guard=GENEROUS, register_commands=False
    )
    worker_limiter = RedisRateLimiter(redis.Redis.from_url(REDIS_URL))  # as a worker process has it

    with sandbox.polling(application, poll_timeout=0.5):
        for _ in range(30):
            alice.send("/help")
        # Her burst is answered, then 1/s: by now every one of the 30 replies has booked its slot.
        wait_for(lambda: len(alice.bot_messages()) >= 4, timeout=15, message="Alice's first replies")

        for _ in range(3):
            bob.send("/help")
            bob.expect_message(timeout=5)
        # A worker books as notifications do (max_wait 2 s: beyond it the task is rescheduled).
        reservation = worker_limiter.reserve(buckets_for(carol.id, is_group=False), max_wait=2.0)
        sent_to_carol = sandbox.bot_api("sendMessage", chat_id=carol.id, text="reminder")
        overtaken = len(alice.bot_messages())

    assert reservation.booked and reservation.wait < 1.0, "the worker is not held back by Alice's backlog"
    assert sent_to_carol["ok"]
    assert overtaken < 30, "Bob's replies and Carol's message came before Alice's backlog was drained"
    assert len(alice.bot_messages()) == 30, "Alice's replies are paced, not lost"
    assert sandbox.stats()["flood_429"] == 0


@pytest.mark.django_db(transaction=True)
def test_a_user_outrunning_their_replies_is_told_once_to_slow_down(limited_sandbox, shared_redis, settings):
    """With the bot's own flood guard (settings): a burst of 30 gets the replies that fit in the
    chat's reply backlog and one "slow down", not 30 replies spread over half a minute."""
    sandbox = limited_sandbox
    alice, bob = sandbox.user("Alice", started=True), sandbox.user("Bob", started=True)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "slow"}}
    application = build_application(token=TOKEN, base_url=sandbox.base_url, rate_limit=True, register_commands=False)

    with sandbox.polling(application, poll_timeout=0.5):
        for _ in range(30):
            alice.send("/help")
        alice.expect_message(containing="too fast", timeout=15)
        bob.send("/help")
        bob.expect_message(timeout=5)
        drained(alice)

    texts = [message.text for message in alice.bot_messages()]
    assert sum("too fast" in text for text in texts) == 1
    answered = len(texts) - 1
    assert 3 <= answered <= 10, f"{answered} replies: the burst of 3 and ~{settings.BOT_REPLY_BACKLOG_SECONDS} s' worth"
    assert sandbox.stats()["flood_429"] == 0
