"""Fixtures and checks shared by the booking-domain suites.

`book` creates a booking through the service at the fixed `now`;
`assert_no_overlaps` is the invariant every suite leans on: no two live
bookings of one resource hold overlapping time (buffer included), checked
in Python always and in SQL on PostgreSQL.
"""

from datetime import time

import pytest
from django.db import connection

from bookings import services
from bookings.models import LIVE_STATUSES, Booking, OpeningHours

# The overlap check of the issue, on the raw table: any row is a double booking.
OVERLAPPING_LIVE_PAIRS_SQL = """
SELECT a.id, b.id
FROM bookings_booking a
JOIN bookings_booking b
  ON a.resource_id = b.resource_id
 AND a.id < b.id
 AND tstzrange(a.start, a.blocked_until, '[)') && tstzrange(b.start, b.blocked_until, '[)')
WHERE a.status IN ('pending', 'confirmed', 'active', 'held')
  AND b.status IN ('pending', 'confirmed', 'active', 'held')
"""


def overlapping_live_pairs_sql(using=connection):
    with using.cursor() as cursor:
        cursor.execute(OVERLAPPING_LIVE_PAIRS_SQL)
        return cursor.fetchall()


def overlapping_live_pairs_python():
    """The same check in Python, on any database: pairs of live bookings whose held time meets."""
    pairs = []
    by_resource = {}
    for b in Booking.objects.filter(status__in=LIVE_STATUSES).order_by("resource_id", "start", "id"):
        by_resource.setdefault(b.resource_id, []).append(b)
    for bookings in by_resource.values():
        for i, a in enumerate(bookings):
            for b in bookings[i + 1 :]:
                if a.start < b.blocked_until and b.start < a.blocked_until:
                    pairs.append((a.pk, b.pk))
    return pairs


def assert_no_overlaps():
    assert overlapping_live_pairs_python() == []
    if connection.vendor == "postgresql":
        assert overlapping_live_pairs_sql() == []


@pytest.fixture
def book(user, now):
    """book(resource, start, end, by=user, note="", when=now): booking_create at the fixed clock."""

    def make(resource, start, end, *, by=None, note="", when=None):
        return services.booking_create(
            user=by or user, resource=resource, start=start, end=end, note=note, now=when or now
        )

    return make


@pytest.fixture
def set_hours():
    """set_hours(resource, {weekday: [(opens, closes), ...]}): replace a resource's opening hours."""

    def replace(resource, hours_by_weekday):
        resource.opening_hours.all().delete()
        OpeningHours.objects.bulk_create(
            OpeningHours(resource=resource, weekday=day, opens=time(*opens), closes=time(*closes))
            for day, intervals in hours_by_weekday.items()
            for opens, closes in intervals
        )
        return resource

    return replace


def history(booking):
    """The booking's history as (from, to, by id, reason) tuples, oldest first."""
    return [(e.from_status, e.to_status, e.by_id, e.reason) for e in booking.events.order_by("at", "id")]


@pytest.fixture
def signals_of():
    """signals_of(signal): a list that collects each sending's keyword arguments, disconnected after the test."""
    connected = []

    def collect(signal):
        seen = []

        def receiver(sender, **kwargs):
            seen.append(kwargs)

        signal.connect(receiver, weak=False)
        connected.append((signal, receiver))
        return seen

    yield collect
    for signal, receiver in connected:
        signal.disconnect(receiver)
