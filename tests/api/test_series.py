"""The series endpoints: preview, all or nothing, skip conflicts, read, cancel (following / all), extend."""

from datetime import timedelta

import pytest

from bookings import services
from bookings.models import Booking, BookingSeries, BookingStatus

pytestmark = pytest.mark.django_db


def body(local_day, rrule="FREQ=DAILY;COUNT=3", mode="preview", **extra):
    return {
        "resource": extra.pop("resource"),
        "start": local_day(10).isoformat(),
        "end": local_day(11).isoformat(),
        "rrule": rrule,
        "mode": mode,
        **extra,
    }


@pytest.fixture
def taken_second_day(studio, other_user, local_day):
    return services.booking_create(
        user=other_user, resource=studio, start=local_day(10, days=2), end=local_day(11, days=2)
    )


def test_preview_answers_each_occurrence_with_its_outcome_and_books_nothing(api, studio, local_day, taken_second_day):
    answer = api.post("/api/series/", body(local_day, resource=studio.pk), format="json")
    assert answer.status_code == 200, answer.json()
    made = answer.json()
    assert made["series"] is None
    assert [o["outcome"] for o in made["occurrences"]] == ["ok", "slot_taken", "ok"]
    assert made["occurrences"][1]["detail"] == "This time is already booked."
    assert made["occurrences"][0]["start"] == local_day(10).isoformat()
    assert BookingSeries.objects.count() == 0 and Booking.objects.count() == 1


def test_all_or_nothing_with_a_conflict_is_409_series_conflict_with_the_occurrences(
    api, studio, local_day, taken_second_day
):
    answer = api.post("/api/series/", body(local_day, resource=studio.pk, mode="all_or_nothing"), format="json")
    assert answer.status_code == 409
    assert answer.json()["code"] == "series_conflict"
    assert [o["outcome"] for o in answer.json()["occurrences"]] == ["ok", "slot_taken", "ok"]
    assert BookingSeries.objects.count() == 0


def test_skip_conflicts_books_the_free_ones(api, studio, local_day, taken_second_day, user):
    answer = api.post(
        "/api/series/", body(local_day, resource=studio.pk, mode="skip_conflicts", note="lab"), format="json"
    )
    assert answer.status_code == 201, answer.json()
    made = answer.json()
    assert [o["outcome"] for o in made["occurrences"]] == ["ok", "slot_taken", "ok"]
    assert made["occurrences"][1]["booking"] is None and made["occurrences"][0]["booking"]
    assert made["series"]["rrule"] == "FREQ=DAILY;COUNT=3" and made["series"]["note"] == "lab"
    assert [b["series"] for b in made["series"]["bookings"]] == [made["series"]["id"]] * 2


@pytest.mark.parametrize(
    ("rrule", "code"),
    [("FREQ=SECONDLY;COUNT=2", "series_invalid_rule"), ("FREQ=DAILY;COUNT=60", "series_too_many")],
)
def test_a_bad_rule_is_400_with_its_code(api, studio, local_day, rrule, code):
    answer = api.post("/api/series/", body(local_day, rrule, resource=studio.pk), format="json")
    assert answer.status_code == 400
    assert answer.json()["code"] == code


def test_an_unknown_mode_is_400(api, studio, local_day):
    answer = api.post("/api/series/", body(local_day, resource=studio.pk, mode="maybe"), format="json")
    assert answer.status_code == 400


@pytest.fixture
def made(api, studio, local_day):
    answer = api.post(
        "/api/series/", body(local_day, "FREQ=DAILY;COUNT=4", "all_or_nothing", resource=studio.pk), format="json"
    )
    assert answer.status_code == 201, answer.json()
    return answer.json()["series"]


def test_a_series_is_read_by_its_owner_and_not_found_by_others(api, client_of, other_user, made):
    answer = api.get(f"/api/series/{made['id']}/")
    assert answer.status_code == 200 and len(answer.json()["bookings"]) == 4
    assert client_of(other_user).get(f"/api/series/{made['id']}/").status_code == 404
    assert [s["id"] for s in api.get("/api/series/").json()["results"]] == [made["id"]]


def test_cancel_from_an_occurrence_cancels_it_and_the_following(api, made):
    third = made["bookings"][2]["start"]
    answer = api.post(f"/api/series/{made['id']}/cancel/", {"from": third}, format="json")
    assert answer.status_code == 200, answer.json()
    assert [b["status"] for b in answer.json()["bookings"]] == ["confirmed", "confirmed", "cancelled", "cancelled"]
    assert answer.json()["cancelled_at"] is None


def test_cancel_without_from_cancels_all_and_again_is_409(api, made):
    answer = api.post(f"/api/series/{made['id']}/cancel/", {}, format="json")
    assert {b["status"] for b in answer.json()["bookings"]} == {"cancelled"}
    assert answer.json()["cancelled_at"] is not None
    again = api.post(f"/api/series/{made['id']}/cancel/", {}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "series_nothing_to_cancel"


def test_one_occurrence_is_cancelled_as_a_booking(api, made):
    second = made["bookings"][1]["id"]
    assert api.post(f"/api/bookings/{second}/cancel/", {}, format="json").status_code == 200
    statuses = Booking.objects.filter(series_id=made["id"]).order_by("start").values_list("status", flat=True)
    assert list(statuses) == ["confirmed", "cancelled", "confirmed", "confirmed"]


def test_extend_adds_occurrences(api, made):
    answer = api.post(f"/api/series/{made['id']}/extend/", {"count": 2}, format="json")
    assert answer.status_code == 201, answer.json()
    assert len(answer.json()["series"]["bookings"]) == 6
    last = Booking.objects.filter(series_id=made["id"]).order_by("-start").first()
    first = Booking.objects.filter(series_id=made["id"]).order_by("start").first()
    assert last.start - first.start == timedelta(days=5)
    assert last.status == BookingStatus.CONFIRMED
