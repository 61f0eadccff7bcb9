"""The day timeline's segments (opening hours, closures, bookings, own, pending, DST days, zones)
and its version counters, bumped by every booking change of the day."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookings import policies, pools, services, timeline
from bookings.models import Booking, BookingStatus, ClosureReason, ResourceDayVersion
from bookings.rules import site_zone
from bookings.timeline import BOOKED, CLOSED, FREE, HELD, OUTSIDE, OWN, PENDING

pytestmark = pytest.mark.django_db


def states(row):
    """[(local start 'HH:MM', state), ...] of a row, in the site's zone."""
    return [(f"{s.start.astimezone(site_zone()):%H:%M}", s.state) for s in row.segments]


def test_a_day_is_outside_hours_then_free_then_outside(resource, now):
    day = timeline.day_timeline(resources=[resource], day=now.date(), now=now)

    assert states(day.rows[0]) == [("00:00", OUTSIDE), ("08:00", FREE), ("20:00", OUTSIDE)]
    assert day.now == now.astimezone(UTC)
    assert len(day.hour_marks()) == 24


def test_bookings_own_and_pending_have_their_states(make_resource, book, at, user, other_user, now):
    plain = make_resource(name="Camera")
    approval = make_resource(name="Studio", requires_approval=True)
    book(plain, at(9), at(10), by=other_user)
    book(plain, at(11), at(12), by=user)
    book(approval, at(13), at(14), by=other_user)

    day = timeline.day_timeline(resources=[plain, approval], day=now.date(), viewer=user, now=now)

    assert states(day.rows[0]) == [
        ("00:00", OUTSIDE),
        ("08:00", FREE),
        ("09:00", BOOKED),
        ("10:00", FREE),
        ("11:00", OWN),
        ("12:00", FREE),
        ("20:00", OUTSIDE),
    ]
    assert (("13:00", PENDING)) in states(day.rows[1])
    # Without a viewer nobody's booking is "own".
    anonymous = timeline.day_timeline(resources=[plain], day=now.date(), now=now)
    assert ("11:00", BOOKED) in states(anonymous.rows[0])


def test_cancelled_bookings_are_free_again_and_a_held_status_shows_as_held(resource, book, at, user, now):
    cancelled = book(resource, at(9), at(10))
    services.booking_cancel(booking=cancelled, by=user, now=now)
    held = book(resource, at(15), at(16))
    Booking.objects.filter(pk=held.pk).update(status=timeline.HELD_STATUS)  # the waitlist's status, by its value

    day = timeline.day_timeline(resources=[resource], day=now.date(), now=now)

    assert ("09:00", BOOKED) not in states(day.rows[0])
    assert ("15:00", HELD) in states(day.rows[0])


def test_closures_and_out_of_service_are_closed(make_resource, at, staff, now):
    room = make_resource(name="Room", category="Rooms")
    broken = make_resource(name="Broken", out_of_service_since=now)
    policies.closure_create(
        by=staff, resource=room, start=at(12), end=at(23), reason_kind=ClosureReason.MAINTENANCE, now=now
    )

    day = timeline.day_timeline(resources=[room, broken], day=now.date(), now=now)

    assert states(day.rows[0]) == [("00:00", OUTSIDE), ("08:00", FREE), ("12:00", CLOSED), ("23:00", OUTSIDE)]
    assert states(day.rows[1]) == [("00:00", CLOSED)]


def test_spring_forward_day_has_23_hours_and_autumn_25(make_resource):
    always = make_resource(hours=None)
    spring = timeline.day_timeline(resources=[always], day=date(2030, 3, 31), now=datetime(2030, 3, 1, tzinfo=UTC))
    autumn = timeline.day_timeline(resources=[always], day=date(2030, 10, 27), now=datetime(2030, 3, 1, tzinfo=UTC))

    assert spring.end - spring.start == timedelta(hours=23)
    assert [label for _, label in spring.hour_marks()][:4] == ["00", "01", "03", "04"]
    assert autumn.end - autumn.start == timedelta(hours=25)
    assert [label for _, label in autumn.hour_marks()][:5] == ["00", "01", "02", "02", "03"]
    assert [s.state for s in spring.rows[0].segments] == [FREE]
    assert spring.now is None


