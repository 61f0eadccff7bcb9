"""/api/bookings/: create, list, detail with history, and every status action, with who may do what."""

from datetime import UTC, timedelta

import pytest

from bookings.models import Booking, BookingStatus
from tests.api.conftest import body

pytestmark = pytest.mark.django_db


# --- create -------------------------------------------------------------------


def test_booking_is_created_confirmed_with_its_id_and_history(api, studio, user, local_day):
    response = api.post("/api/bookings/", body(local_day(10), local_day(11), studio, note="Podcast"), format="json")

    assert response.status_code == 201
    data = response.json()
    booking = Booking.objects.get(pk=data["id"])
    assert (booking.user, booking.resource, booking.note) == (user, studio, "Podcast")
    assert data["status"] == "confirmed"
    assert data["start"] == local_day(10).isoformat()
    assert data["events"] == [
        {"from_status": "", "to_status": "confirmed", "at": data["events"][0]["at"], "by": user.pk, "reason": ""}
    ]


def test_booking_of_a_resource_needing_approval_is_pending(api, make_resource, local_day):
    resource = make_resource(hours=None, requires_approval=True)

    response = api.post("/api/bookings/", body(local_day(10), local_day(11), resource), format="json")

    assert response.json()["status"] == "pending"


def test_a_datetime_without_offset_is_booked_in_the_site_time_zone(api, studio, local_day):
    naive = {
        "resource": studio.pk,
        "start": local_day(10).replace(tzinfo=None).isoformat(),
        "end": local_day(11).replace(tzinfo=None).isoformat(),
    }

    response = api.post("/api/bookings/", naive, format="json")

    assert response.status_code == 201
    assert Booking.objects.get().start == local_day(10)


def test_a_utc_datetime_is_answered_in_the_site_time_zone(api, studio, local_day):
    start_utc = local_day(10).astimezone(UTC)

    response = api.post("/api/bookings/", body(start_utc, start_utc + timedelta(hours=1), studio), format="json")

    assert response.json()["start"] == local_day(10).isoformat()


def test_form_encoded_bodies_are_accepted(api, studio, local_day):
    response = api.post("/api/bookings/", body(local_day(10), local_day(11), studio))

    assert response.status_code == 201


def test_posting_without_trailing_slash_creates_the_booking(api, studio, local_day):
    response = api.post("/api/bookings", body(local_day(10), local_day(11), studio), format="json")

    assert response.status_code == 201


# --- list and detail ------------------------------------------------------------


def test_a_user_lists_only_their_own_bookings(api, studio, book, user, other_user, local_day):
    mine = book(user, studio, local_day(10))
    book(other_user, studio, local_day(12))

    response = api.get("/api/bookings/")

    assert response.status_code == 200
    assert [b["id"] for b in response.json()["results"]] == [mine.pk]


def test_staff_list_everyones_bookings(staff_api, studio, book, user, other_user, local_day):
    bookings = [book(user, studio, local_day(10)), book(other_user, studio, local_day(12))]

    response = staff_api.get("/api/bookings/")

    assert {b["id"] for b in response.json()["results"]} == {b.pk for b in bookings}


def test_booking_list_filters_by_status_and_resource(api, studio, make_resource, book, user, local_day):
    other_resource = make_resource(hours=None)
    kept = book(user, studio, local_day(10))
    book(user, other_resource, local_day(10))
    cancelled = book(user, studio, local_day(12))
    Booking.objects.filter(pk=cancelled.pk).update(status=BookingStatus.CANCELLED)

    response = api.get("/api/bookings/", {"status": "confirmed", "resource": studio.pk})

    assert [b["id"] for b in response.json()["results"]] == [kept.pk]


@pytest.mark.parametrize("query", [{"status": "lost"}, {"resource": "x"}, {"resource": "0"}])
def test_booking_list_refuses_bad_filters(api, query):
    response = api.get("/api/bookings/", query)

    assert response.status_code == 400
    assert list(response.json()["fields"]) == list(query)


