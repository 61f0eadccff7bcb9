"""The admin's Extend by 30 minutes and Move: the same services, refusals read as in the bot and the API."""

import pytest
from django.contrib.messages import get_messages

from bookings.models import Booking

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/bookings/booking/"


def _messages(response):
    return [str(m.message) for m in get_messages(response.wsgi_request)]


def test_staff_extend_a_booking_by_half_an_hour(admin_client, book, user, studio, local_day):
    booking = book(user, studio, local_day(10))
    response = admin_client.post(
        CHANGELIST, {"action": "extend_bookings", "_selected_action": [booking.pk]}, follow=True
    )
    assert "1 booking extended." in _messages(response)
    assert Booking.objects.get(pk=booking.pk).end == local_day(11, 30)


def test_an_extension_into_another_booking_is_refused_with_the_domains_message(
    admin_client, book, user, other_user, studio, local_day
):
    booking = book(user, studio, local_day(10))
    book(other_user, studio, local_day(11))
    response = admin_client.post(
        CHANGELIST, {"action": "extend_bookings", "_selected_action": [booking.pk]}, follow=True
    )
    assert any("already booked" in m for m in _messages(response))
    assert Booking.objects.get(pk=booking.pk).end == local_day(11)


def test_staff_move_a_booking_after_giving_the_new_times(admin_client, book, user, studio, local_day):
    booking = book(user, studio, local_day(10))
    asked = admin_client.post(CHANGELIST, {"action": "move_bookings", "_selected_action": [booking.pk]})
    assert asked.status_code == 200 and "New start" in asked.content.decode()

    fmt = "%Y-%m-%d %H:%M"
    response = admin_client.post(
        CHANGELIST,
        {
            "action": "move_bookings",
            "_selected_action": [booking.pk],
            "apply": "1",
            "start": local_day(14).strftime(fmt),
            "end": local_day(15).strftime(fmt),
        },
        follow=True,
    )
    assert "1 booking moved." in _messages(response)
    fresh = Booking.objects.get(pk=booking.pk)
    assert (fresh.start, fresh.end) == (local_day(14), local_day(15))
