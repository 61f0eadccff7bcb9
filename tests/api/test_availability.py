"""GET /api/availability/?start=…&end=… — availability first: what is free for the whole range."""

import pytest

pytestmark = pytest.mark.django_db


def free_names(response):
    assert response.status_code == 200, response.json()
    return [r["name"] for r in response.json()["results"]]


def query(start, end, **extra):
    return {"start": start.isoformat(), "end": end.isoformat(), **extra}


def test_resources_free_for_the_whole_range_are_listed(api, make_resource, book, user, local_day):
    free = make_resource(hours=None, name="Free camera")
    busy = make_resource(hours=None, name="Busy camera")
    book(user, busy, local_day(10, 30), local_day(11, 30))

    response = api.get("/api/availability/", query(local_day(10), local_day(11)))

    assert free_names(response) == [free.name]


def test_availability_filters_by_kind_and_category(api, make_resource, local_day):
    make_resource(hours=None, name="Camera", kind="equipment", category="Video")
    make_resource(hours=None, name="Room", kind="space", category="Video")

    start, end = local_day(10), local_day(11)
    assert free_names(api.get("/api/availability/", query(start, end, kind="space"))) == ["Room"]
    assert free_names(api.get("/api/availability/", query(start, end, category="video", kind="equipment"))) == [
        "Camera"
    ]


def test_a_range_breaking_a_resource_rule_lists_nothing_for_it(api, make_resource, local_day):
    make_resource(hours=None, name="Short only", max_duration_minutes=60)

    assert free_names(api.get("/api/availability/", query(local_day(10), local_day(13)))) == []


def test_a_datetime_without_offset_is_read_in_the_site_time_zone(api, make_resource, book, user, local_day):
    busy = make_resource(hours=None, name="Busy")
    book(user, busy, local_day(10), local_day(11))
    naive = {
        "start": local_day(10).replace(tzinfo=None).isoformat(),
        "end": local_day(11).replace(tzinfo=None).isoformat(),
    }

    assert free_names(api.get("/api/availability/", naive)) == []


def test_end_before_start_is_refused(api, local_day):
    response = api.get("/api/availability/", query(local_day(11), local_day(10)))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_time_range"


def test_missing_start_is_refused(api, local_day):
    response = api.get("/api/availability/", {"end": local_day(10).isoformat()})

    assert response.status_code == 400
    assert response.json()["code"] == "required"
    assert response.json()["fields"] == {"start": ["This field is required."]}


def test_a_malformed_datetime_is_refused(api, local_day):
    response = api.get("/api/availability/", {"start": "next tuesday", "end": local_day(10).isoformat()})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_datetime"
    assert response.json()["detail"].startswith("start: ")


def test_availability_is_paginated_with_the_total_of_what_is_free(api, make_resource, book, user, local_day):
    names = [f"Desk {n:02}" for n in range(7)]
    desks = [make_resource(hours=None, name=name, kind="space") for name in names]
    book(user, desks[3], local_day(10), local_day(11))
    free = [name for name in names if name != "Desk 03"]
    range_ = query(local_day(10), local_day(11))

    first = api.get("/api/availability/", {**range_, "limit": 4}).json()
    second = api.get("/api/availability/", {"limit": 4, "offset": 4, **range_}).json()
    beyond = api.get("/api/availability/", {"limit": 4, "offset": 40, **range_}).json()

    assert [first["count"], second["count"], beyond["count"]] == [6, 6, 6]
    assert [r["name"] for r in first["results"] + second["results"]] == free
    assert first["next"] and "offset=4" in first["next"] and first["previous"] is None
    assert second["next"] is None and second["previous"]
    assert beyond["results"] == []


def test_availability_without_anything_free_is_an_empty_page(api, make_resource, book, user, local_day):
    busy = make_resource(hours=None, name="Only room")
    book(user, busy, local_day(10), local_day(11))

    body = api.get("/api/availability/", query(local_day(10), local_day(11))).json()

    assert body == {"count": 0, "next": None, "previous": None, "results": []}
