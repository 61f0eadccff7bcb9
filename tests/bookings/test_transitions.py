"""The booking state machine: every (status, service) pair, history, permissions, the signal.

Allowed transitions (DESIGN.md): pending → confirmed (approve), → rejected
(reject), → cancelled (cancel); confirmed → active (check-in), → cancelled
(cancel); active → completed (finish, return); overdue → completed (finish, return: late).
Everything else raises WrongStatus
and changes nothing.
"""

from datetime import timedelta

import pytest

from bookings import errors, services
from bookings.models import Booking, BookingEvent, BookingStatus
from bookings.signals import bookings_transitioned

from .conftest import history

pytestmark = pytest.mark.django_db


def cancel(booking, by, now):
    return services.booking_cancel(booking=booking, by=by, reason="plans changed", now=now)


def approve(booking, by, now):
    return services.booking_approve(booking=booking, by=by, now=now)


def reject(booking, by, now):
    return services.booking_reject(booking=booking, by=by, reason="room needed for an exam", now=now)


def check_in(booking, by, now):
    return services.booking_check_in(booking=booking, by=by, now=now)


def finish(booking, by, now):
    return services.booking_finish(booking=booking, by=by, now=now)


def return_(booking, by, now):
    return services.booking_return(booking=booking, by=by, now=now)


USER_SERVICES = {
    "cancel": cancel,
    "approve": approve,
    "reject": reject,
    "check_in": check_in,
    "finish": finish,
    "return": return_,
}
ALLOWED = {
    (BookingStatus.PENDING, "cancel"): BookingStatus.CANCELLED,
    (BookingStatus.PENDING, "approve"): BookingStatus.CONFIRMED,
    (BookingStatus.PENDING, "reject"): BookingStatus.REJECTED,
    (BookingStatus.CONFIRMED, "cancel"): BookingStatus.CANCELLED,
    (BookingStatus.CONFIRMED, "check_in"): BookingStatus.ACTIVE,
    (BookingStatus.ACTIVE, "finish"): BookingStatus.COMPLETED,
    (BookingStatus.ACTIVE, "return"): BookingStatus.COMPLETED,
    (BookingStatus.OVERDUE, "finish"): BookingStatus.COMPLETED,
    (BookingStatus.OVERDUE, "return"): BookingStatus.COMPLETED,
}


@pytest.fixture
def booking_in(book, make_resource, at):
    """booking_in(status): a 10:00–11:00 booking (check-in needed) put straight into `status`."""
    resource = make_resource(requires_check_in=True)

    def make(status):
        booking = book(resource, at(10), at(11))
        Booking.objects.filter(pk=booking.pk).update(status=status)  # test set-up, not a transition
        booking.refresh_from_db()
        return booking

    return make


@pytest.mark.parametrize("service_name", USER_SERVICES)
@pytest.mark.parametrize("status", BookingStatus.values)
def test_each_status_allows_exactly_the_transitions_of_the_design(booking_in, staff, at, status, service_name):
    booking = booking_in(status)
    events_before = history(booking)
    when = at(9, 50)  # before the start and inside the check-in window
    expected = ALLOWED.get((status, service_name))

    if expected is None:
        with pytest.raises(errors.WrongStatus) as caught:
            USER_SERVICES[service_name](booking, staff, when)
        assert caught.value.code == "wrong_status"
        assert str(BookingStatus(status).label) in caught.value.message
        booking.refresh_from_db()
        assert booking.status == status
        assert history(booking) == events_before
    else:
        USER_SERVICES[service_name](booking, staff, when)
        booking.refresh_from_db()
        assert booking.status == expected
        assert history(booking)[-1][:3] == (status, expected, staff.pk)


