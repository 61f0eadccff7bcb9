"""Every error the API can answer, one test per code: status, JSON body, nothing changed.

Domain errors (bookings.errors) reach the client with their own code; DRF's
errors (authentication, permissions, parsing, routing) share the same shape.
"""

from datetime import timedelta

import pytest

from bookings.models import Booking, BookingStatus
from tests.api.conftest import body

pytestmark = pytest.mark.django_db


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    data = response.json()
    assert data["code"] == code
    assert isinstance(data["detail"], str) and data["detail"]
    return data


def post_booking(api, resource, start, end, **extra):
    return api.post("/api/bookings/", body(start, end, resource, **extra), format="json")


# --- creating a booking: every rule ---------------------------------------------


def test_slot_taken_is_409_and_keeps_the_first_booking(api, studio, book, other_user, local_day):
    first = book(other_user, studio, local_day(10), local_day(11))

    response = post_booking(api, studio, local_day(10, 30), local_day(11, 30))

    assert_error(response, 409, "slot_taken")
    assert list(Booking.objects.values_list("pk", flat=True)) == [first.pk]


@pytest.mark.parametrize(
    "rules, start, end, code",
    [
        ({"hours": ((0, 7), (8, 20))}, (21, 0, 1), (22, 0, 1), "outside_opening_hours"),
        ({}, (10, 0, 1), (15, 0, 1), "too_long"),
        ({"slot_minutes": 15}, (10, 0, 1), (10, 15, 1), "too_short"),
        ({}, (10, 7, 1), (11, 7, 1), "not_on_slot_grid"),
        ({"min_notice_minutes": 3 * 24 * 60}, (10, 0, 1), (11, 0, 1), "too_late_to_book"),
        ({"max_advance_days": 1}, (10, 0, 3), (11, 0, 3), "too_far_ahead"),
        ({}, (10, 0, -1), (11, 0, -1), "in_the_past"),
        ({}, (11, 0, 1), (10, 0, 1), "invalid_time_range"),
        ({"is_active": False}, (10, 0, 1), (11, 0, 1), "resource_inactive"),
    ],
)
def test_a_broken_booking_rule_is_400_with_its_code(api, make_resource, local_day, rules, start, end, code):
    rules = {"hours": None, **rules}
    resource = make_resource(**rules)

    response = post_booking(api, resource, local_day(*start[:2], days=start[2]), local_day(*end[:2], days=end[2]))

    assert_error(response, 400, code)
    assert not Booking.objects.exists()


def test_note_too_long_is_400(api, studio, local_day):
    response = post_booking(api, studio, local_day(10), local_day(11), note="x" * 501)

    assert_error(response, 400, "note_too_long")


def test_unknown_resource_is_400(api, local_day):
    response = api.post(
        "/api/bookings/",
        {"resource": 987654, "start": local_day(10).isoformat(), "end": local_day(11).isoformat()},
        format="json",
    )

    data = assert_error(response, 400, "unknown_resource")
    assert list(data["fields"]) == ["resource"]


@pytest.mark.parametrize(
    "start",
    [
        "2030-02-30T10:00:00+01:00",
        "soon",
        1717400000,
        "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
        "0001-01-01",  # naive: before year 1 in UTC once read in Europe/Berlin
        "9999-12-31T23:59:59",
    ],
)
def test_a_malformed_datetime_is_400_invalid_datetime(api, studio, local_day, start):
    response = api.post(
        "/api/bookings/", {"resource": studio.pk, "start": start, "end": local_day(11).isoformat()}, format="json"
    )

    data = assert_error(response, 400, "invalid_datetime")
    assert list(data["fields"]) == ["start"]


@pytest.mark.parametrize(
    "start",
    [
        "2031-03-30T02:30:00",  # skipped: Europe/Berlin (the test zone) jumps from 02:00 to 03:00
        "2031-10-26T02:30:00",  # ambiguous: 02:00-03:00 happens twice
    ],
)
def test_a_local_time_without_offset_that_the_clock_change_makes_unclear_is_400(api, studio, start):
    response = api.post(
        "/api/bookings/", {"resource": studio.pk, "start": start, "end": start.replace("02:30", "05:00")}, format="json"
    )

    assert_error(response, 400, "invalid_datetime")


def test_missing_fields_are_400_required_naming_each_field(api):
    response = api.post("/api/bookings/", {}, format="json")

    data = assert_error(response, 400, "required")
    assert set(data["fields"]) == {"resource", "start", "end"}


def test_a_body_that_is_not_an_object_is_400(api):
    response = api.post("/api/bookings/", [1, 2], format="json")

    data = assert_error(response, 400, "invalid")
    assert list(data["fields"]) == ["non_field_errors"]


