"""Admin of the waitlist: entries listed and filtered by resource, removed by the action; held bookings
show their hold; deleting a closure lifts it through the service (its time is freed)."""

import pytest

from bookings import policies, services, waitlist
from bookings.models import Booking, BookingStatus, Closure, WaitlistEntry, WaitlistState

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(studio, user, other_user, book, local_day):
    book(other_user, studio)
    return waitlist.waitlist_join(user=user, resource=studio, start=local_day(10), end=local_day(11))


def test_the_waitlist_admin_lists_filters_and_removes_entries(admin_client, entry, studio):
    listing = admin_client.get("/admin/bookings/waitlistentry/")
    assert listing.status_code == 200 and "Studio" in listing.content.decode()
    assert admin_client.get(f"/admin/bookings/waitlistentry/?resource__id__exact={studio.pk}").status_code == 200
    assert admin_client.get(f"/admin/bookings/waitlistentry/{entry.pk}/change/").status_code == 200
    answer = admin_client.post(
        "/admin/bookings/waitlistentry/", {"action": "remove_entries", "_selected_action": [entry.pk]}
    )
    assert answer.status_code == 302
    assert WaitlistEntry.objects.get(pk=entry.pk).state == WaitlistState.LEFT


def test_a_held_booking_shows_its_hold_in_the_admin(
    admin_client, entry, other_user, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(waitlist, "enqueue_offer", lambda rid: waitlist.waitlist_offer_resource(resource_id=rid))
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(booking=Booking.objects.get(user=other_user), by=other_user)
    held = Booking.objects.get(status=BookingStatus.HELD)
    page = admin_client.get(f"/admin/bookings/booking/{held.pk}/change/").content.decode()
    assert "held for you" in page and "Held until" in page
    assert admin_client.get("/admin/bookings/booking/?status__exact=held").status_code == 200


def test_deleting_a_closure_in_the_admin_lifts_it_through_the_service(admin_client, studio, local_day, monkeypatch):
    closure = Closure.objects.create(resource=studio, start=local_day(9), end=local_day(12), reason_kind="exams")
    lifted = []
    monkeypatch.setattr(policies, "time_freed", type("S", (), {"send": lambda *a, **kw: lifted.append(kw)})())
    answer = admin_client.post(f"/admin/bookings/closure/{closure.pk}/delete/", {"post": "yes"})
    assert answer.status_code == 302
    assert not Closure.objects.exists()
    assert [(kw["resource_id"], kw["start"], kw["end"]) for kw in lifted] == [(studio.pk, closure.start, closure.end)]
