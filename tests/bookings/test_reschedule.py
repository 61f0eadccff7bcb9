"""Extend and move through the services (bookings.reschedule): every rule refuses, and a refusal changes nothing.

The default resource is equipment open 8:00–20:00 every day, on a 30-minute
grid, at most 4 h; the clock stands at Monday 08:00.
"""

from datetime import timedelta

import pytest

from bookings import errors, reschedule, selectors, services
from bookings.models import REASON_EXTENDED, REASON_MOVED, Booking, BookingStatus, Closure, QuotaRule
from bookings.reschedule import booking_extend, booking_extensions_possible, booking_move, freed_intervals
from bookings.signals import booking_rescheduled, time_freed

from .conftest import assert_no_overlaps, history

pytestmark = pytest.mark.django_db


def snapshot(booking):
    fresh = Booking.objects.get(pk=booking.pk)
    return (fresh.start, fresh.end, fresh.blocked_until, fresh.status, fresh.check_in_deadline, fresh.events.count())


# --- Extend -------------------------------------------------------------------------


def test_a_confirmed_booking_is_extended_by_half_an_hour(resource, user, book, at, now, signals_of):
    rescheduled = signals_of(booking_rescheduled)
    booking = book(resource, at(10), at(11))
    extended = booking_extend(booking=booking, by=user, minutes=30, now=now)
    fresh = Booking.objects.get(pk=booking.pk)
    assert (fresh.start, fresh.end, fresh.blocked_until, fresh.status) == (at(10), at(11, 30), at(11, 30), "confirmed")
    assert extended.end == at(11, 30)
    assert history(fresh)[-1] == ("confirmed", "confirmed", user.pk, REASON_EXTENDED)
    assert [(s["change"], s["old_end"]) for s in rescheduled] == [("extended", at(11))]


def test_an_active_booking_is_extended_while_it_runs(resource, user, book, at, now):
    booking = book(resource, at(8), at(9))
    services.booking_check_in(booking=booking, by=user, now=at(8, 10))
    booking_extend(booking=booking, by=user, minutes=60, now=at(8, 50))
    assert Booking.objects.get(pk=booking.pk).end == at(10)


def test_an_extension_keeps_the_buffer_the_booking_was_made_with(make_resource, user, book, at, now):
    resource = make_resource(buffer_minutes=15)
    booking = book(resource, at(10), at(11))
    booking_extend(booking=booking, by=user, minutes=30, now=now)
    assert Booking.objects.get(pk=booking.pk).blocked_until == at(11, 45)


@pytest.mark.parametrize("status", [BookingStatus.PENDING, BookingStatus.OVERDUE, BookingStatus.CANCELLED])
def test_only_confirmed_and_active_bookings_are_extended(resource, user, book, at, now, status):
    booking = book(resource, at(10), at(11))
    Booking.objects.filter(pk=booking.pk).update(status=status)
    booking.refresh_from_db()
    with pytest.raises(errors.WrongStatus):
        booking_extend(booking=booking, by=user, minutes=30, now=now)


def test_a_booking_past_its_end_is_not_extendable(resource, user, book, at, now):
    booking = book(resource, at(8), at(9))
    services.booking_check_in(booking=booking, by=user, now=at(8))
    with pytest.raises(errors.NotExtendable) as refused:
        booking_extend(booking=booking, by=user, minutes=30, now=at(9, 5))
    assert refused.value.code == "not_extendable"


def test_someone_elses_booking_is_not_theirs_to_extend_but_staff_may(resource, user, other_user, staff, book, at, now):
    booking = book(resource, at(10), at(11))
    with pytest.raises(errors.NotAllowed):
        booking_extend(booking=booking, by=other_user, minutes=30, now=now)
    booking_extend(booking=booking, by=staff, minutes=30, now=now)
    assert Booking.objects.get(pk=booking.pk).end == at(11, 30)


@pytest.mark.parametrize("minutes", [0, -30, 24 * 60 + 30, "30", True, None])
def test_an_extension_is_a_positive_whole_number_of_minutes(resource, user, book, at, now, minutes):
    booking = book(resource, at(10), at(11))
    with pytest.raises(errors.InvalidExtension) as refused:
        booking_extend(booking=booking, by=user, minutes=minutes, now=now)
    assert refused.value.code == "invalid_extension"


