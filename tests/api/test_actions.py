"""The API's `actions` field (bookings.actions for the requesting user) and already_booked."""

from datetime import timedelta

import pytest

from bookings import services
from bookings.models import Booking
from tests.api.conftest import body

pytestmark = pytest.mark.django_db


def test_a_booking_lists_the_actions_of_the_requesting_user(
    api, staff_api, client_of, other_user, user, make_resource, book
):
    pending = book(user, make_resource(hours=None, requires_approval=True))

    assert api.get(f"/api/bookings/{pending.pk}/").json()["actions"] == ["cancel"]
    assert staff_api.get(f"/api/bookings/{pending.pk}/").json()["actions"] == ["cancel", "approve", "reject"]
    assert client_of(other_user).get(f"/api/bookings/{pending.pk}/").status_code == 404


def test_actions_follow_each_status_change_in_list_create_and_transitions(api, studio, user, local_day):
    created = api.post("/api/bookings/", body(local_day(10), local_day(11), studio), format="json").json()
    assert created["actions"] == ["cancel"]  # a day ahead: check-in is not open yet
    assert api.get("/api/bookings/").json()["results"][0]["actions"] == ["cancel"]

    cancelled = api.post(f"/api/bookings/{created['id']}/cancel/", {}, format="json").json()

    assert cancelled["actions"] == []


def test_an_active_booking_offers_return(api, studio, user, book, local_day):
    booking = book(user, studio)
    services.booking_check_in(booking=booking, by=user, now=local_day(10) - timedelta(minutes=5))

    assert api.get(f"/api/bookings/{booking.pk}/").json()["actions"] == ["return"]


def test_repeating_a_booking_request_answers_already_booked_with_the_booking(api, studio, local_day):
    first = api.post("/api/bookings/", body(local_day(10), local_day(11), studio), format="json")

    again = api.post("/api/bookings/", body(local_day(10), local_day(11), studio), format="json")

    assert again.status_code == 409
    assert again.json()["code"] == "already_booked"
    assert again.json()["booking"] == first.json()["id"]
    assert Booking.objects.count() == 1


def test_schema_documents_actions_and_already_booked(anonymous):
    schema = anonymous.get("/api/schema/", {"format": "json"}).json()

    actions = schema["components"]["schemas"]["Booking"]["properties"]["actions"]
    assert actions["readOnly"] is True
    assert actions["type"] == "array"
    assert "already_booked" in schema["paths"]["/api/bookings/"]["post"]["responses"]["409"]["description"]
