"""seed_demo is safe to run twice; /health/ reports the database."""

import pytest
from django.core.management import call_command
from django.db import connection

from bookings.models import OpeningHours, Resource
from core import health

pytestmark = pytest.mark.django_db


def test_seed_demo_twice_leaves_one_copy_of_each_resource():
    call_command("seed_demo", verbosity=0)
    first = {r.name: r.pk for r in Resource.objects.all()}
    hours = OpeningHours.objects.count()
    call_command("seed_demo", verbosity=0)
    assert {r.name: r.pk for r in Resource.objects.all()} == first
    assert OpeningHours.objects.count() == hours
    assert len(first) >= 4
    assert {"equipment", "space"} == set(Resource.objects.values_list("kind", flat=True))


def test_seed_demo_restores_edited_rules():
    call_command("seed_demo", verbosity=0)
    Resource.objects.filter(name="Meeting room Orion").update(max_duration_minutes=999, is_active=False)
    call_command("seed_demo", verbosity=0)
    room = Resource.objects.get(name="Meeting room Orion")
    assert (room.max_duration_minutes, room.is_active) == (120, True)


def test_health_reports_database_ok(client):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == {"ok": True}


def test_health_is_503_when_a_check_fails(client, monkeypatch):
    def broken():
        raise ConnectionError("down")

    monkeypatch.setitem(health.CHECKS, "database", broken)
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "error": "ConnectionError"}
    assert connection.vendor  # the real connection is untouched


def test_django_system_checks_pass():
    """pytest-django runs no system checks; the processes do (runserver, celery, runbot)."""
    from django.core.management import call_command

    call_command("check", fail_level="WARNING")


def test_seed_demo_adds_its_policies_once():
    from bookings.models import AccessRule, Closure, QuotaRule

    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)
    assert AccessRule.objects.get().group.name == "Trained makers"
    assert {(q.kind, q.limit) for q in QuotaRule.objects.all()} == {("live", 2), ("hours", 4)}
    assert Closure.objects.get().reason_kind == "maintenance"
