"""Faults: whatever breaks, every notification reaches its chat exactly once and none is lost.

Counted in the sandbox's transcript, with a real worker process and real Redis.
"""

import random
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import BookingStatus
from core.models import User
from notifications import recovery
from notifications.models import Notification, NotificationKind, NotificationStatus
from tests.notifications.conftest import grid_now
from tests.notifications.harness import RedisServer, Worker, process_env, publishing_to, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SETTLED = (NotificationStatus.SENT, NotificationStatus.FAILED, NotificationStatus.UNCERTAIN, NotificationStatus.SKIPPED)


def wait_until_settled(stack, *, timeout=60):
    wait_for(
        lambda: not Notification.objects.exclude(status__in=SETTLED).exists(),
        timeout=timeout,
        message=f"every notification settled; worker log:\n{stack.worker.tail()}",
    )


def people_with_due_bookings(telegram_user, demo_resource, book, count):
    """`count` users, each with a booking that started a few minutes ago (confirmed, not active yet)."""
    resource = demo_resource()
    start = grid_now() - timedelta(minutes=5 * count)
    people = [telegram_user(f"U{i}") for i in range(count)]
    for i, (_, user) in enumerate(people):
        book(user, resource, start + timedelta(minutes=5 * i))
    return [account for account, _ in people]


def assert_each_chat_got(stack, accounts, texts):
    for account in accounts:
        got = [m.text for m in stack.chat_messages(account.id)]
        rows = list(
            Notification.objects.filter(chat_id=account.id).values_list("kind", "status", "attempts", "last_error")
        )
        assert len(got) == len(texts), f"chat {account.id}: {got}; outbox: {rows}"
        for text, expected in zip(got, texts):
            assert expected in text


def test_worker_killed_mid_batch_and_restarted_delivers_each_message_once(stack, telegram_user, demo_resource, book):
    accounts = people_with_due_bookings(telegram_user, demo_resource, book, 16)
    for account in accounts:
        stack.wait_for_messages(account.id, 1)
    total = lambda: sum(len(stack.chat_messages(a.id)) for a in accounts)  # noqa: E731

    stack.send_task("bookings.tasks.start_due")
    wait_for(lambda: total() >= len(accounts) + 4, message="the batch to be under way")
    # Catch both pool processes in the worst window: Telegram holds their
    # requests (it has them, we have no answer yet) when the worker dies.
    stack.sandbox.pause()
    in_flight = Notification.objects.filter(status=NotificationStatus.SENDING)
    wait_for(
        lambda: in_flight.filter(claimed_at__lt=timezone.now() - timedelta(seconds=0.3)).count() == 2,
        message="both pool processes to be waiting on Telegram",
    )
    delivered_before_kill = total()
    stack.worker.kill()
    stack.sandbox.resume()  # Telegram goes on to show the two messages nobody will hear about
    wait_for(lambda: total() == delivered_before_kill + 2, message="the two held messages to arrive")

    # What beat's requeue task does after a lease: settle the rows the dead
    # worker held (not resent), queue the pending ones (their tasks died unacked).
    queued, uncertain = recovery.notifications_requeue(lease=timedelta(0), grace=timedelta(0))
    assert uncertain == 2 and queued > 0
    stack.worker.start()
    wait_until_settled(stack)

    assert_each_chat_got(stack, accounts, ["Booked", "has started"])
    assert Notification.objects.filter(status=NotificationStatus.UNCERTAIN).count() == 2
    assert not Notification.objects.filter(status=NotificationStatus.FAILED, user__isnull=False).exists()