def test_booking_list_is_paginated_and_bounded(api, studio, book, user, local_day):
    book(user, studio, local_day(10))
    book(user, studio, local_day(12))

    response = api.get("/api/bookings/", {"limit": 1, "offset": 10**30})

    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert response.json()["results"] == []


def test_booking_detail_includes_the_status_history(api, studio, book, user, local_day):
    booking = book(user, studio, local_day(10))
    api.post(f"/api/bookings/{booking.pk}/cancel/", {"reason": "Plans changed"}, format="json")

    response = api.get(f"/api/bookings/{booking.pk}/")

    assert response.status_code == 200
    events = response.json()["events"]
    assert [(e["from_status"], e["to_status"], e["reason"]) for e in events] == [
        ("", "confirmed", ""),
        ("confirmed", "cancelled", "Plans changed"),
    ]


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/bookings/{id}/"),
        ("post", "/api/bookings/{id}/cancel/"),
        ("post", "/api/bookings/{id}/check-in/"),
        ("post", "/api/bookings/{id}/finish/"),
    ],
)
def test_another_users_booking_is_not_found_and_unchanged(api, studio, book, other_user, local_day, method, path):
    theirs = book(other_user, studio, local_day(10))

    response = getattr(api, method)(path.format(id=theirs.pk))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.status == BookingStatus.CONFIRMED


def test_staff_see_anyones_booking(staff_api, studio, book, user, local_day):
    booking = book(user, studio, local_day(10))

    assert staff_api.get(f"/api/bookings/{booking.pk}/").json()["user"] == user.pk


# --- status actions -------------------------------------------------------------


def test_owner_cancels_a_booking_before_it_starts(api, studio, book, user, local_day):
    booking = book(user, studio, local_day(10))

    response = api.post(f"/api/bookings/{booking.pk}/cancel/")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED


def test_staff_cancel_anyones_booking(staff_api, studio, book, user, staff, local_day):
    booking = book(user, studio, local_day(10))

    response = staff_api.post(f"/api/bookings/{booking.pk}/cancel/", {"reason": "Maintenance"}, format="json")

    assert response.json()["events"][-1] == {**response.json()["events"][-1], "by": staff.pk, "reason": "Maintenance"}


@pytest.fixture
def early_check_in(make_resource):
    """Check-in opens three days before the start, so tomorrow's booking may check in now."""
    return make_resource(hours=None, check_in_opens_minutes=3 * 24 * 60)


def test_owner_checks_in_then_finishes_early(api, early_check_in, book, user, local_day):
    booking = book(user, early_check_in, local_day(10))

    checked_in = api.post(f"/api/bookings/{booking.pk}/check-in/")
    finished = api.post(f"/api/bookings/{booking.pk}/finish/")

    assert checked_in.status_code == 200
    assert checked_in.json()["status"] == "active"
    assert checked_in.json()["checked_in_at"] is not None
    assert finished.status_code == 200
    assert finished.json()["status"] == "completed"
    booking.refresh_from_db()
    assert booking.end < local_day(11)  # the rest of the slot is free again


def test_staff_approve_a_pending_booking(staff_api, make_resource, book, user, local_day):
    booking = book(user, make_resource(hours=None, requires_approval=True), local_day(10))

    response = staff_api.post(f"/api/bookings/{booking.pk}/approve/")

    assert response.status_code == 200
    assert response.json()["status"] == "confirmed"


def test_staff_reject_a_pending_booking_with_a_reason(staff_api, make_resource, book, user, local_day):
    booking = book(user, make_resource(hours=None, requires_approval=True), local_day(10))

    response = staff_api.post(f"/api/bookings/{booking.pk}/reject/", {"reason": "Reserved for exams"}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert response.json()["events"][-1]["reason"] == "Reserved for exams"


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_a_non_staff_user_may_not_approve_or_reject_even_their_own(api, make_resource, book, user, local_day, action):
    booking = book(user, make_resource(hours=None, requires_approval=True), local_day(10))

    response = api.post(f"/api/bookings/{booking.pk}/{action}/")

    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING


def test_staff_approving_a_missing_booking_is_not_found(staff_api):
    assert staff_api.post("/api/bookings/424242/approve/").status_code == 404
