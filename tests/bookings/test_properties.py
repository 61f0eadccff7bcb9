"""Property tests (hypothesis) of the booking domain.

1. What the selectors offer, booking_create accepts, and what they do not
   offer it refuses — for random rules, random existing bookings and DST days.
2. A state machine of random create/cancel/approve/reject/check-in/finish/
   sweep steps at random times: no two live bookings of a resource ever
   overlap, the buffer holds, the sweeps leave nothing overdue, every
   refusal as slot_taken is true, and each booking's history is one chain.

Derandomized and bounded, so a run is repeatable and takes seconds.
"""

from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from bookings import errors, rules, selectors, services
from bookings.models import LIVE_STATUSES, Booking, BookingStatus, OpeningHours, Resource, ResourceKind
from bookings.rules import site_zone

from .conftest import assert_no_overlaps

pytestmark = pytest.mark.django_db

BOUNDED = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    # No shrinking: on these slow, database-bound examples it can run for minutes;
    # the assertion messages carry the failing times instead.
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Rollback(Exception):
    """Raised inside an atomic block to undo a trial booking."""


@contextmanager
def rolled_back():
    """Run the block in a savepoint and undo everything it wrote."""
    try:
        with transaction.atomic():
            yield
            raise Rollback
    except Rollback:
        pass


def accepted(user, resource, start, end, now):
    """Would booking_create accept this booking? (Tried, then undone.)"""
    try:
        with rolled_back():
            services.booking_create(user=user, resource=resource, start=start, end=end, now=now)
    except errors.BookingError:
        return False
    return True


def wall(day, minutes):
    """The local time `minutes` of wall clock after midnight of `day`, as a real local time."""
    return rules.normalised(datetime.combine(day, time.min, tzinfo=site_zone()) + timedelta(minutes=minutes))


# (now, day) pairs: an ordinary Monday, its next day, and both DST days of 2030.
CLOCKS = [
    (datetime(2030, 6, 3, 8, 10, tzinfo=site_zone()), date(2030, 6, 3)),
    (datetime(2030, 6, 3, 8, 10, tzinfo=site_zone()), date(2030, 6, 4)),
    (datetime(2030, 3, 30, 8, 0, tzinfo=site_zone()), date(2030, 3, 31)),
    (datetime(2030, 10, 26, 8, 0, tzinfo=site_zone()), date(2030, 10, 27)),
]

resource_rules = st.fixed_dictionaries(
    {
        "slot_minutes": st.sampled_from([15, 30, 60]),
        "min_slots": st.integers(1, 3),
        "extra_slots": st.integers(0, 6),
        "min_notice_minutes": st.sampled_from([0, 45, 120]),
        "buffer_minutes": st.sampled_from([0, 15, 30]),
        "hours": st.sampled_from(["day", "split", "around-the-clock"]),
    }
)
existing_bookings = st.lists(st.tuples(st.integers(0, 47), st.integers(1, 6)), max_size=6)


def make_resource_with(spec):
    slot = spec["slot_minutes"]
    resource = Resource.objects.create(
        name="Under test",
        kind=ResourceKind.EQUIPMENT,
        slot_minutes=slot,
        min_duration_minutes=slot * spec["min_slots"],
        max_duration_minutes=slot * (spec["min_slots"] + spec["extra_slots"]),
        min_notice_minutes=spec["min_notice_minutes"],
        buffer_minutes=spec["buffer_minutes"],
    )
    intervals = {"day": [(time(8), time(20))], "split": [(time(7), time(12)), (time(13), time(22))]}
    for opens, closes in intervals.get(spec["hours"], []):
        OpeningHours.objects.bulk_create(
            OpeningHours(resource=resource, weekday=d, opens=opens, closes=closes) for d in range(7)
        )
    return resource


@BOUNDED
@given(spec=resource_rules, existing=existing_bookings, clock=st.sampled_from(CLOCKS))
def test_what_the_selectors_offer_booking_create_accepts_and_nothing_else(user, spec, existing, clock):
    now, day = clock
    with rolled_back():
        resource = make_resource_with(spec)
        for half_hour, length in existing:
            start = wall(day, half_hour * 30)
            try:
                services.booking_create(
                    user=user,
                    resource=resource,
                    start=start,
                    end=rules.add_elapsed(start, resource.slot * length),
                    now=now,
                )
            except errors.BookingError:
                pass  # refused set-up bookings simply do not exist

        offered = {s.start: s for s in selectors.resource_free_starts(resource=resource, day=day, now=now)}
        for free_start in offered.values():
            for duration in {free_start.durations[0], free_start.durations[-1]}:
                assert accepted(user, resource, free_start.start, free_start.end_after(duration), now), (
                    free_start.start,
                    duration,
                )

        shortest = rules.durations(resource)[0]
        for minutes in range(0, 24 * 60, spec["slot_minutes"]):
            start = wall(day, minutes)
            if start.astimezone(site_zone()).date() != day or start in offered:
                continue
            assert not accepted(user, resource, start, rules.add_elapsed(start, shortest), now), start

        for half_hour, length in existing[:3]:  # availability first agrees with the service too
            start = wall(day, half_hour * 30 + 60)
            end = rules.add_elapsed(start, resource.slot * length)
            listed = resource in selectors.resources_free_between(start=start, end=end, now=now)
            assert listed == accepted(user, resource, start, end, now), (start, end)


