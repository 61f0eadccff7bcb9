"""No double booking under concurrency, on PostgreSQL and on SQLite.

Twenty clients, each a thread with its own database connection, book at
the same moment. On PostgreSQL the exclusion constraint decides; on SQLite
(the embedded default) IMMEDIATE transactions serialise the writers and the
service's overlap check decides. Either way the losers hear SlotTaken (never
IntegrityError or "database is locked") and no live bookings overlap.
"""

import pytest
from django.db import IntegrityError, transaction

from bookings import availability, errors, services
from bookings.models import Booking, BookingStatus

from .concurrency import run_together
from .conftest import assert_no_overlaps

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 20


def race(resource, users, slots, now):
    """Each user books one of `slots` (cycled), all at once; returns the outcomes."""
    calls = [
        (
            lambda user=user, slot=slots[i % len(slots)]: services.booking_create(
                user=user, resource=resource, start=slot[0], end=slot[1], now=now
            )
        )
        for i, user in enumerate(users)
    ]
    return run_together(calls)


def assert_one_winner(outcomes):
    winners = [result for kind, result in outcomes if kind == "ok"]
    losers = [result for kind, result in outcomes if kind == "error"]
    assert len(winners) == 1, outcomes
    assert all(isinstance(e, errors.SlotTaken) and e.code == "slot_taken" for e in losers), losers
    assert Booking.objects.filter(status=BookingStatus.CONFIRMED).count() == 1
    assert_no_overlaps()  # in Python, and with the SQL range query on PostgreSQL
    return winners[0]


@pytest.fixture
def clients(make_user):
    return [make_user() for _ in range(CLIENTS)]


def test_twenty_clients_booking_the_same_slot_get_one_booking_and_nineteen_slot_taken(resource, clients, at, now):
    winner = assert_one_winner(race(resource, clients, [(at(10), at(11))], now))
    assert (winner.start, winner.end) == (at(10), at(11))


def test_clients_booking_overlapping_different_slots_get_one_booking(resource, clients, at, now):
    assert_one_winner(race(resource, clients, [(at(10), at(11)), (at(10, 30), at(11, 30))], now))


def test_clients_booking_back_to_back_slots_with_a_buffer_get_one_booking(make_resource, clients, at, now):
    resource = make_resource(buffer_minutes=30)  # 10–11 holds until 11:30; 11–12 needs 10:30 free
    assert_one_winner(race(resource, clients, [(at(10), at(11)), (at(11), at(12))], now))


@pytest.mark.postgres
def test_a_race_the_pre_check_misses_still_ends_as_slot_taken(resource, clients, at, now, monkeypatch):
    """Without the service's friendly pre-check every loss goes through the constraint."""
    monkeypatch.setattr(availability, "live_bookings_meeting", lambda **kwargs: Booking.objects.none())
    assert_one_winner(race(resource, clients, [(at(10), at(11)), (at(10, 30), at(11, 30))], now))


def test_clients_booking_disjoint_slots_all_succeed(make_resource, clients, at, now):
    resource = make_resource(hours=None)
    slots = [(at(hour, days=1), at(hour + 1, days=1)) for hour in range(CLIENTS)]
    outcomes = race(resource, clients, slots, now)
    assert [kind for kind, _ in outcomes] == ["ok"] * CLIENTS
    assert_no_overlaps()


@pytest.mark.postgres
def test_the_constraint_rejects_an_overlapping_insert_that_bypasses_the_service(resource, user, at, now):
    services.booking_create(user=user, resource=resource, start=at(10), end=at(11), now=now)
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        Booking.objects.create(  # deliberately around the service: the database must still say no
            resource=resource,
            user=user,
            start=at(10, 30),
            end=at(11, 30),
            blocked_until=at(11, 30),
            status=BookingStatus.CONFIRMED,
        )
    assert caught.value.__cause__.sqlstate == services.EXCLUSION_VIOLATION
    assert Booking.objects.count() == 1


def test_the_constraint_ignores_bookings_that_no_longer_hold_time(resource, user, at, now):
    for status in (BookingStatus.CANCELLED, BookingStatus.EXPIRED, BookingStatus.REJECTED, BookingStatus.COMPLETED):
        Booking.objects.create(
            resource=resource, user=user, start=at(10), end=at(11), blocked_until=at(11), status=status
        )
    services.booking_create(user=user, resource=resource, start=at(10), end=at(11), now=now)
    assert Booking.objects.count() == 5


@pytest.mark.postgres
def test_the_constraint_holds_the_buffer(make_resource, user, at):
    resource = make_resource(buffer_minutes=30)
    Booking.objects.create(
        resource=resource,
        user=user,
        start=at(10),
        end=at(11),
        blocked_until=at(11, 30),
        status=BookingStatus.CONFIRMED,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            resource=resource,
            user=user,
            start=at(11),
            end=at(12),
            blocked_until=at(12, 30),
            status=BookingStatus.PENDING,
        )


def test_ten_concurrent_bookings_of_one_user_under_a_limit_of_two_give_two_bookings_and_eight_quota_exceeded(
    make_resource, user, at, now
):
    """booking_create locks the user's row before counting, so concurrent requests cannot both pass a quota."""
    from bookings.models import QuotaRule

    # Ten resources, so the resource locks do not queue the requests: only the user's lock can.
    resources = [make_resource(hours=None, category="Laptops") for _ in range(10)]
    QuotaRule.objects.create(category="Laptops", kind="bookings", period="day", limit=2)
    calls = [
        (
            lambda hour=hour, resource=resource: services.booking_create(
                user=user, resource=resource, start=at(hour, days=1), end=at(hour + 1, days=1), now=now
            )
        )
        for hour, resource in enumerate(resources)
    ]
    outcomes = run_together(calls)
    winners = [result for kind, result in outcomes if kind == "ok"]
    losers = [result for kind, result in outcomes if kind == "error"]
    assert len(winners) == 2, outcomes
    assert len(losers) == 8 and all(e.code == "quota_exceeded" for e in losers), losers
    assert Booking.objects.filter(user=user, status=BookingStatus.CONFIRMED).count() == 2
