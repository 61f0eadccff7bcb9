"""Closures as the chat reads them: the days a closure takes entirely, the closures of one day,
the policy refusal a confirm screen shows, and the reason a cancelled booking's user reads."""

import zoneinfo
from datetime import datetime, time, timedelta

import pytest
from django.utils import translation

from bookings import errors, policies, selectors, services
from bookings.models import BookingEvent, BookingStatus, Closure, QuotaRule
from bookings.rules import site_zone

pytestmark = pytest.mark.django_db


@pytest.fixture
def room(make_resource):
    return make_resource(name="Orion", hours=None, kind="space", category="Meeting rooms")


def midnight(day):
    return datetime.combine(day, time.min, tzinfo=site_zone())


def test_closed_days_are_the_days_closures_take_entirely_in_one_query(room, now, django_assert_num_queries):
    first = now.date()
    Closure.objects.create(
        resource=room, start=midnight(first), end=midnight(first + timedelta(days=2)), reason_kind="holidays"
    )
    # Part of a day only: the day stays open.
    Closure.objects.create(
        resource=room,
        start=midnight(first + timedelta(days=3)),
        end=midnight(first + timedelta(days=3)) + timedelta(hours=20),
        reason_kind="exams",
    )
    # Everything closed from noon to noon, and the room itself closed around it: the day between is taken.
    Closure.objects.create(
        start=midnight(first + timedelta(days=5)) - timedelta(hours=1),
        end=midnight(first + timedelta(days=5)) + timedelta(hours=12),
        reason_kind="other",
    )
    Closure.objects.create(
        resource=room,
        start=midnight(first + timedelta(days=5)) + timedelta(hours=12),
        end=midnight(first + timedelta(days=6)),
        reason_kind="maintenance",
    )

    with django_assert_num_queries(1):
        closed = selectors.resource_closed_days(resource=room, first=first, last=first + timedelta(days=30))

    assert sorted(closed) == [first, first + timedelta(days=1), first + timedelta(days=5)]
    assert closed[first] == "holidays"


def test_closed_days_are_local_dates_of_the_readers_zone(room, now):
    day = now.date() + timedelta(days=2)
    Closure.objects.create(
        resource=room, start=midnight(day), end=midnight(day + timedelta(days=1)), reason_kind="holidays"
    )
    east = zoneinfo.ZoneInfo("Asia/Tokyo")  # hours east of the site's Europe/Berlin (tests/settings.py)

    assert selectors.resource_closed_days(resource=room, first=day, last=day) == {day: "holidays"}
    # There the closed site day runs from one morning to the next: no whole local date is closed.
    assert (
        selectors.resource_closed_days(
            resource=room, first=day - timedelta(days=1), last=day + timedelta(days=1), zone=east
        )
        == {}
    )


def test_policy_refusal_is_the_error_booking_create_would_raise_or_none(room, user, at, now):
    QuotaRule.objects.create(resource=room, kind="hours", period="day", limit=2)

    assert selectors.booking_policy_refusal(user=user, resource=room, start=at(10), end=at(12), now=now) is None
    refusal = selectors.booking_policy_refusal(user=user, resource=room, start=at(10), end=at(13), now=now)
    assert isinstance(refusal, errors.QuotaExceeded) and "2 h" in refusal.message


def test_a_closure_cancels_with_the_reason_in_each_users_own_language(room, make_user, staff, at, now):
    english = make_user(first_name="Alice", language_code="en")
    russian = make_user(first_name="Ivan", language_code="ru")
    bookings = [
        services.booking_create(user=person, resource=room, start=at(10 + i), end=at(11 + i), now=now)
        for i, person in enumerate((english, russian))
    ]

    with translation.override("en"):  # the admin's language
        policies.closure_create(
            resource=room, start=at(9), end=at(13), reason_kind="maintenance", reason="new floor", by=staff, now=now
        )

    reasons = dict(
        BookingEvent.objects.filter(to_status=BookingStatus.CANCELLED).values_list(
            "booking__user__first_name", "reason"
        )
    )
    assert reasons == {"Alice": "Closed (maintenance — new floor)", "Ivan": "Закрыто (обслуживание — new floor)"}
    assert len(bookings) == 2
