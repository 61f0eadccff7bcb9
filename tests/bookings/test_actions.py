"""bookings.actions: what a user may do with a booking now, and the services refusing exactly the rest."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from bookings import errors, selectors, services
from bookings.actions import ANY_STAFF, LISTED, Action, refusal
from bookings.models import Booking, BookingStatus

pytestmark = pytest.mark.django_db

S = BookingStatus
A = Action

# (status, clock as (hour, minute), who) → actions. The booking runs 10:00–11:00; check-in
# opens 15 minutes before the start and closes 15 minutes after it (the grace).
TABLE = [
    (S.PENDING, (8, 0), "owner", [A.CANCEL]),
    (S.PENDING, (8, 0), "staff", [A.CANCEL, A.APPROVE, A.REJECT]),
    (S.PENDING, (8, 0), "stranger", []),
    (S.PENDING, (10, 5), "owner", []),
    (S.PENDING, (10, 5), "staff", [A.APPROVE, A.REJECT]),
    (S.CONFIRMED, (8, 0), "owner", [A.CANCEL]),  # days or hours ahead: no Check in yet
    (S.CONFIRMED, (9, 44), "owner", [A.CANCEL]),
    (S.CONFIRMED, (9, 45), "owner", [A.CHECK_IN, A.CANCEL]),  # the window opens
    (S.CONFIRMED, (9, 50), "staff", [A.CHECK_IN, A.CANCEL]),
    (S.CONFIRMED, (9, 50), "stranger", []),
    (S.CONFIRMED, (10, 5), "owner", [A.CHECK_IN]),  # started: no cancelling, check-in within the grace
    (S.CONFIRMED, (10, 15), "owner", []),  # the window has closed
    (S.ACTIVE, (10, 30), "owner", [A.RETURN]),
    (S.ACTIVE, (9, 50), "staff", [A.RETURN]),
    (S.ACTIVE, (10, 30), "stranger", []),
    (S.COMPLETED, (10, 30), "owner", []),
    (S.CANCELLED, (8, 0), "staff", []),
    (S.REJECTED, (8, 0), "staff", []),
    (S.EXPIRED, (10, 30), "owner", []),
]


@pytest.fixture
def check_in_resource(make_resource):
    return make_resource(requires_check_in=True, check_in_opens_minutes=15, check_in_grace_minutes=15)


@pytest.fixture
def people(user, other_user, staff):
    return {"owner": user, "stranger": other_user, "staff": staff}


def _booking_in(status, resource, user, at, book):
    booking = book(resource, at(10), at(11), by=user)
    Booking.objects.filter(pk=booking.pk).update(status=status)
    booking.refresh_from_db()
    return booking


@pytest.mark.parametrize(("status", "clock", "who", "expected"), TABLE)
def test_booking_actions_follow_status_window_and_ownership(
    status, clock, who, expected, check_in_resource, people, at, book
):
    booking = _booking_in(status, check_in_resource, people["owner"], at, book)

    assert selectors.booking_actions(booking=booking, user=people[who], now=at(*clock)) == expected


SERVICES = {
    A.CHECK_IN: lambda booking, by, now: services.booking_check_in(booking=booking, by=by, now=now),
    A.RETURN: lambda booking, by, now: services.booking_finish(booking=booking, by=by, now=now),
    A.CANCEL: lambda booking, by, now: services.booking_cancel(booking=booking, by=by, now=now),
    A.APPROVE: lambda booking, by, now: services.booking_approve(booking=booking, by=by, now=now),
    A.REJECT: lambda booking, by, now: services.booking_reject(booking=booking, by=by, now=now),
}


class _Undo(Exception):
    pass


def _accepted_then_undone(service, booking, by, now):
    """Run the service; its changes are rolled back so the next action meets the same booking."""
    with transaction.atomic():
        service(booking, by, now)
        raise _Undo


@pytest.mark.parametrize(("status", "clock", "who", "expected"), TABLE)
def test_services_accept_exactly_the_offered_actions_and_raise_the_same_refusal(
    status, clock, who, expected, check_in_resource, people, at, book
):
    booking = _booking_in(status, check_in_resource, people["owner"], at, book)
    now = at(*clock)
    for action in LISTED:  # extend and move: tests/bookings/test_reschedule.py
        expected_refusal = refusal(action, booking=booking, user=people[who], now=now)
        assert (action in expected) == (expected_refusal is None)
        fresh = Booking.objects.select_related("resource", "user").get(pk=booking.pk)
        if expected_refusal is None:
            with pytest.raises(_Undo):
                _accepted_then_undone(SERVICES[action], fresh, people[who], now)
        else:
            with pytest.raises(type(expected_refusal)) as raised:
                SERVICES[action](fresh, people[who], now)
            assert raised.value.message == expected_refusal.message


def test_any_staff_member_sees_the_staff_decisions_on_a_pending_booking(check_in_resource, user, at, book):
    booking = _booking_in(S.PENDING, check_in_resource, user, at, book)

    assert selectors.booking_actions(booking=booking, user=ANY_STAFF, now=at(8)) == [A.CANCEL, A.APPROVE, A.REJECT]


def test_nobody_signed_in_may_do_nothing(check_in_resource, user, at, book):
    booking = _booking_in(S.CONFIRMED, check_in_resource, user, at, book)

    assert selectors.booking_actions(booking=booking, user=None, now=at(9, 50)) == []
    assert selectors.booking_actions(booking=booking, user=AnonymousUser(), now=at(9, 50)) == []


# --- the double tap -------------------------------------------------------------


def test_booking_the_same_slot_again_raises_already_booked_with_the_first_booking(make_resource, at, book):
    resource = make_resource()
    first = book(resource, at(10), at(11))

    with pytest.raises(errors.AlreadyBooked) as raised:
        book(resource, at(10), at(11))

    assert raised.value.code == "already_booked"
    assert raised.value.booking == first
    assert Booking.objects.count() == 1


def test_another_users_booking_of_the_same_slot_is_still_slot_taken(make_resource, at, book, other_user):
    resource = make_resource()
    book(resource, at(10), at(11))

    with pytest.raises(errors.SlotTaken) as raised:
        book(resource, at(10), at(11), by=other_user)

    assert not isinstance(raised.value, errors.AlreadyBooked)


def test_own_overlapping_but_different_slot_is_slot_taken(make_resource, at, book):
    resource = make_resource()
    book(resource, at(10), at(11))

    with pytest.raises(errors.SlotTaken) as raised:
        book(resource, at(10, 30), at(11, 30))

    assert not isinstance(raised.value, errors.AlreadyBooked)