@pytest.mark.parametrize(
    ("minutes", "code"),
    [
        (15, "not_on_slot_grid"),  # the grid is 30 minutes
        (4 * 60, "too_long"),  # 1 h + 4 h > the 4 h maximum
    ],
)
def test_the_new_end_passes_the_resource_rules(resource, user, book, at, now, minutes, code):
    booking = book(resource, at(10), at(11))
    before = snapshot(booking)
    with pytest.raises(errors.BookingError) as refused:
        booking_extend(booking=booking, by=user, minutes=minutes, now=now)
    assert refused.value.code == code
    assert snapshot(booking) == before


def test_an_extension_past_closing_time_is_outside_opening_hours(resource, user, book, at, now):
    booking = book(resource, at(19), at(20))
    with pytest.raises(errors.OutsideOpeningHours):
        booking_extend(booking=booking, by=user, minutes=30, now=now)


def test_an_extension_into_a_closure_is_closed(resource, user, book, at, now):
    booking = book(resource, at(10), at(11))
    Closure.objects.create(resource=resource, start=at(11), end=at(12), reason_kind="maintenance")
    with pytest.raises(errors.Closed):
        booking_extend(booking=booking, by=user, minutes=30, now=now)


def test_an_extension_into_the_next_booking_is_slot_taken(resource, user, other_user, book, at, now):
    booking = book(resource, at(10), at(11))
    book(resource, at(11, 30), at(12), by=other_user)
    booking_extend(booking=booking, by=user, minutes=30, now=now)  # up to the next one: fine
    with pytest.raises(errors.SlotTaken) as refused:
        booking_extend(booking=booking, by=user, minutes=30, now=now)
    assert refused.value.code == "slot_taken"
    assert Booking.objects.get(pk=booking.pk).end == at(11, 30)
    assert_no_overlaps()


def test_an_extension_counts_against_an_hours_quota_once(resource, user, book, at, now):
    QuotaRule.objects.create(resource=resource, kind="hours", period="week", limit=2)
    booking = book(resource, at(10), at(11))
    booking_extend(booking=booking, by=user, minutes=60, now=now)  # 2 h of 2 h: its old hour is not counted again
    with pytest.raises(errors.QuotaExceeded) as refused:
        booking_extend(booking=booking, by=user, minutes=30, now=now)
    assert refused.value.code == "quota_exceeded"
    assert Booking.objects.get(pk=booking.pk).end == at(12)


def test_a_live_bookings_quota_does_not_count_the_extended_booking_twice(resource, user, book, at, now):
    QuotaRule.objects.create(resource=resource, kind="live", limit=1)
    booking = book(resource, at(10), at(11))
    booking_extend(booking=booking, by=user, minutes=30, now=now)
    assert Booking.objects.get(pk=booking.pk).end == at(11, 30)


def test_a_suspended_user_cannot_extend(resource, user, book, at, now):
    from bookings.models import Suspension

    booking = book(resource, at(10), at(11))
    Suspension.objects.create(user=user, start=now, until=now + timedelta(days=7), reason="no_show")
    with pytest.raises(errors.Suspended):
        booking_extend(booking=booking, by=user, minutes=30, now=now)


def test_an_extension_frees_no_time(resource, user, book, at, now, signals_of):
    freed = signals_of(time_freed)
    booking_extend(booking=book(resource, at(10), at(11)), by=user, minutes=30, now=now)
    assert freed == []


def test_a_stale_copy_of_the_booking_is_refused_as_changed(resource, user, book, at, now):
    booking = book(resource, at(10), at(11))
    stale = Booking.objects.select_related("resource", "user").get(pk=booking.pk)
    booking_extend(booking=booking, by=user, minutes=30, now=now)
    with pytest.raises(errors.BookingChanged) as refused:
        booking_extend(booking=stale, by=user, minutes=30, now=now)
    assert refused.value.code == "booking_changed"
    assert Booking.objects.get(pk=booking.pk).end == at(11, 30)  # not 12:00: the second press changed nothing


# --- Which extensions are offered -----------------------------------------------------


def test_both_extensions_are_offered_when_the_time_after_is_free(resource, user, book, at, now):
    booking = book(resource, at(10), at(11))
    assert booking_extensions_possible(booking, now) == (30, 60)
    assert selectors.booking_extensions_possible(booking, now) == (30, 60)


