"""Typed /book on DST days, and typed input that no booking can have, through the real bot and the sandbox.

Europe/Berlin (the test zone and the users' default): 2030-03-31 skips
02:00–03:00, 2030-10-27 repeats it. A length is real elapsed time, and a
local time the clock change makes unclear is refused with the domain's
words, the same the REST API answers.
"""

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from bookings.models import Booking
from bot import texts
from core.models import User

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def far_ahead(make_resource):
    """Open around the clock and bookable years ahead, so 2030's DST days are bookable from the real clock."""
    return make_resource(name="Projector", hours=None, max_duration_minutes=8 * 60, max_advance_days=20_000)


def api_words_for(start):
    """The API's words for a booking starting at local `start` (no offset) on the resource."""
    client = APIClient()
    client.force_authenticate(User.objects.get(telegram_id__isnull=False))
    resource = Booking._meta.get_field("resource").related_model.objects.get()
    response = client.post(
        "/api/bookings/", {"resource": resource.pk, "start": start, "end": "2031-01-01T10:00:00"}, format="json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_datetime"
    return response.json()["fields"]["start"][0]


def test_a_typed_booking_on_the_spring_forward_day_lasts_the_real_length(bot, alice, far_ahead):
    alice.send(f"/book {far_ahead.name} 2030-03-31 01:00 2h")

    alice.expect_message(containing="Booked: Projector")
    booking = Booking.objects.get()
    assert booking.start == datetime(2030, 3, 31, 0, 0, tzinfo=UTC)  # 01:00 CET
    assert booking.end - booking.start == timedelta(hours=2)  # ends 04:00 CEST, not 03:00


def test_a_typed_booking_across_the_repeated_hour_lasts_the_real_length(bot, alice, far_ahead):
    alice.send(f"/book {far_ahead.name} 2030-10-27 01:00 3h")

    alice.expect_message(containing="Booked: Projector")
    booking = Booking.objects.get()
    assert booking.start == datetime(2030, 10, 26, 23, 0, tzinfo=UTC)  # 01:00 CEST
    assert booking.end - booking.start == timedelta(hours=3)  # ends 03:00 CET, not 04:00


@pytest.mark.parametrize("day", ["2030-03-31", "2030-10-27"])  # 02:30 is skipped, then repeated
def test_a_typed_local_time_the_clock_change_skips_or_repeats_is_refused_with_the_apis_words(
    bot, alice, far_ahead, day
):
    alice.send(f"/book {far_ahead.name} {day} 02:30 1h")

    reply = alice.expect_message(containing="Could not book")
    words = api_words_for(f"{day}T02:30:00")
    assert "Europe/Berlin" in words
    assert words in reply.text
    assert not Booking.objects.exists()


@pytest.mark.parametrize(
    "arguments, expected",
    [
        ("2030-03-31 03:00 1h", "Booked: Projector"),  # just after the gap: a real time
        ("9999-12-31 10:00 1h", "The date «9999-12-31» is out of range: use a year between 1900 and 8999."),
        ("0001-01-01 10:00 1h", "The date «0001-01-01» is out of range: use a year between 1900 and 8999."),
        ("31.12.9999 23:30 2h", "The date «31.12.9999» is out of range"),
        (
            "2030-06-04 10:00 " + "9" * 400 + "h",
            "is out of range: a booking lasts more than 0 minutes and at most 7 days",
        ),
        (
            "2030-06-04 10:00 " + "9" * 30 + "m",
            "is out of range: a booking lasts more than 0 minutes and at most 7 days",
        ),
        ("2030-06-04 10:00 0m", "The length «0m» is out of range"),
    ],
)
def test_typed_input_no_booking_can_have_gets_its_own_answer_not_an_apology(
    bot, alice, far_ahead, errors_seen, arguments, expected
):
    alice.send(f"/book {far_ahead.name} {arguments}")

    reply = alice.expect_message(containing="")
    assert expected in reply.text
    assert str(texts.APOLOGY) not in reply.text
    assert errors_seen == []
