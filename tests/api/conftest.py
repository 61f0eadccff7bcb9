"""Fixtures of the API and admin suites.

Views read the real clock (timezone.now()), so bookings are placed relative
to it — tomorrow at 10:00 in the site's zone — on resources open around the
clock unless a test needs opening hours.
"""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from bookings import services
from bookings.rules import site_zone


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.fixture
def client_of():
    """client_of(user): an API client signed in as `user`."""

    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def api(client_of, user):
    return client_of(user)


@pytest.fixture
def staff_api(client_of, staff):
    return client_of(staff)


@pytest.fixture
def local_day():
    """local_day(hour, minute=0, days=1): an aware datetime `days` after today, site's zone."""

    def make(hour, minute=0, days=1):
        day = timezone.now().astimezone(site_zone()).date() + timedelta(days=days)
        return datetime.combine(day, time(hour, minute), tzinfo=site_zone())

    return make


@pytest.fixture
def studio(make_resource):
    """A room open around the clock, with default rules (30-minute grid, 30 min to 4 h)."""
    return make_resource(hours=None, name="Studio", kind="space", category="Rooms")


@pytest.fixture
def book(local_day):
    """book(user, resource, start=tomorrow 10:00, end=start + 1 h, now=None): through the service."""

    def make(user, resource, start=None, end=None, now=None):
        start = start or local_day(10)
        return services.booking_create(
            user=user, resource=resource, start=start, end=end or start + timedelta(hours=1), now=now
        )

    return make


def body(start, end, resource, **extra):
    """A POST /api/bookings/ body."""
    return {"resource": resource.pk, "start": start.isoformat(), "end": end.isoformat(), **extra}