def test_only_the_extensions_that_fit_are_offered(resource, user, other_user, book, at, now):
    booking = book(resource, at(10), at(11))
    book(resource, at(11, 30), at(12), by=other_user)
    assert booking_extensions_possible(booking, now) == (30,)
    booking_extend(booking=booking, by=user, minutes=30, now=now)
    assert booking_extensions_possible(booking, now) == ()


def test_no_extension_is_offered_on_a_pending_booking_or_to_a_stranger(make_resource, user, other_user, book, at, now):
    pending = book(make_resource(requires_approval=True), at(10), at(11))
    assert booking_extensions_possible(pending, now) == ()
    confirmed = book(make_resource(), at(10), at(11))
    assert booking_extensions_possible(confirmed, now, user=other_user) == ()


# --- Move --------------------------------------------------------------------------


def test_a_booking_is_moved_to_a_free_time(resource, user, book, at, now, signals_of):
    rescheduled = signals_of(booking_rescheduled)
    booking = book(resource, at(10), at(11))
    booking_move(booking=booking, by=user, start=at(14), end=at(15, 30), now=now)
    fresh = Booking.objects.get(pk=booking.pk)
    assert (fresh.start, fresh.end, fresh.blocked_until, fresh.status) == (at(14), at(15, 30), at(15, 30), "confirmed")
    assert history(fresh)[-1] == ("confirmed", "confirmed", user.pk, REASON_MOVED)
    assert [(s["change"], s["old_start"], s["old_end"]) for s in rescheduled] == [("moved", at(10), at(11))]
    assert Booking.objects.count() == 1  # the same row, not a new booking


def test_a_move_may_overlap_its_own_old_time(resource, user, book, at, now):
    booking = book(resource, at(10), at(11))
    booking_move(booking=booking, by=user, start=at(10, 30), end=at(11, 30), now=now)
    assert Booking.objects.get(pk=booking.pk).start == at(10, 30)


def test_a_move_recomputes_the_check_in_deadline(make_resource, user, book, at, now):
    resource = make_resource(requires_check_in=True, check_in_grace_minutes=15)
    booking = book(resource, at(10), at(11))
    booking_move(booking=booking, by=user, start=at(14), end=at(15), now=now)
    assert Booking.objects.get(pk=booking.pk).check_in_deadline == at(14, 15)


def test_a_move_sends_time_freed_for_the_old_time_the_new_one_leaves(resource, user, book, at, now, signals_of):
    freed = signals_of(time_freed)
    booking = book(resource, at(10), at(12))
    booking_move(booking=booking, by=user, start=at(11), end=at(13), now=now)
    assert [(f["resource_id"], f["start"], f["end"]) for f in freed] == [(resource.pk, at(10), at(11))]
    booking_move(booking=booking, by=user, start=at(15), end=at(16), now=now)
    assert [(f["start"], f["end"]) for f in freed[1:]] == [(at(11), at(13))]


def test_freed_intervals_are_the_old_time_minus_the_new():
    assert freed_intervals((1, 5), (6, 8)) == [(1, 5)]
    assert freed_intervals((1, 5), (2, 4)) == [(1, 2), (4, 5)]
    assert freed_intervals((1, 5), (0, 6)) == []
    assert freed_intervals((1, 5), (3, 7)) == [(1, 3)]


def test_a_move_of_a_booking_that_needs_approval_needs_it_again(make_resource, user, staff, book, at, now):
    resource = make_resource(requires_approval=True)
    booking = book(resource, at(10), at(11))
    services.booking_approve(booking=booking, by=staff, now=now)
    booking_move(booking=booking, by=user, start=at(14), end=at(15), now=now)
    fresh = Booking.objects.get(pk=booking.pk)
    assert fresh.status == BookingStatus.PENDING
    assert history(fresh)[-1] == ("confirmed", "pending", user.pk, REASON_MOVED)


def test_staff_moving_a_booking_that_needs_approval_keep_it_confirmed(make_resource, user, staff, book, at, now):
    resource = make_resource(requires_approval=True)
    booking = book(resource, at(10), at(11))
    services.booking_approve(booking=booking, by=staff, now=now)
    booking_move(booking=booking, by=staff, start=at(14), end=at(15), now=now)
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED


def test_a_booking_that_started_is_not_movable(resource, user, book, at, now):
    booking = book(resource, at(8), at(9))
    with pytest.raises(errors.NotMovable) as refused:
        booking_move(booking=booking, by=user, start=at(14), end=at(15), now=at(8, 5))
    assert refused.value.code == "not_movable"


