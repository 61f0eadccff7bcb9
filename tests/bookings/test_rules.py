"""Every booking rule and its error code, through services.booking_create.

The fixed clock is Monday 2030-06-03 08:00 Europe/Berlin; the default
resource is open 8:00–20:00 every day, on a 30-minute grid, 30 min to 4 h.
"""

from datetime import timedelta

import pytest

from bookings import errors, rules, services
from bookings.models import Booking, BookingStatus

from .conftest import assert_no_overlaps

pytestmark = pytest.mark.django_db


def assert_refused(book, error, resource, start, end, **kwargs):
    """The booking raises `error` (code checked too) and leaves no row behind."""
    before = Booking.objects.count()
    with pytest.raises(error) as caught:
        book(resource, start, end, **kwargs)
    assert caught.value.code == error.code
    assert caught.value.message  # a human sentence, never empty
    assert Booking.objects.count() == before
    return caught.value


def test_booking_within_the_rules_is_confirmed_with_its_held_time(book, resource, at, user):
    booking = book(resource, at(10), at(11), note="for the demo")
    assert booking.status == BookingStatus.CONFIRMED
    assert (booking.start, booking.end, booking.blocked_until) == (at(10), at(11), at(11))
    assert booking.user == user and booking.note == "for the demo"
    assert booking.check_in_deadline is None


def test_booking_of_a_resource_needing_approval_is_pending(book, make_resource, at):
    booking = book(make_resource(requires_approval=True), at(10), at(11))
    assert booking.status == BookingStatus.PENDING


def test_booking_of_a_resource_needing_check_in_gets_its_deadline(book, make_resource, at):
    booking = book(make_resource(requires_check_in=True, check_in_grace_minutes=20), at(10), at(11))
    assert booking.check_in_deadline == at(10, 20)


# --- slot_taken and the buffer -------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [((10, 0), (11, 0)), ((9, 30), (10, 30)), ((10, 30), (11, 30)), ((9, 0), (12, 0)), ((10, 30), (11, 0))],
    ids=["same", "overlaps-start", "overlaps-end", "contains", "inside"],
)
def test_second_booking_of_overlapping_time_is_refused_as_slot_taken(book, resource, at, other_user, start, end):
    book(resource, at(10), at(11))
    assert_refused(book, errors.SlotTaken, resource, at(*start), at(*end), by=other_user)


def test_back_to_back_bookings_are_accepted_without_buffer(book, resource, at):
    book(resource, at(10), at(11))
    book(resource, at(11), at(12))
    book(resource, at(9), at(10))
    assert_no_overlaps()


def test_same_time_on_another_resource_is_accepted(book, resource, make_resource, at):
    book(resource, at(10), at(11))
    assert book(make_resource(), at(10), at(11)).status == BookingStatus.CONFIRMED


def test_cancelled_booking_no_longer_holds_its_time(book, resource, at, user, now):
    services.booking_cancel(booking=book(resource, at(10), at(11)), by=user, now=now)
    assert book(resource, at(10), at(11)).status == BookingStatus.CONFIRMED


def test_buffer_is_held_after_a_booking(book, make_resource, at):
    resource = make_resource(buffer_minutes=30)
    booking = book(resource, at(10), at(11))
    assert booking.blocked_until == at(11, 30)
    assert_refused(book, errors.SlotTaken, resource, at(11), at(12))
    assert book(resource, at(11, 30), at(12)).start == at(11, 30)
    assert_no_overlaps()


def test_buffer_is_held_before_a_booking(book, make_resource, at):
    """A new booking needs its own buffer before the next booking starts."""
    resource = make_resource(buffer_minutes=30)
    book(resource, at(10), at(11))
    assert_refused(book, errors.SlotTaken, resource, at(9), at(10))
    assert book(resource, at(8, 30), at(9, 30)).blocked_until == at(10)
    assert_no_overlaps()


# --- opening hours ------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [((19, 0), (20, 30)), ((7, 30), (8, 30)), ((20, 0), (21, 0))],
    ids=["spans-closing-time", "spans-opening-time", "after-closing"],
)
def test_booking_outside_opening_hours_is_refused(book, resource, at, start, end):
    assert_refused(book, errors.OutsideOpeningHours, resource, at(*start, days=1), at(*end, days=1))


def test_booking_up_to_closing_time_is_accepted(book, resource, at):
    assert book(resource, at(18), at(20)).end == at(20)


def test_booking_spanning_a_break_is_refused(book, resource, at, set_hours, now):
    set_hours(resource, {now.weekday(): [((8, 0), (12, 0)), ((13, 0), (18, 0))]})
    assert_refused(book, errors.OutsideOpeningHours, resource, at(11, 30), at(13, 30))
    assert_refused(book, errors.OutsideOpeningHours, resource, at(12), at(13))
    book(resource, at(11), at(12))
    book(resource, at(13), at(14))


def test_booking_on_a_closed_weekday_is_refused(book, make_resource, at):
    resource = make_resource(hours=((0, 5), (8, 20)))  # Monday to Friday
    assert book(resource, at(10, days=4), at(11, days=4)).status == BookingStatus.CONFIRMED  # Friday
    assert_refused(book, errors.OutsideOpeningHours, resource, at(10, days=5), at(11, days=5))  # Saturday


def test_resource_open_around_the_clock_takes_bookings_over_midnight(book, make_resource, at):
    resource = make_resource(hours=None)
    booking = book(resource, at(23), at(1, days=1))
    assert booking.end - booking.start == timedelta(hours=2)
    book(resource, at(3, days=1), at(4, days=1))
    assert_no_overlaps()