@pytest.mark.parametrize(("status", "service_name"), list(ALLOWED))
def test_running_a_transition_twice_changes_nothing_the_second_time(booking_in, staff, at, status, service_name):
    booking = booking_in(status)
    stale_copy = Booking.objects.get(pk=booking.pk)
    USER_SERVICES[service_name](booking, staff, at(9, 50))
    changed = Booking.objects.get(pk=booking.pk)
    events = history(booking)

    for copy in (booking, stale_copy):  # the updated object, and one loaded before the change
        with pytest.raises(errors.WrongStatus):
            USER_SERVICES[service_name](copy, staff, at(9, 55))
    after = Booking.objects.get(pk=booking.pk)
    assert (after.status, after.end, after.updated_at) == (changed.status, changed.end, changed.updated_at)
    assert history(booking) == events
    assert stale_copy.status == changed.status  # the losing caller learns the current status


# --- history ------------------------------------------------------------------


def test_each_change_writes_one_history_row_with_from_to_at_by_and_reason(book, make_resource, at, user, staff):
    resource = make_resource(requires_approval=True)
    booking = book(resource, at(10), at(11))
    approve(booking, staff, at(8, 30))
    check_in(booking, user, at(9, 55))
    finish(booking, user, at(10, 30))

    rows = list(BookingEvent.objects.filter(booking=booking).order_by("at", "id"))
    assert [(e.from_status, e.to_status, e.by, e.reason, e.at) for e in rows] == [
        ("", BookingStatus.PENDING, user, "", at(8)),
        (BookingStatus.PENDING, BookingStatus.CONFIRMED, staff, "", at(8, 30)),
        (BookingStatus.CONFIRMED, BookingStatus.ACTIVE, user, "", at(9, 55)),
        (BookingStatus.ACTIVE, BookingStatus.COMPLETED, user, "returned early", at(10, 30)),
    ]


def test_cancel_and_reject_keep_their_reason(book, make_resource, at, user, staff):
    resource = make_resource(requires_approval=True)
    cancelled = cancel(book(resource, at(10), at(11)), user, at(9))
    rejected = reject(book(resource, at(12), at(13)), staff, at(9))
    assert history(cancelled)[-1] == (BookingStatus.PENDING, BookingStatus.CANCELLED, user.pk, "plans changed")
    assert history(rejected)[-1] == (BookingStatus.PENDING, BookingStatus.REJECTED, staff.pk, "room needed for an exam")


def test_reject_reason_longer_than_a_note_is_refused(book, make_resource, at, staff):
    booking = book(make_resource(requires_approval=True), at(10), at(11))
    with pytest.raises(errors.NoteTooLong):
        services.booking_reject(booking=booking, by=staff, reason="x" * 501, now=at(9))
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.PENDING


# --- who may do what ------------------------------------------------------------


@pytest.mark.parametrize("service_name", ["cancel", "check_in", "finish"])
def test_another_user_may_not_touch_a_booking(booking_in, other_user, at, service_name):
    status = {"cancel": BookingStatus.CONFIRMED, "check_in": BookingStatus.CONFIRMED, "finish": BookingStatus.ACTIVE}
    booking = booking_in(status[service_name])
    with pytest.raises(errors.NotAllowed):
        USER_SERVICES[service_name](booking, other_user, at(9, 50))
    with pytest.raises(errors.NotAllowed):
        USER_SERVICES[service_name](booking, None, at(9, 50))
    assert Booking.objects.get(pk=booking.pk).status == status[service_name]


@pytest.mark.parametrize("service_name", ["approve", "reject"])
def test_only_staff_may_approve_or_reject(booking_in, user, at, service_name):
    booking = booking_in(BookingStatus.PENDING)  # `user` owns it
    with pytest.raises(errors.NotAllowed) as caught:
        USER_SERVICES[service_name](booking, user, at(9))
    assert caught.value.code == "not_allowed"
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.PENDING


def test_staff_may_cancel_someone_elses_booking(booking_in, staff, at):
    booking = cancel(booking_in(BookingStatus.CONFIRMED), staff, at(9))
    assert booking.status == BookingStatus.CANCELLED


# --- time-bound transitions -----------------------------------------------------------


@pytest.mark.parametrize("status", [BookingStatus.PENDING, BookingStatus.CONFIRMED])
def test_a_booking_cannot_be_cancelled_once_started(booking_in, user, at, status):
    booking = booking_in(status)
    with pytest.raises(errors.AlreadyStarted) as caught:
        cancel(booking, user, at(10))
    assert caught.value.code == "already_started"
    assert Booking.objects.get(pk=booking.pk).status == status


