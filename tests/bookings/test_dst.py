"""Daylight-saving days in Europe/Berlin: the slot grid is wall-clock, lengths are real time.

2030-03-31: clocks jump 02:00 → 03:00 (the day has 23 hours).
2030-10-27: clocks fall back 03:00 → 02:00 (the day has 25 hours).
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from bookings import errors, rules, selectors, services
from bookings.models import BookingStatus
from bookings.rules import site_zone

pytestmark = pytest.mark.django_db

SPRING_FORWARD = date(2030, 3, 31)
FALL_BACK = date(2030, 10, 27)


def local(day, hour, minute=0, fold=0):
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=site_zone(), fold=fold)


@pytest.fixture
def eve():
    """The clock: the day before spring-forward, 08:00."""
    return local(SPRING_FORWARD - timedelta(days=1), 8)


@pytest.fixture
def round_the_clock(make_resource):
    return make_resource(hours=None, max_duration_minutes=4 * 60, max_advance_days=366)


def test_free_starts_on_spring_forward_day_follow_the_wall_clock_and_skip_the_missing_hour(round_the_clock, eve):
    starts = [s.start for s in selectors.resource_free_starts(resource=round_the_clock, day=SPRING_FORWARD, now=eve)]
    wall_times = [s.astimezone(site_zone()).strftime("%H:%M") for s in starts]

    assert wall_times[:6] == ["00:00", "00:30", "01:00", "01:30", "03:00", "03:30"]
    assert len(starts) == 46  # 23 hours × 2
    instants = [s.astimezone(UTC) for s in starts]
    assert instants == sorted(set(instants)), "each start once, in order"
    assert all(rules.is_on_grid(round_the_clock, s) for s in starts)


def test_free_starts_on_fall_back_day_are_distinct_and_on_the_wall_clock_grid(round_the_clock, eve):
    now = local(FALL_BACK - timedelta(days=1), 8)
    starts = selectors.resource_free_starts(resource=round_the_clock, day=FALL_BACK, now=now)
    instants = [s.start.astimezone(UTC) for s in starts]
    assert instants == sorted(set(instants))
    assert all(s.start.astimezone(site_zone()).minute in (0, 30) for s in starts)


def test_length_is_real_time_across_spring_forward(book, round_the_clock, eve):
    # 01:00 → 05:00 on the clock is 3 real hours.
    booking = book(round_the_clock, local(SPRING_FORWARD, 1), local(SPRING_FORWARD, 5), when=eve)
    assert rules.length_of(booking.start, booking.end) == timedelta(hours=3)


def test_booking_longer_than_the_maximum_in_real_time_is_refused_across_fall_back(book, round_the_clock):
    now = local(FALL_BACK - timedelta(days=1), 8)
    # 00:00 → 04:00 on the clock is 5 real hours: more than the 4-hour maximum.
    with pytest.raises(errors.TooLong):
        book(round_the_clock, local(FALL_BACK, 0), local(FALL_BACK, 4), when=now)
    assert book(round_the_clock, local(FALL_BACK, 0), local(FALL_BACK, 3), when=now).status == BookingStatus.CONFIRMED


def test_offered_durations_end_on_the_grid_and_are_accepted_on_spring_forward_day(book, round_the_clock, eve):
    free_start = next(
        s
        for s in selectors.resource_free_starts(resource=round_the_clock, day=SPRING_FORWARD, now=eve)
        if s.start == local(SPRING_FORWARD, 1, 30)
    )
    longest = free_start.durations[-1]
    end = free_start.end_after(longest)
    assert end == local(SPRING_FORWARD, 6, 30)  # 4 real hours after 01:30 CET
    booking = book(round_the_clock, free_start.start, end, when=eve)
    assert rules.length_of(booking.start, booking.end) == longest


def test_opening_hours_on_a_dst_day_are_wall_clock(book, make_resource, eve):
    resource = make_resource(max_advance_days=366)  # open 8–20 every day
    intervals = selectors.resource_free_intervals(resource=resource, day=SPRING_FORWARD, now=eve)
    assert [(i.start, i.end) for i in intervals] == [(local(SPRING_FORWARD, 8), local(SPRING_FORWARD, 20))]
    book(resource, local(SPRING_FORWARD, 8), local(SPRING_FORWARD, 9), when=eve)


def test_grid_rounding_never_returns_a_time_in_the_gap(make_resource):
    resource = make_resource(hours=None, slot_minutes=25, min_duration_minutes=25)
    before_gap = local(SPRING_FORWARD, 1, 50)
    up = rules.round_up_to_grid(resource, before_gap)
    down = rules.round_down_to_grid(resource, local(SPRING_FORWARD, 3, 10))
    for point in (up, down):
        assert rules.is_on_grid(resource, point)
        assert rules.normalised(point).utcoffset() == point.utcoffset()
    assert up.astimezone(UTC) > before_gap.astimezone(UTC)
    assert down.astimezone(UTC) <= local(SPRING_FORWARD, 3, 10).astimezone(UTC)


def test_grid_rounding_in_the_repeated_hour_never_moves_back_an_hour(make_resource):
    resource = make_resource(hours=None, slot_minutes=15)
    second_half_past_two = local(FALL_BACK, 2, 30, fold=1)  # 02:30 CET, an hour after 02:30 CEST
    assert rules.round_up_to_grid(resource, second_half_past_two) == second_half_past_two
    up = rules.round_up_to_grid(resource, local(FALL_BACK, 2, 31, fold=1))
    assert (up.hour, up.minute, up.utcoffset()) == (2, 45, timedelta(hours=1))
    down = rules.round_down_to_grid(resource, local(FALL_BACK, 2, 50, fold=1))
    assert (down.hour, down.minute, down.utcoffset()) == (2, 45, timedelta(hours=1))


def test_a_booking_in_the_repeated_hour_is_not_offered_again_an_hour_later(make_resource, user, now):
    """Found by the property test: 02:30 CEST for 45 min ends 02:15 CET; its buffer holds until
    02:30 CET. The free starts resumed at 02:30 CET but the grid walk stepped back to 02:45 CEST."""
    resource = make_resource(
        hours=None, slot_minutes=15, min_duration_minutes=45, max_duration_minutes=45, buffer_minutes=15
    )
    eve = local(FALL_BACK - timedelta(days=1), 8)
    start = local(FALL_BACK, 2, 30)
    services.booking_create(
        user=user, resource=resource, start=start, end=rules.add_elapsed(start, timedelta(minutes=45)), now=eve
    )
    offered = [s.start for s in selectors.resource_free_starts(resource=resource, day=FALL_BACK, now=eve)]
    held_from, held_until = start - timedelta(minutes=15), local(FALL_BACK, 2, 30, fold=1)
    assert not [s for s in offered if held_from.astimezone(UTC) < s.astimezone(UTC) < held_until.astimezone(UTC)]
    assert local(FALL_BACK, 2, 30, fold=1) in offered
    instants = [s.astimezone(UTC) for s in offered]
    assert instants == sorted(instants)  # the walk only ever goes forward
