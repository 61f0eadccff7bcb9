"""POST /api/bookings/{id}/extend/ and /move/: the booking, or the error envelope with the domain's code."""

import pytest

from bookings.models import Booking, BookingStatus

pytestmark = pytest.mark.django_db


def test_the_owner_extends_a_booking_by_half_an_hour(api, studio, user, book, local_day):
    booking = book(user, studio)
    answer = api.post(f"/api/bookings/{booking.pk}/extend/", {"minutes": 30}, format="json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["id"] == booking.pk
    assert Booking.objects.get(pk=booking.pk).end == local_day(11, 30)
    assert answer.json()["events"][-1]["reason"] == "extended"


def test_an_extension_into_the_next_booking_is_409_slot_taken(api, studio, user, other_user, book, local_day):
    booking = book(user, studio)
    book(other_user, studio, start=local_day(11))
    answer = api.post(f"/api/bookings/{booking.pk}/extend/", {"minutes": 30}, format="json")
    assert answer.status_code == 409
    assert answer.json()["code"] == "slot_taken"
    assert Booking.objects.get(pk=booking.pk).end == local_day(11)


@pytest.mark.parametrize(
    ("payload", "code"),
    [({"minutes": 15}, "not_on_slot_grid"), ({"minutes": 0}, "invalid_extension"), ({"minutes": "x"}, "invalid")],
)
def test_a_bad_extension_is_400_with_its_code(api, studio, user, book, payload, code):
    booking = book(user, studio)
    answer = api.post(f"/api/bookings/{booking.pk}/extend/", payload, format="json")
    assert answer.status_code == 400
    assert answer.json()["code"] == code


def test_someone_elses_booking_is_not_found_but_staff_may_extend_it(
    client_of, staff_api, other_user, studio, user, book, local_day
):
    booking = book(user, studio)
    assert client_of(other_user).post(f"/api/bookings/{booking.pk}/extend/", {"minutes": 30}).status_code == 404
    assert staff_api.post(f"/api/bookings/{booking.pk}/extend/", {"minutes": 30}, format="json").status_code == 200


def test_the_owner_moves_a_booking(api, studio, user, book, local_day):
    booking = book(user, studio)
    payload = {"start": local_day(14).isoformat(), "end": local_day(15, 30).isoformat()}
    answer = api.post(f"/api/bookings/{booking.pk}/move/", payload, format="json")
    assert answer.status_code == 200, answer.json()
    fresh = Booking.objects.get(pk=booking.pk)
    assert (fresh.start, fresh.end) == (local_day(14), local_day(15, 30))


def test_a_refused_move_answers_the_code_and_keeps_the_booking(api, studio, user, other_user, book, local_day):
    booking = book(user, studio)
    book(other_user, studio, start=local_day(14))
    payload = {"start": local_day(14).isoformat(), "end": local_day(15).isoformat()}
    answer = api.post(f"/api/bookings/{booking.pk}/move/", payload, format="json")
    assert (answer.status_code, answer.json()["code"]) == (409, "slot_taken")
    fresh = Booking.objects.get(pk=booking.pk)
    assert (fresh.start, fresh.end, fresh.status) == (local_day(10), local_day(11), BookingStatus.CONFIRMED)


def test_a_move_on_a_resource_that_needs_approval_answers_pending(api, make_resource, user, staff, book, local_day):
    from bookings import services

    booking = book(user, make_resource(hours=None, requires_approval=True))
    services.booking_approve(booking=booking, by=staff)
    payload = {"start": local_day(14).isoformat(), "end": local_day(15).isoformat()}
    answer = api.post(f"/api/bookings/{booking.pk}/move/", payload, format="json")
    assert answer.json()["status"] == "pending"


def test_a_move_needs_a_start_and_an_end(api, studio, user, book):
    booking = book(user, studio)
    answer = api.post(f"/api/bookings/{booking.pk}/move/", {"start": "tomorrow"}, format="json")
    assert answer.status_code == 400


def test_refusals_read_in_russian(api, studio, user, book, local_day):
    booking = book(user, studio)
    answer = api.post(f"/api/bookings/{booking.pk}/extend/", {"minutes": 0}, format="json", HTTP_ACCEPT_LANGUAGE="ru")
    assert answer.json()["detail"].startswith("Продление — целое число минут")