def test_check_in_before_its_window_opens_is_refused(booking_in, user, at):
    booking = booking_in(BookingStatus.CONFIRMED)  # window opens 15 min before 10:00
    with pytest.raises(errors.CheckInNotOpen) as caught:
        check_in(booking, user, at(9, 44))
    assert "15" in caught.value.message
    assert check_in(booking, user, at(9, 45)).checked_in_at == at(9, 45)


def test_check_in_after_the_grace_period_is_refused(booking_in, user, at):
    booking = booking_in(BookingStatus.CONFIRMED)  # grace 15 min after 10:00
    with pytest.raises(errors.CheckInClosed) as caught:
        check_in(booking, user, at(10, 15))
    assert caught.value.code == "check_in_closed"
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED
    assert check_in(booking, user, at(10, 14)).status == BookingStatus.ACTIVE


def test_without_required_check_in_one_may_still_check_in_until_the_end(book, resource, user, at):
    booking = book(resource, at(10), at(11))
    with pytest.raises(errors.CheckInClosed):
        check_in(Booking.objects.get(pk=booking.pk), user, at(11))
    assert check_in(booking, user, at(10, 50)).status == BookingStatus.ACTIVE


def test_early_return_ends_the_booking_now_and_frees_the_rest(book, make_resource, user, other_user, at):
    resource = make_resource(buffer_minutes=15)
    booking = book(resource, at(10), at(12))
    check_in(booking, user, at(10))
    finish(booking, user, at(10, 40))

    booking.refresh_from_db()
    assert (booking.status, booking.end, booking.blocked_until) == (BookingStatus.COMPLETED, at(10, 40), at(10, 55))
    later = book(resource, at(11), at(12), by=other_user, when=at(10, 41))
    assert later.status == BookingStatus.CONFIRMED


def test_finishing_after_the_end_keeps_the_booked_end(book, resource, user, at):
    booking = book(resource, at(10), at(11))
    check_in(booking, user, at(10, 30))
    finish(booking, user, at(11, 30))
    booking.refresh_from_db()
    assert booking.end == at(11)
    assert history(booking)[-1][3] == ""


def test_returning_before_the_start_keeps_a_minimal_valid_span(book, resource, user, at):
    booking = book(resource, at(10), at(11))
    check_in(booking, user, at(9, 50))
    finish(booking, user, at(9, 55))
    booking.refresh_from_db()
    assert booking.end == booking.start + timedelta(minutes=1)


# --- the signal -------------------------------------------------------------------


@pytest.fixture
def received():
    calls = []

    def receiver(sender, **kwargs):
        calls.append(kwargs)

    bookings_transitioned.connect(receiver, dispatch_uid="test-received")
    yield calls
    bookings_transitioned.disconnect(dispatch_uid="test-received")


def test_signal_carries_every_change_with_its_arguments(book, resource, user, at, received):
    booking = book(resource, at(10), at(11))
    cancel(booking, user, at(9))
    assert [(c["from_status"], c["to_status"], c["by"], c["reason"], c["at"]) for c in received] == [
        ("", BookingStatus.CONFIRMED, user, "", at(8)),
        (BookingStatus.CONFIRMED, BookingStatus.CANCELLED, user, "plans changed", at(9)),
    ]
    assert [b.pk for b in received[1]["bookings"]] == [booking.pk]


def test_a_receiver_that_fails_rolls_the_change_back(book, resource, user, at):
    booking = book(resource, at(10), at(11))
    bookings_transitioned.connect(_raise, dispatch_uid="test-failing")
    try:
        with pytest.raises(RuntimeError):
            cancel(booking, user, at(9))
        with pytest.raises(RuntimeError):
            book(resource, at(12), at(13))
    finally:
        bookings_transitioned.disconnect(dispatch_uid="test-failing")
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED
    assert Booking.objects.count() == 1
    assert len(history(booking)) == 1


def _raise(sender, **kwargs):
    raise RuntimeError("outbox is broken")
