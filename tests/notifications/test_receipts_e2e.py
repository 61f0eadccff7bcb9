"""No booking without its message: the bot's reply is a new booking's receipt, and when that
reply cannot be delivered the held outbox receipt goes out instead — exactly once, with its buttons.

The real bot polls the module's sandbox in this process; the real worker delivers the outbox.
"""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import Booking
from bot import callbacks as cb
from bot.app import build_application
from bot.flood import FloodGuard
from bot.sync import close_db_threads
from notifications import recovery
from notifications.models import Notification, NotificationKind, NotificationStatus
from tests.notifications.conftest import TOKEN, grid_now
from tests.notifications.harness import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

SETTLED = (NotificationStatus.SENT, NotificationStatus.SKIPPED, NotificationStatus.FAILED)


@pytest.fixture
def bot(stack, settings):
    """The Slotbot Application polling the stack's sandbox, with a private in-memory cache."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"rcpt-{uuid.uuid4()}"}
    }
    settings.BOT_RECEIPT_HOLD_SECONDS = 600  # longer than any test: only the bot's word releases a receipt
    application = build_application(
        token=TOKEN,
        base_url=stack.sandbox.base_url,
        rate_limit=False,
        flood_guard=FloodGuard(limit=10_000, window_seconds=1),
        register_commands=False,
    )
    with stack.sandbox.polling(application, poll_timeout=0.5):
        yield application
    close_db_threads()


@pytest.fixture
def person(stack):
    """make(name): a sandbox user who started the bot (the bot registers them on their first update)."""

    def make(name):
        return stack.sandbox.user(name, username=f"{name.lower()}{uuid.uuid4().hex[:6]}", started=True)

    return make


@pytest.fixture
def soon_camera(demo_resource):
    """A camera that needs check-in, so a booking starting soon gets Check in and Cancel buttons."""
    return demo_resource(name=f"Camera {uuid.uuid4().hex[:6]}", requires_check_in=True)


def typed(resource, start, minutes):
    local = start.astimezone(timezone.get_default_timezone())
    return f"/book {resource.name} {local:%Y-%m-%d} {local:%H:%M} {minutes}m"


def booked_messages(stack, account):
    return [m for m in stack.chat_messages(account.id) if "Booked" in m.text]


def receipt_row(account):
    return wait_for(
        lambda: Notification.objects.filter(
            user__telegram_id=account.id, kind=NotificationKind.CONFIRMED, status__in=SETTLED
        ).first(),
        message=f"the receipt row of {account.id} to settle",
    )


def assert_receipt_with_buttons(message):
    assert any("Check in" in label for label in message.buttons), message.buttons
    assert any("Cancel booking" in label for label in message.buttons), message.buttons


def test_a_typed_booking_whose_reply_fails_gets_exactly_one_receipt_through_the_outbox(stack, bot, person, soon_camera):
    alice = person("Alice")
    stack.sandbox.add_fault("error", count=1, methods="sendMessage", status=502)

    alice.send(typed(soon_camera, grid_now() + timedelta(minutes=10), 30))

    row = receipt_row(alice)
    assert row.status == NotificationStatus.SENT, row.last_error
    [receipt] = booked_messages(stack, alice)
    assert_receipt_with_buttons(receipt)
    assert Booking.objects.filter(user__telegram_id=alice.id).count() == 1


def test_a_typed_booking_whose_reply_arrives_gets_no_second_receipt(stack, bot, person, soon_camera):
    bob = person("Bob")

    bob.send(typed(soon_camera, grid_now() + timedelta(minutes=10), 30))

    reply = bob.expect_message(containing="Booked")
    assert_receipt_with_buttons(reply)
    row = receipt_row(bob)
    assert row.status == NotificationStatus.SKIPPED
    recovery.notifications_requeue(grace=timedelta(0))  # beat's requeue finds nothing owed
    bob.expect_no_message(timeout=1.0)
    assert len(booked_messages(stack, bob)) == 1


def test_a_pressed_confirm_whose_edit_fails_gets_exactly_one_receipt_through_the_outbox(
    stack, bot, person, soon_camera
):
    carol = person("Carol")
    start = grid_now() + timedelta(minutes=10)
    carol.send("/start")
    carol.expect_message()
    carol.press(cb.data(cb.CONFIRM, soon_camera.pk, start, 30), forge=True).answer()
    carol.expect_message(containing=f"Book {soon_camera.name}")
    stack.sandbox.add_fault("error", count=1, methods="editMessageText", status=502)

    carol.press("✅ Confirm").answer()

    row = receipt_row(carol)
    assert row.status == NotificationStatus.SENT, row.last_error
    [receipt] = booked_messages(stack, carol)
    assert not receipt.edited, "a new message from the outbox, since the edit failed"
    assert_receipt_with_buttons(receipt)


def test_a_held_receipt_goes_out_when_the_hold_ends_if_the_bot_never_reports(
    stack, telegram_user, soon_camera, settings
):
    from bookings import services

    account, user = telegram_user("Dave")
    settings.BOT_RECEIPT_HOLD_SECONDS = 1
    start = grid_now() + timedelta(minutes=10)
    services.booking_create(
        user=user, resource=soon_camera, start=start, end=start + timedelta(minutes=30), receipt=False
    )
    held = Notification.objects.get(user=user, kind=NotificationKind.CONFIRMED)
    assert held.status == NotificationStatus.PENDING and held.next_attempt_at > timezone.now()

    # The bot died before reporting: beat's requeue sends the receipt once the hold is over.
    wait_for(lambda: recovery.notifications_requeue(grace=timedelta(0))[0], message="the hold to end")

    [receipt] = stack.wait_for_messages(account.id, 1)
    assert "Booked" in receipt.text
    assert_receipt_with_buttons(receipt)


def test_bookings_made_while_telegram_fails_each_get_exactly_one_receipt(stack, bot, person, demo_resource):
    """The figure in the report: N bookings, N injected 502s on sendMessage (replies, apologies
    and the worker's sends all draw on them)."""
    count = 20
    resource = demo_resource(name=f"Bench {uuid.uuid4().hex[:6]}")
    people = [person(f"P{i}") for i in range(count)]
    stack.sandbox.add_fault("error", count=count, methods="sendMessage", status=502)
    first = grid_now() + timedelta(hours=1)

    for i, account in enumerate(people):
        account.send(typed(resource, first + timedelta(minutes=30 * i), 30))

    rows = [receipt_row(account) for account in people]
    for account in people:
        wait_for(lambda a=account: booked_messages(stack, a), message=f"a receipt in {account.id}'s chat")
    receipts = {account.id: len(booked_messages(stack, account)) for account in people}
    via_outbox = sum(row.status == NotificationStatus.SENT for row in rows)
    print(
        f"\n{count} bookings, {count} x 502 on sendMessage: receipts per chat {sorted(set(receipts.values()))}, "
        f"{via_outbox} via the outbox, {count - via_outbox} the bot's own reply, "
        f"{stack.sandbox.stats()['injected_faults']} faults injected"
    )
    assert Booking.objects.filter(resource=resource).count() == count
    assert set(receipts.values()) == {1}, receipts
    assert all(row.status in (NotificationStatus.SENT, NotificationStatus.SKIPPED) for row in rows)
