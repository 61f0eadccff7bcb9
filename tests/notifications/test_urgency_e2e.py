"""Urgent messages queued after informational ones still reach their chats first (Redis priorities, a real worker)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import Booking, BookingStatus
from notifications import outbox
from notifications.models import Notification, NotificationKind, NotificationStatus
from tests.notifications.conftest import grid_now
from tests.notifications.harness import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_reminders_queued_after_a_flood_of_thank_yous_are_delivered_before_it(stack, telegram_user, demo_resource):
    people = [telegram_user(f"Prio{i}") for i in range(12)]
    now = timezone.now()
    over, upcoming = [], []
    for i, (_account, user) in enumerate(people):
        resource = demo_resource(name=f"Room {i}", kind="space")
        over.append(
            Booking.objects.create(
                user=user,
                resource=resource,
                start=now - timedelta(hours=2),
                end=now - timedelta(hours=1),
                blocked_until=now - timedelta(hours=1),
                status=BookingStatus.COMPLETED,
            )
        )
        start = grid_now() + timedelta(minutes=10)
        upcoming.append(
            Booking.objects.create(
                user=user,
                resource=resource,
                start=start,
                end=start + timedelta(minutes=30),
                blocked_until=start + timedelta(minutes=30),
                status=BookingStatus.CONFIRMED,
            )
        )
    Booking.objects.update(created_at=now - timedelta(days=1))  # booked long before the reminder window
    stack.worker.stop()
    try:
        # Six "is over" messages first, then the twelve reminders: all wait in Redis for the worker.
        outbox.notifications_for_transition(
            bookings=over[:6], from_status=BookingStatus.ACTIVE, to_status=BookingStatus.COMPLETED
        )
        assert outbox.notifications_create_reminders() == 12
    finally:
        stack.worker.start()

    wait_for(
        lambda: not Notification.objects.exclude(status=NotificationStatus.SENT).exists(),
        message=f"every message sent; worker log:\n{stack.worker.tail()}",
    )
    reminders = sorted(
        Notification.objects.filter(kind=NotificationKind.REMINDER_START).values_list("sent_at", flat=True)
    )
    thanks = sorted(Notification.objects.filter(kind=NotificationKind.COMPLETED).values_list("sent_at", flat=True))
    # The worker's two processes may hold one "is over" each beside the last reminders.
    assert reminders[-3] < thanks[0], (reminders, thanks)
    for account, _user in people[:6]:  # a chat owed both got both, once each
        assert len(stack.chat_messages(account.id)) == 2