def test_malformed_json_is_400_parse_error(api):
    response = api.post("/api/bookings/", "{not json", content_type="application/json")

    assert_error(response, 400, "parse_error")


def test_an_unsupported_body_type_is_415(api):
    response = api.post("/api/bookings/", "<booking/>", content_type="application/xml")

    assert_error(response, 415, "unsupported_media_type")


# --- status actions ---------------------------------------------------------------


def test_approving_a_confirmed_booking_is_400_wrong_status(staff_api, studio, book, user, local_day):
    booking = book(user, studio, local_day(10))

    response = staff_api.post(f"/api/bookings/{booking.pk}/approve/")

    assert_error(response, 400, "wrong_status")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_cancelling_twice_is_400_wrong_status(api, studio, book, user, local_day):
    booking = book(user, studio, local_day(10))
    api.post(f"/api/bookings/{booking.pk}/cancel/")

    assert_error(api.post(f"/api/bookings/{booking.pk}/cancel/"), 400, "wrong_status")


@pytest.fixture
def started_booking(make_resource, book, user, local_day):
    """A confirmed booking that started yesterday and needed check-in (made with a past 'now')."""
    resource = make_resource(hours=None, requires_check_in=True)
    start = local_day(10, days=-1)
    return book(user, resource, start, start + timedelta(hours=1), now=start - timedelta(hours=1))


def test_cancelling_a_started_booking_is_400_already_started(api, started_booking):
    assert_error(api.post(f"/api/bookings/{started_booking.pk}/cancel/"), 400, "already_started")


def test_checking_in_after_the_grace_period_is_400_check_in_closed(api, started_booking):
    assert_error(api.post(f"/api/bookings/{started_booking.pk}/check-in/"), 400, "check_in_closed")


def test_checking_in_too_early_is_400_check_in_not_open(api, studio, book, user, local_day):
    booking = book(user, studio, local_day(10))

    data = assert_error(api.post(f"/api/bookings/{booking.pk}/check-in/"), 400, "check_in_not_open")
    assert "15" in data["detail"]


def test_finishing_a_booking_that_is_not_active_is_400_wrong_status(api, studio, book, user, local_day):
    booking = book(user, studio, local_day(10))

    assert_error(api.post(f"/api/bookings/{booking.pk}/finish/"), 400, "wrong_status")


def test_a_reject_reason_too_long_is_400(staff_api, make_resource, book, user, local_day):
    booking = book(user, make_resource(hours=None, requires_approval=True), local_day(10))

    response = staff_api.post(f"/api/bookings/{booking.pk}/reject/", {"reason": "x" * 501}, format="json")

    assert_error(response, 400, "note_too_long")


# --- authentication, permission, routing ----------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/resources/"),
        ("get", "/api/resources/1/"),
        ("get", "/api/resources/1/availability/"),
        ("get", "/api/availability/"),
        ("get", "/api/bookings/"),
        ("post", "/api/bookings/"),
        ("get", "/api/bookings/1/"),
        ("post", "/api/bookings/1/cancel/"),
        ("post", "/api/bookings/1/check-in/"),
        ("post", "/api/bookings/1/finish/"),
        ("post", "/api/bookings/1/approve/"),
        ("post", "/api/bookings/1/reject/"),
    ],
)
def test_anonymous_requests_are_401(anonymous, method, path):
    response = getattr(anonymous, method)(path)

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_an_invalid_token_is_401_authentication_failed(anonymous):
    response = anonymous.get("/api/bookings/", HTTP_AUTHORIZATION="Token not-a-real-token")

    assert_error(response, 401, "authentication_failed")


def test_an_unknown_api_path_is_a_json_404(api):
    assert_error(api.get("/api/bookings/1/teleport/"), 404, "not_found")
    assert_error(api.get("/api/nowhere"), 404, "not_found")


def test_a_method_the_endpoint_lacks_is_405(api):
    response = api.delete("/api/bookings/")

    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"]


def test_error_messages_follow_the_request_language(anonymous):
    response = anonymous.get("/api/bookings/", HTTP_ACCEPT_LANGUAGE="ru")

    data = assert_error(response, 401, "not_authenticated")
    assert data["detail"] == "Учетные данные не были предоставлены."


def test_a_cancel_reason_too_long_is_400_and_changes_nothing(api, studio, book, user, local_day):
    booking = book(user, studio, local_day(10))

    response = api.post(f"/api/bookings/{booking.pk}/cancel/", {"reason": "x" * 501}, format="json")

    assert_error(response, 400, "note_too_long")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
