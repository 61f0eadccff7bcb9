"""Booking through buttons, end to end: the real bot against the sandbox."""

import pytest

from bookings.models import Booking, BookingStatus
from notifications.models import Notification, NotificationStatus
from tests.notifications.harness import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_start_registers_the_user_and_shows_the_menu(bot, alice, django_user_model):
    alice.send("/start")
    reply = alice.expect_message(containing="Hello, Alice")
    assert "📋 Resources" in reply.buttons
    user = django_user_model.objects.get(telegram_id=alice.id)
    assert (user.telegram_chat_id, user.telegram_username, user.language_code) == (alice.id, "alice", "en")


def test_booking_through_buttons_ends_confirmed(bot, alice, open_resource, errors_seen):
    alice.send("/resources")
    alice.expect_message(containing="What are you looking for?")
    alice.press("Equipment").answer()
    alice.expect_message(containing="Equipment")
    alice.press("Projector").answer()
    card = alice.expect_message(containing="Room 101")
    assert "Rules" in card.text
    alice.press("📅 Book").answer()
    calendar = alice.expect_message(containing="choose a day")
    day_buttons = [label for label in calendar.buttons if label.isdigit()]
    alice.press(day_buttons[-1]).answer()
    starts = alice.expect_message(containing="choose a start")
    alice.press(starts.buttons[0]).answer()
    lengths = alice.expect_message(containing="for how long")
    alice.press(lengths.buttons[0]).answer()
    alice.expect_message(containing="Book Projector")
    alice.press("✅ Confirm").answer()
    result = alice.expect_message(containing="Booked")
    booking = Booking.objects.get()
    assert booking.status == BookingStatus.CONFIRMED
    assert result.edited  # the menu message was edited in place, not a new message per tap
    # This reply is the receipt: it carries the booking's buttons, and no second message repeats it.
    assert "✖️ Cancel booking" in result.buttons
    wait_for(
        lambda: (
            not Notification.objects.filter(user__telegram_id=alice.id)
            .exclude(status=NotificationStatus.SKIPPED)
            .exists()
        ),
        message="the held receipt to be skipped",
    )
    assert not errors_seen
