"""Availability and booking at scale (issue 13): the set-based paths give the answers of the rules.

Availability first on PostgreSQL is one SQL statement (availability.free_resources); these tests
compare it, range by range, with the resource-by-resource Python of availability.free_among over a
catalogue that exercises every rule, and pin how many queries it and booking_create send.
"""

from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings import availability, selectors, services
from bookings.models import (
    Booking,
    BookingStatus,
    Closure,
    ClosureReason,
    OpeningHours,
    QuotaKind,
    QuotaPeriod,
    QuotaRule,
    ResourceKind,
)
from bookings.rules import site_zone


@pytest.fixture
def catalogue(make_resource, make_user, at, now, user):
    """Resources with every rule that decides availability, and bookings and closures around day 1."""
    make = make_resource
    rooms = [
        make(name="Room plain", kind=ResourceKind.SPACE, category="Rooms"),
        make(name="Room buffered", kind=ResourceKind.SPACE, category="Rooms", buffer_minutes=30),
        make(name="Room hourly", kind=ResourceKind.SPACE, category="Rooms", slot_minutes=60, min_duration_minutes=60),
        make(name="Room short", kind=ResourceKind.SPACE, category="rooms", max_duration_minutes=60),
        make(name="Room notice", kind=ResourceKind.SPACE, category="Rooms", min_notice_minutes=26 * 60),
        make(name="Room near", kind=ResourceKind.SPACE, category="Rooms", max_advance_days=1),
        make(name="Room closed", kind=ResourceKind.SPACE, category="Closed"),
        make(name="Room off", kind=ResourceKind.SPACE, category="Rooms", is_active=False),
        make(name="Room broken", kind=ResourceKind.SPACE, category="Rooms", out_of_service_since=now),
    ]
    lunch = make(name="Room lunch", kind=ResourceKind.SPACE, category="Rooms", hours=None)
    OpeningHours.objects.bulk_create(
        OpeningHours(resource=lunch, weekday=d, opens=time(*o), closes=time(*c))
        for d in range(7)
        for o, c in (((8, 0), (12, 0)), ((13, 0), (18, 0)))
    )
    devices = [
        make(name="Camera", category="Video", hours=None),
        make(name="Camera buffered", category="Video", hours=None, buffer_minutes=15),
        make(name="Laptop", category="Computers", hours=None, slot_minutes=15, min_duration_minutes=15),
        make(name="Laptop overdue", category="Computers", hours=None),
        make(name="Recorder", category="Audio", hours=None),
    ]
    other = make_user(first_name="Bob")
    book = services.booking_create
    book(user=other, resource=rooms[0], start=at(10, days=1), end=at(11, days=1), now=now)
    book(user=other, resource=rooms[1], start=at(12, days=1), end=at(13, days=1), now=now)
    book(user=other, resource=devices[0], start=at(23, days=1), end=at(23, 30, days=1), now=now)
    book(user=other, resource=devices[1], start=at(15, days=1), end=at(15, 30, days=1), now=now)
    book(user=other, resource=devices[2], start=at(9, 45, days=1), end=at(10, 15, days=1), now=now)
    late = book(user=other, resource=devices[3], start=at(6, 30), end=at(7, 30), now=now - timedelta(hours=2))
    Booking.objects.filter(pk=late.pk).update(status=BookingStatus.OVERDUE)
    done = book(user=other, resource=devices[4], start=at(14, days=1), end=at(15, days=1), now=now)
    Booking.objects.filter(pk=done.pk).update(status=BookingStatus.CANCELLED)  # not live: frees its time
    Closure.objects.create(category="Closed", start=at(0, days=1), end=at(0, days=3), reason_kind=ClosureReason.EXAMS)
    Closure.objects.create(
        resource=devices[4], start=at(16, days=1), end=at(17, days=1), reason_kind=ClosureReason.MAINTENANCE
    )
    Closure.objects.create(start=at(19, days=2), end=at(20, days=2), reason_kind=ClosureReason.HOLIDAYS)
    return rooms + [lunch] + devices


