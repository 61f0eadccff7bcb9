"""Reads: free intervals and starts, availability first, alternatives, a user's bookings.

Clock: Monday 2030-06-03 08:00; the default resource is open 8–20 daily,
30-minute grid, 30 min to 4 h. `tomorrow` keeps the clock out of the way.
"""

from datetime import timedelta

import pytest

from bookings import selectors, services
from bookings.models import BookingStatus, ResourceKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def tomorrow(now):
    return now.date() + timedelta(days=1)


def free(resource, day, now):
    return [(i.start, i.end) for i in selectors.resource_free_intervals(resource=resource, day=day, now=now)]


def test_free_intervals_of_an_empty_day_are_the_opening_hours(resource, tomorrow, at, now):
    assert free(resource, tomorrow, now) == [(at(8, days=1), at(20, days=1))]


def test_free_intervals_leave_out_live_bookings_but_not_cancelled_ones(book, resource, tomorrow, at, now, user):
    book(resource, at(10, days=1), at(11, days=1))
    cancelled = book(resource, at(14, days=1), at(15, days=1))
    services.booking_cancel(booking=cancelled, by=user, now=now)
    assert free(resource, tomorrow, now) == [(at(8, days=1), at(10, days=1)), (at(11, days=1), at(20, days=1))]


def test_free_intervals_keep_the_buffer_on_both_sides(book, make_resource, tomorrow, at, now):
    resource = make_resource(buffer_minutes=30)
    book(resource, at(10, days=1), at(11, days=1))
    # A new booking must end 30 min before 10:00 and may start 30 min after 11:00.
    assert free(resource, tomorrow, now) == [(at(8, days=1), at(9, 30, days=1)), (at(11, 30, days=1), at(20, days=1))]


def test_free_intervals_respect_breaks_and_closed_days(resource, set_hours, tomorrow, at, now):
    set_hours(resource, {tomorrow.weekday(): [((8, 0), (12, 0)), ((13, 0), (17, 0))]})
    assert free(resource, tomorrow, now) == [(at(8, days=1), at(12, days=1)), (at(13, days=1), at(17, days=1))]
    assert free(resource, tomorrow + timedelta(days=1), now) == []


def test_free_intervals_today_start_after_the_minimum_notice_on_the_grid(make_resource, at, now):
    resource = make_resource(min_notice_minutes=50)
    assert free(resource, now.date(), now) == [(at(9), at(20))]  # 08:50 rounded up to the grid
    assert free(resource, now.date(), now + timedelta(minutes=10)) == [(at(9), at(20))]


def test_free_intervals_end_at_the_last_bookable_day(make_resource, now, at):
    resource = make_resource(max_advance_days=7)
    assert free(resource, now.date() + timedelta(days=7), now) == [(at(8, days=7), at(20, days=7))]
    assert free(resource, now.date() + timedelta(days=8), now) == []


def test_gaps_shorter_than_the_minimum_duration_are_not_offered(book, make_resource, tomorrow, at, now):
    resource = make_resource(min_duration_minutes=60)
    book(resource, at(8, days=1), at(10, days=1))
    book(resource, at(10, 30, days=1), at(12, days=1))
    assert free(resource, tomorrow, now) == [(at(12, days=1), at(20, days=1))]


def test_free_intervals_are_aligned_to_the_grid(make_resource, set_hours, tomorrow, at, now):
    resource = make_resource(slot_minutes=60, min_duration_minutes=60)
    set_hours(resource, {tomorrow.weekday(): [((8, 30), (17, 30))]})
    assert free(resource, tomorrow, now) == [(at(9, days=1), at(17, days=1))]


def test_inactive_resource_has_no_free_time(make_resource, tomorrow, now):
    assert free(make_resource(is_active=False), tomorrow, now) == []


