"""Loans: returns, overdue, strikes and suspensions in the domain.

A resource that needs a return (default: equipment that needs check-in) ends
an active booking only by a return; at its end time an unreturned one becomes
overdue, still live (it holds the item); a return from overdue completes it
late and adds a strike, as a no-show does. STRIKES_TO_SUSPEND strikes within
STRIKES_WINDOW_DAYS suspend the user: booking_create raises `suspended` until
staff lift it or it ends.
"""

from datetime import timedelta

import pytest

from bookings import errors, selectors, services
from bookings.models import Booking, BookingStatus, ResourceKind, Strike, StrikeReason, Suspension

from .conftest import assert_no_overlaps, history

pytestmark = pytest.mark.django_db


@pytest.fixture
def laptop(make_resource):
    return make_resource(name="Laptop", requires_check_in=True)


def status_of(booking):
    return Booking.objects.get(pk=booking.pk).status


def checked_out(book, resource, at, user, start=10, end=11, day=0):
    """A booking of `resource` from start to end on day `day`, checked in at its start."""
    booking = book(resource, at(start, days=day), at(end, days=day), by=user, when=at(8, days=day) - timedelta(days=1))
    return services.booking_check_in(booking=booking, by=user, now=at(start, days=day))


# --- which resources need a return -------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "requires_check_in", "requires_return", "needed"),
    [
        (ResourceKind.EQUIPMENT, True, None, True),
        (ResourceKind.EQUIPMENT, False, None, False),
        (ResourceKind.SPACE, True, None, False),
        (ResourceKind.SPACE, False, True, True),
        (ResourceKind.EQUIPMENT, True, False, False),
    ],
)
def test_return_is_needed_by_default_for_equipment_with_check_in_and_else_as_set(
    make_resource, book, at, user, kind, requires_check_in, requires_return, needed
):
    resource = make_resource(kind=kind, requires_check_in=requires_check_in, requires_return=requires_return)
    assert resource.return_required is needed
    booking = book(resource, at(10), at(11))
    if requires_check_in:
        services.booking_check_in(booking=booking, by=user, now=at(10))
    else:
        services.bookings_start_due(now=at(10))
    services.bookings_complete_ended(now=at(11))
    services.bookings_mark_overdue(now=at(11))
    assert status_of(booking) == (BookingStatus.OVERDUE if needed else BookingStatus.COMPLETED)


# --- overdue -------------------------------------------------------------------------


def test_unreturned_booking_becomes_overdue_at_its_end_not_completed(book, laptop, at, user):
    booking = checked_out(book, laptop, at, user)
    assert services.bookings_complete_ended(now=at(11)) == 0
    assert services.bookings_mark_overdue(now=at(10, 59)) == 0
    assert services.bookings_mark_overdue(now=at(11)) == 1
    assert services.bookings_mark_overdue(now=at(11, 1)) == 0  # a second run changes nothing
    assert status_of(booking) == BookingStatus.OVERDUE
    assert history(booking)[-1] == (BookingStatus.ACTIVE, BookingStatus.OVERDUE, None, "not returned by the end time")


def test_return_from_overdue_completes_it_late_with_a_strike(book, laptop, at, user, staff):
    booking = checked_out(book, laptop, at, user)
    services.bookings_mark_overdue(now=at(11))
    services.booking_return(booking=Booking.objects.get(pk=booking.pk), by=staff, now=at(11, 40))

    booking.refresh_from_db()
    assert booking.status == BookingStatus.COMPLETED
    assert booking.returned_at == at(11, 40)
    assert booking.end == at(11)  # the booked time stays what it was
    assert history(booking)[-1] == (BookingStatus.OVERDUE, BookingStatus.COMPLETED, staff.pk, "returned late")
    assert [(s.user, s.booking, s.reason) for s in Strike.objects.all()] == [(user, booking, StrikeReason.LATE_RETURN)]


def test_return_before_the_end_is_early_and_adds_no_strike(book, laptop, at, user):
    booking = checked_out(book, laptop, at, user)
    services.booking_return(booking=booking, by=user, now=at(10, 30))
    booking.refresh_from_db()
    assert (booking.status, booking.end, booking.returned_at) == (BookingStatus.COMPLETED, at(10, 30), at(10, 30))
    assert not Strike.objects.exists()


def test_another_user_cannot_return_someone_elses_item(book, laptop, at, user, other_user):
    booking = checked_out(book, laptop, at, user)
    services.bookings_mark_overdue(now=at(11))
    with pytest.raises(errors.NotAllowed):
        services.booking_return(booking=Booking.objects.get(pk=booking.pk), by=other_user, now=at(11, 5))
    assert status_of(booking) == BookingStatus.OVERDUE


@pytest.mark.parametrize("name", ["cancel", "check_in"])
def test_overdue_booking_cannot_be_cancelled_or_checked_in(book, laptop, at, user, name):
    booking = checked_out(book, laptop, at, user)
    services.bookings_mark_overdue(now=at(11))
    booking.refresh_from_db()
    service = {"cancel": services.booking_cancel, "check_in": services.booking_check_in}[name]
    with pytest.raises(errors.BookingError):
        service(booking=booking, by=user, now=at(11, 5))
    assert status_of(booking) == BookingStatus.OVERDUE