def test_worker_killed_at_a_random_moment_sends_nothing_twice_and_loses_nothing_silently(
    stack, telegram_user, demo_resource, book
):
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    accounts = people_with_due_bookings(telegram_user, demo_resource, book, 12)
    for account in accounts:
        stack.wait_for_messages(account.id, 1)
    # Telegram's answers take 50–300 ms, so a kill often lands while it holds a request.
    stack.sandbox.set_faults(latency_ms=50, latency_jitter_ms=250, methods=["sendMessage"], seed=seed)
    total = lambda: sum(len(stack.chat_messages(a.id)) for a in accounts)  # noqa: E731

    stack.send_task("bookings.tasks.start_due")
    wait_for(lambda: total() >= len(accounts) + rng.randrange(1, len(accounts) // 2), message="the batch under way")
    time.sleep(rng.uniform(0, 0.3))  # the random moment is the point of this test: no condition to wait for
    stack.worker.kill()
    wait_until_telegram_answered_everything(stack)

    recovery.notifications_requeue(lease=timedelta(0), grace=timedelta(0))  # beat's requeue, after the lease
    stack.worker.start()
    wait_until_settled(stack)
    wait_until_telegram_answered_everything(stack)

    assert_sent_once_uncertain_at_most_once(stack, accounts, seed)


def wait_until_telegram_answered_everything(stack):
    """Requests Telegram holds (latency) are carried out even if their worker died: let them land."""
    wait_for(lambda: stack.sandbox.stats()["in_progress"] == 0, message="the sandbox to answer every call")


def assert_sent_once_uncertain_at_most_once(stack, accounts, seed):
    """Every row ends sent or uncertain; a sent row's message is in its chat once, an uncertain one at most once."""
    fragments = {NotificationKind.CONFIRMED: "Booked", NotificationKind.ACTIVE: "has started"}
    rows = Notification.objects.filter(chat_id__in=[a.id for a in accounts])
    assert set(rows.values_list("status", flat=True)) <= {NotificationStatus.SENT, NotificationStatus.UNCERTAIN}, seed
    for account in accounts:
        got = stack.chat_messages(account.id)
        texts = [m.text for m in got]
        outbox = list(rows.filter(chat_id=account.id).values_list("kind", "status", "telegram_message_id"))
        context = f"seed {seed}, chat {account.id}: {texts}; outbox: {outbox}"
        assert len(set(texts)) == len(texts), f"a message arrived twice; {context}"
        for kind, status, message_id in outbox:
            copies = sum(fragments[kind] in text for text in texts)
            if status == NotificationStatus.SENT:
                assert copies == 1 and message_id in [m.message_id for m in got], context
            else:
                assert copies <= 1, context
        assert len(texts) <= len(outbox), f"a message nobody owed; {context}"


def test_redis_down_while_bookings_are_made_then_back_delivers_everything_once(
    stack, sandbox, telegram_user, demo_resource, book
):
    own_redis = RedisServer()
    own_redis.start()
    worker = Worker(process_env(**{**_settings_of(stack), "REDIS_URL": own_redis.url}), concurrency=2).start()
    try:
        with publishing_to(own_redis.url):
            own_redis.stop()
            resource = demo_resource()
            start = grid_now() + timedelta(hours=1)
            people = [telegram_user(f"R{i}") for i in range(5)]
            for i, (_, user) in enumerate(people):
                book(user, resource, start + timedelta(minutes=5 * i))  # the booking itself succeeds
            assert Notification.objects.filter(status=NotificationStatus.PENDING).count() == len(people)

            own_redis.start()  # the worker reconnects on its own
            recovery.notifications_requeue(grace=timedelta(0))  # beat's periodic requeue
            wait_until_settled(stack)
    finally:
        worker.stop()
        own_redis.cleanup()

    assert_each_chat_got(stack, [account for account, _ in people], ["Booked"])
    assert set(Notification.objects.values_list("status", flat=True)) == {NotificationStatus.SENT}


def _settings_of(stack):
    return {key: stack.env[key] for key in ("TELEGRAM_BASE_URL", "TELEGRAM_ADMIN_CHAT_ID", "ADMIN_DIGEST_SECONDS")}


def test_server_errors_and_floods_are_retried_until_each_message_arrives_once(
    stack, telegram_user, demo_resource, book
):
    stack.sandbox.set_faults(error_rate=0.3, methods=["sendMessage"], seed=5)
    stack.sandbox.add_fault("flood", count=3, methods="sendMessage", retry_after=1)
    accounts = people_with_due_bookings(telegram_user, demo_resource, book, 8)
    stack.send_task("bookings.tasks.start_due")

    for account in accounts:
        stack.wait_for_messages(account.id, 2, timeout=90)
    wait_until_settled(stack)

    assert_each_chat_got(stack, accounts, ["Booked", "has started"])
    rows = Notification.objects.filter(user__isnull=False)
    assert set(rows.values_list("status", flat=True)) == {NotificationStatus.SENT}
    assert any(row.attempts > 1 for row in rows), "the faults should have forced retries"
    assert rows.filter(last_error="").count() == rows.count()  # cleared on success


def test_user_who_blocked_the_bot_is_marked_unreachable_and_not_retried(stack, telegram_user, demo_resource, book):
    (blocker, blocker_user), (friend, _) = telegram_user("Mallory"), telegram_user("Trent")
    blocker.block()
    resource = demo_resource()
    start = grid_now() - timedelta(minutes=10)
    book(blocker_user, resource, start)
    book(_, resource, start + timedelta(minutes=5))
    stack.wait_for_messages(friend.id, 1)
    wait_until_settled(stack)

    stack.send_task("bookings.tasks.start_due")
    stack.wait_for_messages(friend.id, 2)
    wait_until_settled(stack)

    assert stack.chat_messages(blocker.id) == []
    assert User.objects.get(pk=blocker_user.pk).is_reachable is False
    failed = Notification.objects.filter(user=blocker_user)
    assert [(n.kind, n.status) for n in failed.order_by("id")] == [
        (NotificationKind.CONFIRMED, NotificationStatus.FAILED),
        (NotificationKind.ACTIVE, NotificationStatus.FAILED),
    ]
    confirmed, started = failed.order_by("id")
    assert "blocked" in confirmed.last_error and confirmed.attempts == 1
    assert started.attempts == 0  # known unreachable: no second call to Telegram
    assert blocker_user.bookings.get().status == BookingStatus.ACTIVE  # the booking itself is unaffected