# --- the state machine ------------------------------------------------------------------


def test_random_booking_life_never_double_books(now, make_user, make_resource):
    users = [make_user() for _ in range(3)]
    staff = make_user(is_staff=True)
    resources = [
        make_resource(name="Plain"),
        make_resource(name="Buffered, check-in", buffer_minutes=30, requires_check_in=True),
        make_resource(name="Approval, buffer", buffer_minutes=15, requires_approval=True),
        make_resource(name="Around the clock", hours=None, min_duration_minutes=60),
    ]
    run_state_machine_as_test(
        lambda: BookingLife(users=users, staff=staff, resources=resources, start_clock=now),
        settings=settings(BOUNDED, max_examples=80, stateful_step_count=40),
    )


class BookingLife(RuleBasedStateMachine):
    bookings = Bundle("bookings")

    def __init__(self, *, users, staff, resources, start_clock):
        super().__init__()
        self.users, self.staff, self.resources = users, staff, resources
        self.now = start_clock
        Booking.objects.all().delete()  # each run starts from an empty table (events cascade)

    @rule(minutes=st.sampled_from([5, 15, 30, 60, 120, 240]))
    def time_passes(self, minutes):
        self.now += timedelta(minutes=minutes)

    @rule(
        target=bookings,
        resource=st.integers(0, 3),
        day=st.integers(0, 1),
        half_hour=st.integers(14, 42),  # 07:00–21:00: mostly within opening hours
        slots=st.integers(1, 6),
        user=st.integers(0, 2),
    )
    def create(self, resource, day, half_hour, slots, user):
        resource = self.resources[resource]
        local_day = self.now.astimezone(site_zone()).date() + timedelta(days=day)
        start = wall(local_day, half_hour * 30)
        end = rules.add_elapsed(start, timedelta(minutes=30 * slots))
        try:
            booking = services.booking_create(
                user=self.users[user], resource=resource, start=start, end=end, now=self.now
            )
        except errors.SlotTaken:
            assert self.held_by_another(resource, start, end), "slot_taken without a conflicting live booking"
            return multiple()
        except errors.BookingError:
            return multiple()
        return booking.pk

    def held_by_another(self, resource, start, end):
        return Booking.objects.filter(
            resource=resource, status__in=LIVE_STATUSES, start__lt=end + resource.buffer, blocked_until__gt=start
        ).exists()

    def act(self, booking_id, service, by_owner=True, **kwargs):
        booking = Booking.objects.select_related("resource").get(pk=booking_id)
        by = booking.user if by_owner else self.staff
        try:
            service(booking=booking, by=by, now=self.now, **kwargs)
        except errors.BookingError:
            pass

    @rule(booking=bookings, by_owner=st.booleans())
    def cancel(self, booking, by_owner):
        self.act(booking, services.booking_cancel, by_owner)

    @rule(booking=bookings)
    def approve(self, booking):
        self.act(booking, services.booking_approve, by_owner=False)

    @rule(booking=bookings)
    def reject(self, booking):
        self.act(booking, services.booking_reject, by_owner=False, reason="no")

    @rule(booking=bookings)
    def check_in(self, booking):
        self.act(booking, services.booking_check_in)

    @rule(booking=bookings)
    def finish(self, booking):
        self.act(booking, services.booking_finish)

    @rule()
    def sweep(self):
        for run in (
            services.bookings_expire_unapproved,
            services.bookings_expire_no_shows,
            services.bookings_start_due,
            services.bookings_complete_ended,
        ):
            run(now=self.now)
        overdue = (
            Booking.objects.filter(status=BookingStatus.PENDING, start__lte=self.now)
            | Booking.objects.filter(status=BookingStatus.CONFIRMED, check_in_deadline__lte=self.now)
            | Booking.objects.filter(
                status=BookingStatus.CONFIRMED, check_in_deadline__isnull=True, start__lte=self.now
            )
            | Booking.objects.filter(status=BookingStatus.ACTIVE, end__lte=self.now)
        )
        assert not overdue.exists(), list(overdue)

    @invariant()
    def no_two_live_bookings_overlap(self):
        assert_no_overlaps()

    @invariant()
    def live_bookings_hold_their_buffer(self):
        for booking in Booking.objects.filter(status__in=LIVE_STATUSES).select_related("resource"):
            assert booking.blocked_until == booking.end + booking.resource.buffer

    def teardown(self):
        for booking in Booking.objects.prefetch_related("events"):
            chain = sorted(booking.events.all(), key=lambda e: (e.at, e.id))
            assert chain[0].from_status == ""
            assert all(a.to_status == b.from_status for a, b in zip(chain, chain[1:], strict=False))
            assert chain[-1].to_status == booking.status