def test_overdue_item_is_not_offered_to_new_bookings_until_it_is_back(book, laptop, at, user, other_user, staff):
    """The item is not back: nobody can be promised it, so nothing after the overdue booking is free."""
    booking = checked_out(book, laptop, at, user)
    services.bookings_mark_overdue(now=at(11))

    with pytest.raises(errors.SlotTaken):
        book(laptop, at(12), at(13), by=other_user, when=at(11, 10))
    assert selectors.resource_free_intervals(resource=laptop, day=at(12).date(), now=at(11, 10)) == []

    services.booking_return(booking=Booking.objects.get(pk=booking.pk), by=staff, now=at(11, 20))
    assert book(laptop, at(12), at(13), by=other_user, when=at(11, 25)).status == BookingStatus.CONFIRMED
    assert_no_overlaps()


def test_booking_made_before_it_went_overdue_keeps_its_time(book, laptop, at, user, other_user):
    booking = checked_out(book, laptop, at, user)
    following = book(laptop, at(11), at(12), by=other_user, when=at(9))
    services.bookings_mark_overdue(now=at(11))
    assert status_of(booking) == BookingStatus.OVERDUE
    assert status_of(following) == BookingStatus.CONFIRMED
    assert selectors.booking_next_on_resource(booking=booking) == following
    assert_no_overlaps()


def test_overdue_booking_stays_in_the_users_upcoming_list(book, laptop, at, user):
    booking = checked_out(book, laptop, at, user)
    services.bookings_mark_overdue(now=at(11))
    assert [b.pk for b in selectors.user_upcoming_bookings(user=user, now=at(15))] == [booking.pk]


# --- strikes and suspension ----------------------------------------------------------


def late_return(book, resource, at, user, day):
    booking = checked_out(book, resource, at, user, day=day)
    services.bookings_mark_overdue(now=at(11, days=day))
    services.booking_return(booking=Booking.objects.get(pk=booking.pk), by=user, now=at(12, days=day))
    return booking


def test_no_show_adds_one_strike_even_if_the_sweep_runs_twice(book, laptop, at, user):
    booking = book(laptop, at(10), at(11))
    services.bookings_expire_no_shows(now=at(10, 15))
    services.bookings_expire_no_shows(now=at(10, 16))
    assert [(s.booking_id, s.reason) for s in Strike.objects.filter(user=user)] == [(booking.pk, StrikeReason.NO_SHOW)]


def test_three_strikes_in_thirty_days_suspend_then_lift_allows_booking_again(
    book, laptop, make_resource, at, user, staff
):
    late_return(book, laptop, at, user, day=0)
    late_return(book, laptop, at, user, day=1)
    assert not Suspension.objects.exists()
    no_show = book(laptop, at(10, days=2), at(11, days=2), when=at(8, days=1))
    services.bookings_expire_no_shows(now=at(10, 15, days=2))
    assert status_of(no_show) == BookingStatus.EXPIRED

    suspension = Suspension.objects.get(user=user)
    assert suspension.until == at(10, 15, days=9)  # SUSPENSION_DAYS = 7
    room = make_resource(kind=ResourceKind.SPACE)
    with pytest.raises(errors.Suspended) as caught:
        book(room, at(10, days=3), at(11, days=3), when=at(9, days=3))
    assert caught.value.code == "suspended"
    assert "10:15" in caught.value.message
    assert caught.value.params["until_at"] == suspension.until.isoformat()
    assert not Booking.objects.filter(resource=room).exists()

    with pytest.raises(errors.NotAllowed):
        services.suspension_lift(suspension=suspension, by=user)
    services.suspension_lift(suspension=suspension, by=staff, now=at(9, days=3))
    assert book(room, at(10, days=3), at(11, days=3), when=at(9, 5, days=3)).status == BookingStatus.CONFIRMED
    with pytest.raises(errors.NotSuspended):
        services.suspension_lift(suspension=suspension, by=staff, now=at(9, 10, days=3))


def test_suspension_ends_by_itself(book, laptop, make_resource, at, user):
    for day in range(3):
        late_return(book, laptop, at, user, day=day)
    room = make_resource(kind=ResourceKind.SPACE)
    with pytest.raises(errors.Suspended):
        book(room, at(10, days=9), at(11, days=9), when=at(11, days=9) - timedelta(hours=2))
    assert book(room, at(13, days=9), at(14, days=9), when=at(12, 1, days=9)).status == BookingStatus.CONFIRMED


def test_strikes_outside_the_window_or_before_a_suspension_do_not_count(book, laptop, at, user, settings):
    late_return(book, laptop, at, user, day=0)
    late_return(book, laptop, at, user, day=31)
    late_return(book, laptop, at, user, day=32)
    assert not Suspension.objects.exists()  # the first is older than 30 days
    late_return(book, laptop, at, user, day=33)
    assert Suspension.objects.count() == 1
    late_return(book, laptop, at, user, day=50)  # the suspension used up the three before it
    assert Suspension.objects.count() == 1
