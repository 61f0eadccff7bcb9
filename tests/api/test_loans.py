"""Loans in the REST API and the admin: return / mark returned, `suspended` with its end, lifting suspensions."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from bookings import services
from bookings.models import Booking, BookingStatus, Strike, StrikeReason, Suspension
from tests.api.conftest import body

pytestmark = pytest.mark.django_db


@pytest.fixture
def laptop(make_resource):
    return make_resource(hours=None, name="Laptop", kind="equipment", requires_check_in=True)


@pytest.fixture
def overdue(laptop, user):
    """overdue(by=user): a booking of the laptop that ended an hour ago and was not returned."""

    def make(by=None):
        owner = by or user
        start = (timezone.now() - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
        booking = services.booking_create(
            user=owner, resource=laptop, start=start, end=start + timedelta(hours=1), now=start - timedelta(hours=1)
        )
        services.booking_check_in(booking=booking, by=owner, now=start)
        services.bookings_mark_overdue(now=start + timedelta(hours=1))
        return Booking.objects.get(pk=booking.pk)

    return make


def suspend(user):
    now = timezone.now()
    return Suspension.objects.create(user=user, start=now - timedelta(hours=1), until=now + timedelta(days=6))


def test_owner_returns_an_overdue_item_late_with_a_strike(api, overdue, user):
    booking = overdue()
    assert api.get(f"/api/bookings/{booking.pk}/").json()["status"] == "overdue"
    assert api.get(f"/api/bookings/{booking.pk}/").json()["actions"] == ["return"]

    answer = api.post(f"/api/bookings/{booking.pk}/return/")

    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "completed"
    assert answer.json()["returned_at"] is not None
    assert answer.json()["events"][-1]["reason"] == "returned late"
    assert list(Strike.objects.values_list("booking_id", "reason")) == [(booking.pk, StrikeReason.LATE_RETURN)]


def test_staff_mark_returned_through_the_api_and_a_second_return_is_refused(staff_api, api, overdue):
    booking = overdue()
    assert staff_api.post(f"/api/bookings/{booking.pk}/return").json()["status"] == "completed"
    again = api.post(f"/api/bookings/{booking.pk}/return/")
    assert again.status_code == 400
    assert again.json()["code"] == "wrong_status"


def test_another_user_cannot_return_someone_elses_booking(client_of, other_user, overdue):
    booking = overdue()
    assert client_of(other_user).post(f"/api/bookings/{booking.pk}/return/").status_code == 404
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.OVERDUE


def test_suspended_user_is_refused_with_403_and_the_end_date(api, user, studio, local_day):
    suspension = suspend(user)
    answer = api.post("/api/bookings/", body(local_day(10), local_day(11), studio), format="json")
    assert answer.status_code == 403
    assert answer.json()["code"] == "suspended"
    assert answer.json()["until"] == suspension.until.isoformat()
    assert not Booking.objects.exists()


def test_staff_lift_a_suspension_and_the_user_may_book_again(api, staff_api, user, studio, local_day):
    suspension = suspend(user)
    assert api.get("/api/suspensions/").json()["results"][0]["id"] == suspension.pk
    assert api.post(f"/api/suspensions/{suspension.pk}/lift/").status_code == 403

    lifted = staff_api.post(f"/api/suspensions/{suspension.pk}/lift/")
    assert lifted.status_code == 200
    assert lifted.json()["lifted_at"] is not None
    assert staff_api.post(f"/api/suspensions/{suspension.pk}/lift/").json()["code"] == "not_suspended"
    assert api.post("/api/bookings/", body(local_day(10), local_day(11), studio), format="json").status_code == 201


def test_admin_action_marks_an_overdue_booking_returned(admin_client, overdue):
    booking = overdue()
    response = admin_client.post(
        "/admin/bookings/booking/", {"action": "mark_returned", "_selected_action": [booking.pk]}, follow=True
    )
    assert any("marked returned" in m.message for m in get_messages(response.wsgi_request))
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.COMPLETED


def test_admin_action_lifts_a_suspension(admin_client, user):
    suspension = suspend(user)
    response = admin_client.post(
        "/admin/bookings/suspension/", {"action": "lift_suspensions", "_selected_action": [suspension.pk]}, follow=True
    )
    assert any("lifted" in m.message for m in get_messages(response.wsgi_request))
    suspension.refresh_from_db()
    assert suspension.lifted_at is not None
