"""Booking in the bot: a second tap for the same slot answers with the first booking's receipt."""

import pytest
from django.utils import timezone

from bookings.models import Booking, BookingStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_booking_the_same_slot_twice_shows_the_first_booking_again(bot, alice, open_resource, slot, errors_seen):
    start, _end = slot(hours_ahead=6)
    local = start.astimezone(timezone.get_default_timezone())
    command = f"/book projector {local:%Y-%m-%d} {local:%H:%M} 1h"
    alice.send(command)
    alice.expect_message(containing="Booked")
    alice.send(command)
    again = alice.expect_message(containing="Booked")
    booking = Booking.objects.get()
    assert "✖️ Cancel booking" in again.buttons  # the receipt's buttons, not "taken" alternatives
    assert booking.status == BookingStatus.CONFIRMED
    assert not errors_seen
