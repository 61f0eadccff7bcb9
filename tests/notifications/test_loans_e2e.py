"""Overdue escalation and suspensions, delivered by a real Celery worker to the sandbox, each message exactly once."""

from datetime import timedelta

import pytest

from bookings import services as bookings_services
from bookings.models import Booking, BookingStatus
from notifications import outbox
from notifications.models import Notification, NotificationKind
from tests.notifications.conftest import grid_now

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_overdue_item_tells_owner_admins_and_next_user_once_then_reminds_once_per_step(
    stack, telegram_user, demo_resource, book, settings
):
    settings.OVERDUE_REMINDER_MINUTES = [15, 60]
    settings.OVERDUE_REMINDER_REPEAT_MINUTES = 24 * 60
    alice_account, alice = telegram_user("Alice")
    bob_account, bob = telegram_user("Bob")
    laptop = demo_resource(name="Laptop 1", kind="equipment", requires_check_in=True)
    start = grid_now() - timedelta(minutes=30)
    loan = book(alice, laptop, start)
    bookings_services.booking_check_in(booking=loan, by=alice, now=start)
    following = book(bob, laptop, grid_now() + timedelta(minutes=60))
    stack.wait_for_messages(alice_account.id, 1)
    stack.wait_for_messages(bob_account.id, 1)
    admin_before = len(stack.chat_messages(stack.admin_group.id))

    assert bookings_services.bookings_mark_overdue(now=loan.end) == 1
    assert bookings_services.bookings_mark_overdue(now=loan.end + timedelta(minutes=1)) == 0

    told = stack.wait_for_messages(alice_account.id, 2)[1]
    assert "was due back" in told.text and "Laptop 1" in told.text
    assert told.buttons == ["Returned"]
    alert = stack.wait_for_messages(stack.admin_group.id, admin_before + 1)[-1]
    assert "Overdue" in alert.text and "Alice" in alert.text
    assert alert.buttons == ["Mark returned"]
    warned = stack.wait_for_messages(bob_account.id, 2)[1]
    assert "may not be ready on time" in warned.text

    end = loan.end
    reminders_written = Notification.objects.filter(booking=loan, kind=NotificationKind.OVERDUE_REMINDER).count
    for minutes, total in [(14, 0), (15, 1), (30, 1), (60, 2), (61, 2), (60 + 1440, 3), (60 + 1441, 3)]:
        outbox.notifications_create_overdue_reminders(now=end + timedelta(minutes=minutes))
        assert reminders_written() == total, minutes

    reminders = stack.wait_for_messages(alice_account.id, 5)[2:]
    assert all("still not back" in m.text and m.buttons == ["Returned"] for m in reminders)
    kinds = list(Notification.objects.filter(booking=loan).values_list("kind", flat=True))
    assert sorted(kinds) == sorted(
        [NotificationKind.CONFIRMED, NotificationKind.OVERDUE, NotificationKind.ADMIN_OVERDUE]
        + [NotificationKind.OVERDUE_REMINDER] * 3
    )
    assert Notification.objects.filter(booking=following, kind=NotificationKind.NEXT_MAY_BE_LATE).count() == 1

    # Returned: no further reminder is written, and the admins' button would find nothing to mark.
    bookings_services.booking_return(booking=Booking.objects.get(pk=loan.pk), by=alice)
    outbox.notifications_create_overdue_reminders(now=end + timedelta(days=5))
    assert reminders_written() == 3
    assert Booking.objects.get(pk=loan.pk).status == BookingStatus.COMPLETED
    assert len(stack.chat_messages(alice_account.id)) == 5  # the owner's own Return is answered where pressed


def test_suspension_tells_the_user_and_the_admins_with_a_lift_button(stack, telegram_user, demo_resource, book):
    account, user = telegram_user("Carol")
    resource = demo_resource(requires_check_in=True, check_in_grace_minutes=5)
    start = grid_now() - timedelta(minutes=60)
    for i in range(3):
        book(user, resource, start + timedelta(minutes=10 * i))
    stack.wait_for_messages(account.id, 3)
    admin_before = len(stack.chat_messages(stack.admin_group.id))

    bookings_services.bookings_expire_no_shows()  # three no-shows: three strikes, one suspension

    messages = stack.wait_for_messages(account.id, 7)
    assert sum("You may not book until" in m.text for m in messages) == 1
    admin = stack.wait_for_messages(stack.admin_group.id, admin_before + 2)
    lifts = [m for m in admin[admin_before:] if "is suspended from booking" in m.text]
    assert len(lifts) == 1 and lifts[0].buttons == ["Lift suspension"]