def test_free_starts_list_each_grid_start_with_the_lengths_that_fit(book, make_resource, tomorrow, at, now):
    resource = make_resource(hours=((0, 7), (8, 10)), max_duration_minutes=90)
    book(resource, at(9, 30, days=1), at(10, days=1))
    starts = selectors.resource_free_starts(resource=resource, day=tomorrow, now=now)
    minutes = [tuple(int(d.total_seconds() // 60) for d in s.durations) for s in starts]
    assert [s.start for s in starts] == [at(8, days=1), at(8, 30, days=1), at(9, days=1)]
    assert minutes == [(30, 60, 90), (30, 60), (30,)]


def test_durations_at_a_start(book, resource, at, now):
    book(resource, at(11, days=1), at(12, days=1))
    assert selectors.resource_durations_at(resource=resource, start=at(10, days=1), now=now) == (
        timedelta(minutes=30),
        timedelta(minutes=60),
    )
    assert selectors.resource_durations_at(resource=resource, start=at(11, days=1), now=now) == ()


def test_availability_first_lists_the_resources_free_for_the_whole_range(book, make_resource, at, now):
    free_room = make_resource(name="Room A", kind=ResourceKind.SPACE, category="Rooms")
    booked_room = make_resource(name="Room B", kind=ResourceKind.SPACE, category="Rooms")
    buffered_room = make_resource(name="Room C", kind=ResourceKind.SPACE, category="Rooms", buffer_minutes=30)
    closed_room = make_resource(name="Room D", kind=ResourceKind.SPACE, category="Rooms", hours=((0, 1), (8, 12)))
    make_resource(name="Room E", kind=ResourceKind.SPACE, category="Rooms", is_active=False)
    camera = make_resource(name="Camera", kind=ResourceKind.EQUIPMENT, category="Video")
    book(booked_room, at(10, 30, days=1), at(11, days=1))
    book(buffered_room, at(11, days=1), at(12, days=1))  # a 10–11 booking would need until 11:30

    found = selectors.resources_free_between(start=at(10, days=1), end=at(11, days=1), now=now)
    assert {r.name for r in found} == {free_room.name, camera.name}
    assert closed_room not in found
    spaces = selectors.resources_free_between(start=at(10, days=1), end=at(11, days=1), kind="space", now=now)
    assert [r.name for r in spaces] == ["Room A"]
    video = selectors.resources_free_between(start=at(10, days=1), end=at(11, days=1), category="video", now=now)
    assert [r.name for r in video] == ["Camera"]


def test_availability_first_applies_the_booking_rules(make_resource, at, now):
    make_resource(name="Short only", max_duration_minutes=60)
    found = selectors.resources_free_between(start=at(10, days=1), end=at(12, days=1), now=now)
    assert "Short only" not in {r.name for r in found}
    assert selectors.resources_free_between(start=at(10, 15, days=1), end=at(11, days=1), now=now) == []


def test_nearest_alternatives_offer_the_same_length_nearby_and_other_resources_of_the_kind(
    book, resource, make_resource, at, now
):
    twin = make_resource(name="Second projector")
    make_resource(name="Meeting room", kind=ResourceKind.SPACE)
    book(resource, at(10, days=1), at(11, days=1))

    same, others = selectors.nearest_free_alternatives(
        resource=resource, start=at(10, days=1), end=at(11, days=1), now=now
    )
    assert len(same) == 3 and same == sorted(same)
    assert {at(9, days=1), at(11, days=1)} <= set(same)
    assert all(abs(s - at(10, days=1)) <= timedelta(minutes=90) for s in same)
    assert [r.name for r in others] == [twin.name]


def test_nearest_alternatives_look_at_the_next_days_when_the_day_is_full(book, make_resource, at, now):
    resource = make_resource(hours=((0, 7), (8, 10)))
    book(resource, at(8, days=1), at(10, days=1))
    same, _ = selectors.nearest_free_alternatives(resource=resource, start=at(8, days=1), end=at(10, days=1), now=now)
    assert same == [at(8, days=2)]


def test_user_upcoming_bookings_are_their_own_live_ones_soonest_first(
    book, make_resource, resource, at, now, user, other_user
):
    later = book(resource, at(14), at(15))
    sooner = book(make_resource(), at(9), at(10))
    book(resource, at(16), at(17), by=other_user)
    cancelled = book(resource, at(18), at(19))
    services.booking_cancel(booking=cancelled, by=user, now=now)

    assert selectors.user_upcoming_bookings(user=user, now=now) == [sooner, later]
    assert selectors.user_upcoming_bookings(user=user, now=at(10)) == [later]


def test_user_history_is_their_finished_bookings_newest_first(book, resource, at, now, user, other_user):
    older = book(resource, at(9), at(10))
    newer = book(resource, at(10), at(11))
    book(resource, at(12), at(13))  # still upcoming
    book(resource, at(13), at(14), by=other_user)
    for booking in (older, newer):
        services.booking_cancel(booking=booking, by=user, now=now)

    assert selectors.user_booking_history(user=user) == [newer, older]
    assert selectors.user_booking_history(user=user, limit=1) == [newer]


def test_user_history_carries_the_rejection_reason_in_one_query(
    book, make_resource, resource, at, now, user, staff, django_assert_num_queries
):
    approval = make_resource(requires_approval=True)
    rejected = book(approval, at(9), at(10))
    services.booking_reject(booking=rejected, by=staff, reason="Exams", now=now)
    cancelled = book(resource, at(12), at(13))
    services.booking_cancel(booking=cancelled, by=user, reason="Plans changed", now=now)

    with django_assert_num_queries(1):
        history = selectors.user_booking_history(user=user)
        reasons = {b.pk: (b.resource.name, b.rejection_reason) for b in history}

    assert reasons == {rejected.pk: (approval.name, "Exams"), cancelled.pk: (resource.name, "")}


def test_pending_approval_lists_only_pending_bookings_by_start(book, make_resource, resource, at):
    approval = make_resource(requires_approval=True)
    later = book(approval, at(12), at(13))
    sooner = book(approval, at(10), at(11))
    book(resource, at(10), at(11))
    assert selectors.bookings_pending_approval() == [sooner, later]
    assert selectors.bookings_pending_approval(limit=1) == [sooner]


def test_bookings_on_a_day_include_finished_but_not_withdrawn_ones(book, make_resource, at, now, user, staff):
    around_the_clock = make_resource(name="A-night", hours=None)
    other = make_resource(name="B-day", requires_approval=True)
    overnight = book(around_the_clock, at(23), at(1, days=1))
    today = book(around_the_clock, at(10), at(11))
    rejected = book(other, at(12), at(13))
    services.booking_reject(booking=rejected, by=staff, now=now)
    tomorrow_day = book(other, at(9, days=1), at(10, days=1))

    assert selectors.bookings_on_day(day=now.date()) == [today, overnight]
    assert selectors.bookings_on_day(day=now.date() + timedelta(days=1)) == [overnight, tomorrow_day]


def test_a_user_gets_only_their_own_booking_and_staff_get_any(book, resource, at, user, other_user, staff):
    booking = book(resource, at(10), at(11))
    assert selectors.booking_get(booking_id=booking.pk, user=user) == booking
    assert selectors.booking_get(booking_id=booking.pk, user=other_user) is None
    assert selectors.booking_get(booking_id=booking.pk, user=staff) == booking
    assert list(selectors.bookings_visible_to(user=other_user)) == []
    assert list(selectors.bookings_visible_to(user=staff, status=BookingStatus.CONFIRMED)) == [booking]


def test_resources_list_filters_and_categories(make_resource):
    make_resource(name="Beamer", category="AV")
    make_resource(name="Lab", kind=ResourceKind.SPACE, category="Labs")
    make_resource(name="Old", category="Retired", is_active=False)
    assert [r.name for r in selectors.resources_list(category="av")] == ["Beamer"]
    assert [r.name for r in selectors.resources_list(kind=ResourceKind.SPACE)] == ["Lab"]
    assert selectors.resource_categories() == ["AV", "Labs"]
    assert (
        selectors.resource_get(resource_id=selectors.resources_list(include_inactive=True).get(name="Old").pk) is None
    )


def test_resources_matching_finds_a_word_of_the_name_and_prefers_the_exact_name(make_resource):
    orion = make_resource(name="Meeting room Orion")
    make_resource(name="Meeting room Vega")
    cart = make_resource(name="Laptop cart (30 laptops)")
    laptop = make_resource(name="Laptop")
    make_resource(name="Retired room Orionis", is_active=False)

    assert selectors.resources_matching(text="orion") == [orion]
    assert selectors.resources_matching(text="  ORION ") == [orion]
    assert {r.name for r in selectors.resources_matching(text="meeting room")} == {
        "Meeting room Orion",
        "Meeting room Vega",
    }
    assert selectors.resources_matching(text="laptop") == [laptop]  # exact name wins
    assert selectors.resources_matching(text="laptops") == [cart]
    assert selectors.resources_matching(text="rion") == []  # inside a word is not a match
    assert selectors.resources_matching(text="") == []
