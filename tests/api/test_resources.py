"""GET /api/resources/, /api/resources/{id}/ and /api/resources/{id}/availability/."""

from datetime import datetime, time

import pytest

pytestmark = pytest.mark.django_db


def names(response):
    return [r["name"] for r in response.json()["results"]]


def test_resource_list_shows_active_resources_only(api, make_resource):
    make_resource(name="Camera")
    make_resource(name="Retired projector", is_active=False)

    response = api.get("/api/resources/")

    assert response.status_code == 200
    assert names(response) == ["Camera"]


def test_resource_list_filters_by_kind_and_category(api, make_resource):
    make_resource(name="Camera", kind="equipment", category="Video")
    make_resource(name="Tripod", kind="equipment", category="Photo")
    make_resource(name="Room A", kind="space", category="Video")

    assert names(api.get("/api/resources/?kind=space")) == ["Room A"]
    assert names(api.get("/api/resources/?kind=equipment&category=video")) == ["Camera"]


def test_resource_list_refuses_an_unknown_kind(api):
    response = api.get("/api/resources/?kind=vehicle")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_choice"
    assert "kind" in response.json()["fields"]


def test_resource_detail_has_rules_and_opening_hours(api, make_resource):
    resource = make_resource(hours=((0, 5), (9, 17)), name="Lab bench", buffer_minutes=15, requires_check_in=True)

    response = api.get(f"/api/resources/{resource.pk}/")

    assert response.status_code == 200
    data = response.json()
    assert data["name"] == "Lab bench"
    assert data["rules"]["buffer_minutes"] == 15
    assert data["rules"]["requires_check_in"] is True
    assert data["opening_hours"][0] == {"weekday": 0, "opens": "09:00:00", "closes": "17:00:00"}
    assert [h["weekday"] for h in data["opening_hours"]] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    "path", ["/api/resources/999999/", "/api/resources/abc/", "/api/resources/9999999999999999999999/"]
)
def test_unknown_resource_is_not_found(api, path):
    response = api.get(path)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_inactive_resource_is_not_found(api, make_resource):
    resource = make_resource(is_active=False)

    assert api.get(f"/api/resources/{resource.pk}/").status_code == 404


def test_availability_lists_the_free_intervals_of_a_day_with_offsets(api, make_resource, book, user, local_day):
    resource = make_resource(hours=((0, 7), (8, 20)))
    book(user, resource, local_day(10), local_day(11))
    day = local_day(0).date()

    response = api.get(f"/api/resources/{resource.pk}/availability/?date={day}")

    assert response.status_code == 200
    data = response.json()
    assert data["date"] == day.isoformat()
    assert [(i["start"], i["end"]) for i in data["free"]] == [
        (local_day(8).isoformat(), local_day(10).isoformat()),
        (local_day(11).isoformat(), local_day(20).isoformat()),
    ]
    assert datetime.fromisoformat(data["free"][0]["start"]).utcoffset() == local_day(8).utcoffset()


def test_availability_defaults_to_today(api, studio, local_day):
    response = api.get(f"/api/resources/{studio.pk}/availability/")

    assert response.status_code == 200
    assert response.json()["date"] == local_day(0, days=0).date().isoformat()


@pytest.mark.parametrize("bad", ["tomorrow", "2030-13-01", "0001-01-01", "99999-01-01", "2030-06-03T10:00"])
def test_availability_refuses_a_bad_date(api, studio, bad):
    response = api.get(f"/api/resources/{studio.pk}/availability/", {"date": bad})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_date"


def test_availability_is_empty_beyond_the_bookable_days(api, studio, local_day):
    day = local_day(0, days=studio.max_advance_days + 1).date()

    response = api.get(f"/api/resources/{studio.pk}/availability/?date={day}")

    assert response.json()["free"] == []


def test_opening_hours_are_rendered_as_times(api, make_resource):
    resource = make_resource(hours=((6, 7), (10, 14)))

    hours = api.get(f"/api/resources/{resource.pk}/").json()["opening_hours"]

    assert hours == [{"weekday": 6, "opens": time(10).isoformat(), "closes": time(14).isoformat()}]