def test_an_active_booking_is_not_movable(resource, user, book, at, now):
    booking = book(resource, at(10), at(11))
    services.booking_check_in(booking=booking, by=user, now=at(9, 50))
    with pytest.raises(errors.WrongStatus):
        booking_move(booking=booking, by=user, start=at(14), end=at(15), now=at(9, 55))


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        ((14, 15), (14, 0), "invalid_time_range"),
        ((6, 0), (7, 0), "in_the_past"),
        ((14, 10), (15, 0), "not_on_slot_grid"),
        ((9, 0), (14, 0), "too_long"),
        ((19, 30), (20, 30), "outside_opening_hours"),
        ((12, 0), (13, 0), "slot_taken"),
        ((16, 0), (17, 0), "closed"),
        ((14, 0), (15, 30), "quota_exceeded"),  # 1.5 h + the user's other hour > the 2 h a week
    ],
)
def test_a_failed_move_keeps_the_old_booking_untouched(
    resource, user, other_user, book, at, now, signals_of, start, end, code
):
    booking = book(resource, at(10), at(11))
    book(resource, at(12), at(13), by=other_user)
    book(resource, at(18), at(19))  # the user's second hour this week
    Closure.objects.create(resource=resource, start=at(16), end=at(17), reason_kind="maintenance")
    QuotaRule.objects.create(resource=resource, kind="hours", period="week", limit=2)
    before = snapshot(booking)
    freed, rescheduled = signals_of(time_freed), signals_of(booking_rescheduled)
    with pytest.raises(errors.BookingError) as refused:
        booking_move(booking=booking, by=user, start=at(*start), end=at(*end), now=now)
    assert refused.value.code == code
    assert snapshot(booking) == before
    assert freed == [] and rescheduled == []


def test_a_move_into_an_hours_quota_counts_the_booking_once(resource, user, book, at, now):
    QuotaRule.objects.create(resource=resource, kind="hours", period="day", limit=2)
    booking = book(resource, at(10), at(12))  # 2 h of 2 h today
    booking_move(booking=booking, by=user, start=at(14), end=at(16), now=now)
    assert Booking.objects.get(pk=booking.pk).start == at(14)


def test_a_move_to_another_week_counts_in_that_week(resource, user, book, at, now):
    QuotaRule.objects.create(resource=resource, kind="bookings", period="week", limit=1)
    booking = book(resource, at(10), at(11))
    book(resource, at(10, days=7), at(11, days=7))  # next week's one booking
    with pytest.raises(errors.QuotaExceeded):
        booking_move(booking=booking, by=user, start=at(14, days=8), end=at(15, days=8), now=now)
    booking_move(booking=booking, by=user, start=at(14, days=1), end=at(15, days=1), now=now)


def test_the_extend_and_move_actions_are_asked_like_the_others(resource, user, other_user, book, at, now):
    from bookings.actions import Action, refusal

    booking = book(resource, at(10), at(11))
    assert refusal(Action.EXTEND, booking=booking, user=user, now=now) is None
    assert refusal(Action.MOVE, booking=booking, user=user, now=now) is None
    assert refusal(Action.MOVE, booking=booking, user=other_user, now=now).code == "not_allowed"
    assert refusal(Action.MOVE, booking=booking, user=user, now=at(10)).code == "not_movable"
    assert refusal(Action.EXTEND, booking=booking, user=user, now=at(11)).code == "not_extendable"
    # booking_actions lists the status changes only: what an extension needs is the database's answer.
    assert Action.EXTEND not in selectors.booking_actions(booking=booking, user=user, now=now)
    assert reschedule.EXTENSION_CHOICES == (30, 60)


def test_the_move_picker_counts_the_bookings_own_time_as_free(resource, user, book, at, now):
    booking = book(resource, at(10), at(11))
    own = [s.start for s in selectors.booking_move_starts(booking, day=now.date(), now=now)]
    others = [s.start for s in selectors.resource_free_starts(resource=resource, day=now.date(), now=now)]
    assert at(10, 30) in own and at(10, 30) not in others
    assert timedelta(hours=1) in selectors.booking_move_lengths(booking, start=at(10, 30), now=now)
    assert now.date() in selectors.booking_move_days(booking, first=now.date(), last=now.date(), now=now)
