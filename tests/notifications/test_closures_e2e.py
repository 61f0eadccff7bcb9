"""A closure over live bookings, delivered by a real Celery worker: each affected booking's user
gets exactly one cancellation message, with the closure's reason in their own language."""

from datetime import timedelta

import pytest

from bookings import policies
from bookings.models import Booking, BookingStatus
from notifications.models import Notification, NotificationKind, NotificationStatus
from tests.notifications.conftest import grid_now
from tests.notifications.harness import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_closure_cancels_each_affected_booking_with_one_message_carrying_the_reason(
    stack, telegram_user, demo_resource, book, make_user
):
    alice_account, alice = telegram_user("Alice")
    ivan_account, ivan = telegram_user("Ivan", language_code="ru")
    admin = make_user(first_name="Admin", is_staff=True, language_code="en")
    room = demo_resource(name="Orion", kind="space")
    start = grid_now() + timedelta(hours=2)
    inside = [
        book(alice, room, start),
        book(alice, room, start + timedelta(minutes=10)),
        book(ivan, room, start + timedelta(minutes=20)),
    ]
    outside = book(alice, room, start + timedelta(hours=3))
    stack.wait_for_messages(alice_account.id, 3)  # the three receipts
    stack.wait_for_messages(ivan_account.id, 1)

    _closure, cancelled, running = policies.closure_create(
        resource=room,
        start=start,
        end=start + timedelta(hours=1),
        reason_kind="maintenance",
        reason="new floor",
        by=admin,
    )

    assert {b.pk for b in cancelled} == {b.pk for b in inside} and running == []
    alice_messages = stack.wait_for_messages(alice_account.id, 5)
    ivan_messages = stack.wait_for_messages(ivan_account.id, 2)
    rows = Notification.objects.filter(kind=NotificationKind.CANCELLED)
    wait_for(lambda: not rows.exclude(status=NotificationStatus.SENT).exists(), message="cancellations to be sent")
    assert sorted(rows.values_list("booking_id", flat=True)) == sorted(b.pk for b in inside)
    alice_cancellations = [m.text for m in stack.chat_messages(alice_account.id) if "is cancelled" in m.text]
    assert len(alice_cancellations) == 2 and len(alice_messages) == 5
    assert all("Reason: Closed (maintenance — new floor)" in text for text in alice_cancellations)
    ivan_cancellations = [m.text for m in stack.chat_messages(ivan_account.id) if "отменена" in m.text]
    assert len(ivan_cancellations) == 1 and len(ivan_messages) == 2
    assert "Причина: Закрыто (обслуживание — new floor)" in ivan_cancellations[0]
    assert Booking.objects.get(pk=outside.pk).status == BookingStatus.CONFIRMED
    assert not Notification.objects.filter(booking=outside).exclude(kind=NotificationKind.CONFIRMED).exists()