# --- duration and grid ------------------------------------------------------


def test_booking_longer_than_the_maximum_is_refused_naming_the_limit(book, resource, at):
    error = assert_refused(book, errors.TooLong, resource, at(8), at(12, 30))
    assert "4 h" in error.message
    assert book(resource, at(8), at(12)).status == BookingStatus.CONFIRMED


def test_booking_shorter_than_the_minimum_is_refused_naming_the_limit(book, make_resource, at):
    resource = make_resource(min_duration_minutes=90)
    error = assert_refused(book, errors.TooShort, resource, at(10), at(11))
    assert "1 h 30 min" in error.message
    book(resource, at(10), at(11, 30))


@pytest.mark.parametrize(
    ("start", "end"),
    [((10, 15), (11, 0)), ((10, 0), (10, 45)), ((10, 0, 30), (11, 0))],
    ids=["start-off-grid", "end-off-grid", "start-has-seconds"],
)
def test_booking_off_the_slot_grid_is_refused(book, resource, at, start, end):
    hour, minute, *seconds = start
    start_at = at(hour, minute) + timedelta(seconds=seconds[0] if seconds else 0)
    error = assert_refused(book, errors.NotOnSlotGrid, resource, start_at, at(*end))
    assert "30-minute" in error.message


def test_grid_is_counted_from_local_midnight(book, make_resource, at):
    resource = make_resource(slot_minutes=45, min_duration_minutes=45)
    book(resource, at(9), at(9, 45))  # 9:00 = 12 × 45 min after midnight
    assert_refused(book, errors.NotOnSlotGrid, resource, at(10), at(10, 45))


# --- notice, advance, past --------------------------------------------------


def test_booking_without_the_minimum_notice_is_refused(book, make_resource, at):
    resource = make_resource(min_notice_minutes=120)
    error = assert_refused(book, errors.TooLateToBook, resource, at(9, 30), at(10, 30))
    assert "2 h" in error.message
    assert book(resource, at(10), at(11)).start == at(10)


def test_booking_too_far_ahead_is_refused(book, make_resource, at):
    resource = make_resource(max_advance_days=30)
    error = assert_refused(book, errors.TooFarAhead, resource, at(10, days=31), at(11, days=31))
    assert "30" in error.message
    assert book(resource, at(10, days=30), at(11, days=30)).status == BookingStatus.CONFIRMED


def test_booking_in_the_past_is_refused(book, resource, at):
    assert_refused(book, errors.InThePast, resource, at(10, days=-1), at(11, days=-1))


def test_booking_starting_now_is_accepted_without_notice(book, resource, now):
    assert book(resource, now, now + timedelta(hours=1)).start == now


# --- resource, range, note --------------------------------------------------


def test_booking_of_an_inactive_resource_is_refused(book, make_resource, at):
    assert_refused(book, errors.ResourceInactive, make_resource(is_active=False), at(10), at(11))


@pytest.mark.parametrize(("start", "end"), [(11, 10), (10, 10)], ids=["end-before-start", "empty"])
def test_booking_whose_end_is_not_after_its_start_is_refused(book, resource, at, start, end):
    assert_refused(book, errors.InvalidTimeRange, resource, at(start), at(end))


def test_note_longer_than_the_limit_is_refused(book, resource, at):
    error = assert_refused(book, errors.NoteTooLong, resource, at(10), at(11), note="x" * (rules.MAX_NOTE_LENGTH + 1))
    assert str(rules.MAX_NOTE_LENGTH) in error.message
    assert len(book(resource, at(10), at(11), note="x" * rules.MAX_NOTE_LENGTH).note) == rules.MAX_NOTE_LENGTH


def test_naive_datetimes_are_a_programming_error_not_a_user_error(book, resource, at):
    with pytest.raises(ValueError, match="aware"):
        book(resource, at(10).replace(tzinfo=None), at(11).replace(tzinfo=None))


def test_every_error_has_a_stable_code_and_a_filled_message():
    codes = {
        errors.SlotTaken: "slot_taken",
        errors.OutsideOpeningHours: "outside_opening_hours",
        errors.TooLong: "too_long",
        errors.TooShort: "too_short",
        errors.NotOnSlotGrid: "not_on_slot_grid",
        errors.TooLateToBook: "too_late_to_book",
        errors.TooFarAhead: "too_far_ahead",
        errors.InThePast: "in_the_past",
        errors.ResourceInactive: "resource_inactive",
        errors.NotAllowed: "not_allowed",
        errors.WrongStatus: "wrong_status",
        errors.InvalidTimeRange: "invalid_time_range",
        errors.AlreadyStarted: "already_started",
        errors.CheckInNotOpen: "check_in_not_open",
        errors.CheckInClosed: "check_in_closed",
        errors.NoteTooLong: "note_too_long",
    }
    params = {"limit": "1 h", "minutes": 15, "days": 30, "status": "cancelled"}
    for error, code in codes.items():
        instance = error(**params)
        assert isinstance(instance, errors.BookingError)
        assert instance.code == code
        assert "%(" not in instance.message and str(instance) == instance.message


@pytest.mark.parametrize(("minutes", "text"), [(45, "45 min"), (60, "1 h"), (90, "1 h 30 min"), (240, "4 h")])
def test_durations_read_as_people_write_them(minutes, text):
    assert rules.format_minutes(minutes) == text


def test_allowed_durations_are_on_the_grid_from_minimum_to_maximum(make_resource):
    resource = make_resource(slot_minutes=30, min_duration_minutes=45, max_duration_minutes=120)
    assert rules.durations(resource) == [timedelta(minutes=m) for m in (60, 90, 120)]
