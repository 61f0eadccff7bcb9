"""The pools endpoints: list, free counts per interval, booking by count, cancel, return and swap."""

import pytest

from bookings.models import Booking, BookingStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def laptops(make_pool):
    return make_pool(5, hours=None, requires_check_in=True)


def body(local_day, quantity, start=10, end=12, note=""):
    return {
        "start": local_day(start).isoformat(),
        "end": local_day(end).isoformat(),
        "quantity": quantity,
        "note": note,
    }


def test_pools_are_listed_with_their_unit_counts(api, laptops):
    answer = api.get("/api/pools/")
    assert answer.status_code == 200
    assert answer.json()["results"] == [{"id": laptops.pk, "name": "Laptops", "description": "", "units": 5}]


def test_booking_two_units_answers_the_request_with_two_bookings(api, laptops, local_day):
    answer = api.post(f"/api/pools/{laptops.pk}/bookings/", body(local_day, 2, note="demo"), format="json")
    assert answer.status_code == 201, answer.json()
    made = answer.json()
    units = list(laptops.units.order_by("pk").values_list("pk", flat=True))
    assert made["quantity"] == 2 and made["pool_name"] == "Laptops" and made["actions"] == ["cancel"]
    assert [b["resource"] for b in made["bookings"]] == units[:2]
    assert {b["status"] for b in made["bookings"]} == {"confirmed"}


def test_more_units_than_are_free_is_409_not_enough_units(api, client_of, other_user, laptops, local_day):
    assert (
        client_of(other_user).post(f"/api/pools/{laptops.pk}/bookings/", body(local_day, 4), format="json").status_code
        == 201
    )
    answer = api.post(f"/api/pools/{laptops.pk}/bookings/", body(local_day, 2), format="json")
    assert answer.status_code == 409
    assert answer.json()["code"] == "not_enough_units" and "only 1 is free" in answer.json()["detail"]
    assert Booking.objects.count() == 4


@pytest.mark.parametrize("quantity", [0, 6, -3, 10**30, "two", None, 1.5])
def test_a_bad_quantity_is_400_and_books_nothing(api, laptops, local_day, quantity):
    answer = api.post(f"/api/pools/{laptops.pk}/bookings/", body(local_day, quantity), format="json")
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_quantity" or "quantity" in answer.json()["fields"], answer.json()
    assert not Booking.objects.exists()


def test_availability_gives_the_free_count_per_interval(api, laptops, local_day):
    api.post(f"/api/pools/{laptops.pk}/bookings/", body(local_day, 3), format="json")
    day = local_day(0).date().isoformat()
    answer = api.get(f"/api/pools/{laptops.pk}/availability/?date={day}")
    assert answer.status_code == 200
    free = [(i["start"], i["end"], i["free"], i["total"]) for i in answer.json()["free"]]
    assert (local_day(10).isoformat(), local_day(12).isoformat(), 2, 5) in free
    assert api.get(f"/api/pools/{laptops.pk}/availability/?date=nope").status_code == 400


def test_an_unknown_pool_is_404(api):
    assert api.get("/api/pools/999/availability/").status_code == 404
    assert api.post("/api/pools/999/bookings/", {}, format="json").status_code == 404


def test_cancelling_one_unit_then_the_whole_request(api, laptops, local_day):
    made = api.post(f"/api/pools/{laptops.pk}/bookings/", body(local_day, 3), format="json").json()
    first = made["bookings"][0]["id"]
    assert api.post(f"/api/bookings/{first}/cancel/", {}, format="json").status_code == 200
    answer = api.post(f"/api/pool-requests/{made['id']}/cancel/", {}, format="json")
    assert answer.status_code == 200
    assert {b["status"] for b in answer.json()["bookings"]} == {"cancelled"} and answer.json()["actions"] == []
    again = api.post(f"/api/pool-requests/{made['id']}/cancel/", {}, format="json")
    assert again.status_code == 400 and again.json()["code"] == "wrong_status"
    assert api.get("/api/pool-requests/").json() == []


def test_another_users_pool_request_is_not_found(api, client_of, other_user, laptops, local_day):
    made = api.post(f"/api/pools/{laptops.pk}/bookings/", body(local_day, 1), format="json").json()
    theirs = client_of(other_user)
    assert theirs.get(f"/api/pool-requests/{made['id']}/").status_code == 404
    assert theirs.post(f"/api/pool-requests/{made['id']}/cancel/", {}, format="json").status_code == 404
    assert Booking.objects.get().status == BookingStatus.CONFIRMED


def test_a_swap_outside_the_check_in_is_refused_and_changes_nothing(api, laptops, local_day):
    made = api.post(f"/api/pools/{laptops.pk}/bookings/", body(local_day, 1), format="json").json()
    booking = made["bookings"][0]
    other = laptops.units.order_by("pk").last()
    answer = api.post(
        f"/api/pool-requests/{made['id']}/swap/", {"booking": booking["id"], "unit": other.pk}, format="json"
    )
    assert answer.status_code == 400 and answer.json()["code"] == "check_in_not_open"
    assert Booking.objects.get().resource_id == booking["resource"]
