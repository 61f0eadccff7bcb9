"""Fixtures shared by every suite: users, resources with rules, a fixed clock."""

import os
from datetime import datetime, time, timedelta

import pytest
from django.db import connection

from bookings.models import OpeningHours, Resource, ResourceKind
from bookings.rules import site_zone


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need PostgreSQL. The Makefile's SQLite pass
    (SLOTBOT_SQLITE_PASS=1) skips them, since the PostgreSQL pass runs them; any
    other run on SQLite skips them locally but stops under CI, so CI can never
    pass without them."""
    if connection.vendor == "postgresql":
        return
    if os.environ.get("CI") and not os.environ.get("SLOTBOT_SQLITE_PASS"):
        raise pytest.UsageError("CI runs the suite on PostgreSQL: DATABASE_URL does not point at it")
    reason = (
        "runs in the PostgreSQL pass"
        if os.environ.get("SLOTBOT_SQLITE_PASS")
        else "needs PostgreSQL (set DATABASE_URL)"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def now():
    """A fixed 'now': Monday 2030-06-03 08:00 in the site's zone."""
    return datetime(2030, 6, 3, 8, 0, tzinfo=site_zone())


@pytest.fixture
def at(now):
    """at(hour, minute=0, days=0): an aware datetime on now's day (+ days)."""

    def make(hour, minute=0, days=0):
        day = now.date() + timedelta(days=days)
        return datetime.combine(day, time(hour, minute), tzinfo=site_zone())

    return make


@pytest.fixture
def make_user(django_user_model):
    counter = {"n": 0}

    def make(**fields):
        counter["n"] += 1
        fields.setdefault("username", f"user{counter['n']}")
        return django_user_model.objects.create_user(password="pw-for-tests", **fields)

    return make


@pytest.fixture
def user(make_user):
    return make_user(first_name="Alice")


@pytest.fixture
def other_user(make_user):
    return make_user(first_name="Bob")


@pytest.fixture
def staff(make_user):
    return make_user(first_name="Admin", is_staff=True)


@pytest.fixture
def make_resource(db):
    counter = {"n": 0}

    def make(*, hours=((0, 7), (8, 20)), **fields):
        """hours: weekdays 0..6 → opening 8:00–20:00 by default; None: open around the clock."""
        counter["n"] += 1
        fields.setdefault("name", f"Resource {counter['n']}")
        fields.setdefault("kind", ResourceKind.EQUIPMENT)
        resource = Resource.objects.create(**fields)
        if hours is not None:
            (first_day, last_day), (opens, closes) = hours
            OpeningHours.objects.bulk_create(
                OpeningHours(resource=resource, weekday=d, opens=time(opens), closes=time(closes))
                for d in range(first_day, last_day)
            )
        return resource

    return make


@pytest.fixture
def resource(make_resource):
    return make_resource(name="Projector", category="AV")


@pytest.fixture
def make_pool(make_resource):
    """make_pool(units=5, name="Laptops", **unit_fields): a pool of identical units (Resources), lowest id first."""
    from bookings.models import Pool

    def make(units=5, *, name="Laptops", **unit_fields):
        pool = Pool.objects.create(name=name)
        for n in range(1, units + 1):
            make_resource(name=f"{name} {n}", pool=pool, **unit_fields)
        return pool

    return make