def ranges(at):
    """Ranges meeting every rule's edge: bookings, buffers, grids, lengths, breaks, midnight, closures."""
    found = []
    for hour, minute, minutes in (
        (8, 0, 60), (9, 30, 60), (10, 0, 60), (10, 30, 30), (11, 0, 60), (11, 30, 30), (11, 0, 90),
        (12, 30, 60), (9, 45, 30), (10, 15, 15), (12, 0, 120), (14, 30, 30), (15, 0, 60), (15, 45, 15),
        (16, 30, 60), (17, 30, 60), (19, 0, 120), (22, 30, 60), (23, 30, 60), (7, 0, 30), (10, 10, 20),
    ):  # fmt: skip
        for days in (1, 2):
            start = at(hour, minute, days=days)
            found.append((start, start + timedelta(minutes=minutes)))
    found += [(at(7, 0), at(8, 0)), (at(6, 0), at(7, 0)), (at(10, 0, days=40), at(11, 0, days=40))]
    return found


def test_availability_first_in_one_query_agrees_with_the_rules_of_each_resource(catalogue, at, now):
    checked = 0
    filters = ((ResourceKind.SPACE, None), (None, "rooms"), (None, "Video"))
    for i, (start, end) in enumerate(ranges(at)):
        for kind, category in ((None, None),) + (filters if i % 6 == 0 else ()):
            expected = availability.free_among(
                candidates=list(selectors.resources_list(kind=kind, category=category)), start=start, end=end, now=now
            )
            found = selectors.resources_free_between(start=start, end=end, kind=kind, category=category, now=now)
            assert [r.name for r in found] == [r.name for r in expected], (start, end, kind, category)
            checked += len(expected)
    assert checked > 100  # the ranges do find free resources, not only empty answers


@pytest.mark.postgres
def test_availability_first_is_one_query_however_many_resources(catalogue, make_resource, at, now):
    for n in range(20):
        make_resource(name=f"Extra {n}", hours=None)
    with CaptureQueriesContext(connection) as captured:
        found = selectors.resources_free_between(start=at(10, days=1), end=at(11, days=1), now=now)
    assert len(captured.captured_queries) == 1
    assert "Extra 19" in {r.name for r in found}


@pytest.mark.postgres
def test_a_page_of_availability_first_is_one_query_and_builds_only_its_rows(catalogue, make_resource, user, at, now):
    for n in range(20):
        make_resource(name=f"Extra {n:02}", hours=None)
    every = selectors.resources_free_between(start=at(10, days=1), end=at(11, days=1), now=now)
    with CaptureQueriesContext(connection) as captured:
        page = selectors.resources_free_page(
            user=user, start=at(10, days=1), end=at(11, days=1), offset=5, limit=4, now=now
        )
    # No access rule exists: the memberships query finds no chat and only the page's query remains
    # (besides the user's groups).
    assert len([q for q in captured.captured_queries if "bookings_resource" in q["sql"]]) == 1
    assert page.items == every[5:9] and page.total == len(every)


def test_availability_first_on_a_clock_change_day_follows_the_rules(make_resource, make_user):
    # 2030-10-27: Europe/Berlin repeats 02:00–03:00; the local-time rules are then decided in Python.
    zone = site_zone()
    now = datetime(2030, 10, 26, 12, 0, tzinfo=zone)
    make_resource(name="Night camera", hours=None)
    make_resource(name="Day room", kind=ResourceKind.SPACE)
    start = datetime(2030, 10, 27, 1, 0, tzinfo=zone)
    for end in (start + timedelta(hours=2), datetime(2030, 10, 27, 9, 0, tzinfo=zone)):
        expected = availability.free_among(candidates=list(selectors.resources_list()), start=start, end=end, now=now)
        assert selectors.resources_free_between(start=start, end=end, now=now) == expected
    day = datetime(2030, 10, 27, 9, 0, tzinfo=zone)
    found = selectors.resources_free_between(start=day, end=day + timedelta(hours=1), now=now)
    assert {r.name for r in found} == {"Night camera", "Day room"}


@pytest.mark.postgres
def test_booking_create_with_a_quota_rule_sends_few_queries(resource, user, at, now):
    QuotaRule.objects.create(kind=QuotaKind.BOOKINGS, period=QuotaPeriod.DAY, limit=5)
    services.booking_create(user=user, resource=resource, start=at(9, days=1), end=at(10, days=1), now=now)
    with CaptureQueriesContext(connection) as captured:
        booking = services.booking_create(
            user=user, resource=resource, start=at(10, days=1), end=at(11, days=1), now=now
        )
    assert booking.events.count() == 1
    assert len(captured.captured_queries) <= 14