def test_the_day_is_the_viewers_local_day(resource, book, at, now):
    book(resource, at(9), at(10))
    tokyo = ZoneInfo("Asia/Tokyo")  # 7 hours ahead of Berlin in June

    day = timeline.day_timeline(resources=[resource], day=now.date(), zone=tokyo, now=now)

    labels = [(f"{s.start.astimezone(tokyo):%H:%M}", s.state) for s in day.rows[0].segments]
    # Berlin's 08:00–20:00 is Tokyo's 15:00–03:00: the Tokyo day starts in the evening of Berlin's day before.
    assert labels == [("00:00", FREE), ("03:00", OUTSIDE), ("15:00", FREE), ("16:00", BOOKED), ("17:00", FREE)]


def version(resource, day):
    row = ResourceDayVersion.objects.filter(resource=resource, day=day).first()
    return row.version if row else 0


@pytest.mark.django_db(transaction=True)  # the counters move when the change commits
def test_every_booking_change_bumps_its_day_and_only_its_day(resource, book, at, user, now):
    today, tomorrow = now.date(), now.date() + timedelta(days=1)
    booking = book(resource, at(9), at(10))
    assert (version(resource, today), version(resource, tomorrow)) == (1, 0)

    services.booking_cancel(booking=booking, by=user, now=now)
    assert version(resource, today) == 2
    book(resource, at(9, days=1), at(10, days=1))
    assert (version(resource, today), version(resource, tomorrow)) == (2, 1)


@pytest.mark.django_db(transaction=True)  # the counters move when the change commits
def test_a_move_bumps_the_old_day_and_the_new(make_resource, book, at, user, now):
    from bookings import reschedule

    resource = make_resource(hours=None)
    booking = book(resource, at(9), at(10))
    reschedule.booking_move(booking=booking, by=user, start=at(9, days=3), end=at(10, days=3), now=now)

    assert version(resource, now.date()) == 2
    assert version(resource, now.date() + timedelta(days=3)) == 1
    assert version(resource, now.date() + timedelta(days=1)) == 0


@pytest.mark.django_db(transaction=True)  # the counters move when the change commits
def test_a_unit_swap_bumps_both_units(make_pool, at, user, staff, now):
    pool = make_pool(units=2, hours=None)
    first, second = pools.pool_units(pool=pool)
    booking = services.booking_create(user=user, resource=first, start=at(9), end=at(10), now=now)
    pools.pool_unit_swap(booking=booking, unit=second, by=staff, now=at(8, 50))

    assert version(first, now.date()) == 2
    assert version(second, now.date()) == 1


@pytest.mark.django_db(transaction=True)  # the counters move when the change commits
def test_fingerprint_changes_with_bookings_closures_own_and_now(resource, book, at, user, other_user, staff, now):
    def fingerprint(viewer=None, when=now):
        return timeline.day_timeline_fingerprint(resources=[resource], day=now.date(), viewer=viewer, now=when)

    empty = fingerprint()
    assert fingerprint() == empty
    assert fingerprint(when=now + timedelta(minutes=5)) == empty  # the now mark moves in 10-minute steps
    assert fingerprint(when=now + timedelta(minutes=10)) != empty
    assert fingerprint(when=now + timedelta(days=1)) != empty  # no longer today: no now mark
    book(resource, at(9), at(10), by=other_user)
    booked = fingerprint()
    assert booked != empty
    assert fingerprint(viewer=user) == booked  # nothing of Alice's that day: her picture is everyone's
    book(resource, at(11), at(12), by=user)
    assert fingerprint(viewer=user) != fingerprint(viewer=other_user)
    before = fingerprint()
    policies.closure_create(
        by=staff, resource=resource, start=at(18), end=at(19), reason_kind=ClosureReason.OTHER, now=now
    )
    assert fingerprint() != before


@pytest.mark.django_db(transaction=True)  # the counters move when the change commits
def test_sweeps_bump_in_one_go(resource, book, at, now):
    booking = book(resource, at(9), at(10))
    services.bookings_start_due(now=at(9, 1))

    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.ACTIVE
    assert version(resource, now.date()) == 2


@pytest.mark.django_db(transaction=True)
def test_a_change_that_rolls_back_moves_no_counter(resource, book, at):
    from django.db import transaction

    def book_then_fail():
        with transaction.atomic():
            book(resource, at(9), at(10))
            raise RuntimeError("the caller fails after booking")

    with pytest.raises(RuntimeError):
        book_then_fail()

    assert Booking.objects.count() == 0
    assert version(resource, at(9).date()) == 0
