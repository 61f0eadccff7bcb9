"""GET /api/resources/{id}/timeline/: the day's segments in the requesting user's zone."""

from datetime import timedelta

import pytest

pytestmark = pytest.mark.django_db


def test_the_timeline_lists_the_days_segments_own_and_booked(api, user, other_user, studio, book, local_day):
    book(other_user, studio, local_day(10))
    book(user, studio, local_day(12))
    day = local_day(0).date()

    answer = api.get(f"/api/resources/{studio.pk}/timeline/", {"date": day.isoformat()})

    assert answer.status_code == 200
    body = answer.json()
    assert body["date"] == day.isoformat()
    states = [(s["start"][11:16], s["state"]) for s in body["segments"]]
    assert states == [("00:00", "free"), ("10:00", "booked"), ("11:00", "free"), ("12:00", "own"), ("13:00", "free")]


def test_bad_input_is_a_clear_400_and_an_unknown_resource_404(api, studio, local_day):
    assert api.get(f"/api/resources/{studio.pk}/timeline/", {"date": "tomorrow"}).status_code == 400
    assert api.get("/api/resources/999999/timeline/").status_code == 404


def test_the_timeline_needs_a_user(anonymous, studio):
    assert anonymous.get(f"/api/resources/{studio.pk}/timeline/").status_code == 401


def test_a_day_in_another_zone_is_that_zones_day(client_of, make_user, studio, book, local_day):
    tokyo = make_user(time_zone="Asia/Tokyo")
    book(tokyo, studio, local_day(10))
    day = (local_day(10) + timedelta(hours=0)).astimezone(tokyo.zone).date()

    body = client_of(tokyo).get(f"/api/resources/{studio.pk}/timeline/", {"date": day.isoformat()}).json()

    assert body["time_zone"] == "Asia/Tokyo"
    assert body["start"].startswith(day.isoformat() + "T00:00:00+09:00")
    assert "own" in [s["state"] for s in body["segments"]]
