"""Aliases of a resource: shown read-only by the API, edited inline in the admin."""

import pytest
from django.urls import reverse

from bookings import services
from bookings.models import ResourceAlias

pytestmark = pytest.mark.django_db


def test_the_api_shows_a_resources_aliases_read_only(api, make_resource):
    projector = make_resource(name="Projector")
    services.resource_aliases_set(resource=projector, aliases=["проектор", "beamer"])
    make_resource(name="Camera")

    listed = {r["name"]: r["aliases"] for r in api.get("/api/resources/").json()["results"]}
    detail = api.get(f"/api/resources/{projector.pk}/").json()

    assert listed == {"Camera": [], "Projector": ["beamer", "проектор"]}
    assert detail["aliases"] == ["beamer", "проектор"]


def test_the_resource_list_queries_do_not_grow_with_aliases(api, make_resource, django_assert_max_num_queries):
    for n in range(3):
        services.resource_aliases_set(resource=make_resource(name=f"Bench {n}"), aliases=[f"стол {n}", f"desk {n}"])
    with django_assert_max_num_queries(6) as few:
        api.get("/api/resources/")
    for n in range(3, 10):
        services.resource_aliases_set(resource=make_resource(name=f"Bench {n}"), aliases=[f"стол {n}", f"desk {n}"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        api.get("/api/resources/")


def change_form(resource, aliases):
    """The admin's change form of `resource` with these alias rows (existing rows first)."""
    existing = list(resource.aliases.all())
    data = {
        "name": resource.name,
        "kind": resource.kind,
        "is_active": "on",
        "slot_minutes": 30,
        "min_duration_minutes": 30,
        "max_duration_minutes": 240,
        "min_notice_minutes": 0,
        "max_advance_days": 30,
        "buffer_minutes": 0,
        "check_in_opens_minutes": 15,
        "check_in_grace_minutes": 15,
        "aliases-TOTAL_FORMS": len(aliases),
        "aliases-INITIAL_FORMS": len(existing),
        "opening_hours-TOTAL_FORMS": 0,
        "opening_hours-INITIAL_FORMS": 0,
    }
    for i, alias in enumerate(aliases):
        data[f"aliases-{i}-alias"] = alias
        data[f"aliases-{i}-resource"] = resource.pk
        if i < len(existing):
            data[f"aliases-{i}-id"] = existing[i].pk
    return data


def test_the_admin_edits_aliases_inline_on_the_resource(admin_client, make_resource):
    resource = make_resource(name="Projector", hours=None)
    url = reverse("admin:bookings_resource_change", args=[resource.pk])
    assert "aliases-TOTAL_FORMS" in admin_client.get(url).content.decode()

    response = admin_client.post(url, change_form(resource, ["Проектор", "beamer"]))

    assert response.status_code == 302
    assert sorted(ResourceAlias.objects.values_list("alias", "key")) == [("beamer", "beamer"), ("Проектор", "проектор")]


def test_the_admin_refuses_an_alias_given_twice_in_another_case_and_saves_nothing(admin_client, make_resource):
    resource = make_resource(name="Projector", hours=None)
    services.resource_aliases_set(resource=resource, aliases=["Проектор"])
    url = reverse("admin:bookings_resource_change", args=[resource.pk])

    response = admin_client.post(url, change_form(resource, ["Проектор", "beamer", "ПРОЕКТОР"]))

    assert response.status_code == 200
    assert "is given twice" in response.content.decode()
    assert list(ResourceAlias.objects.values_list("alias", flat=True)) == ["Проектор"]
