"""/api/waitlist/ (list own, join, leave) and POST /api/bookings/{id}/take/ and /decline/."""

import pytest

from bookings import services, waitlist
from bookings.models import Booking, BookingStatus, WaitlistEntry, WaitlistState

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def offers_in_process(monkeypatch):
    """The offer task runs in-process (the tests commit through django_capture_on_commit_callbacks)."""
    monkeypatch.setattr(waitlist, "enqueue_offer", lambda rid: waitlist.waitlist_offer_resource(resource_id=rid))


def join_body(resource, start, end):
    return {"resource": resource.pk, "start": start.isoformat(), "end": end.isoformat()}


def test_a_slot_taken_refusal_is_followed_by_joining_the_waitlist(api, studio, other_user, book, local_day):
    book(other_user, studio)
    taken = api.post("/api/bookings/", join_body(studio, local_day(10), local_day(11)), format="json")
    assert taken.status_code == 409 and taken.json()["code"] == "slot_taken"
    answer = api.post("/api/waitlist/", join_body(studio, local_day(10), local_day(11)), format="json")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["state"] == "waiting" and answer.json()["resource_name"] == "Studio"
    listed = api.get("/api/waitlist/").json()
    assert [e["id"] for e in listed] == [answer.json()["id"]]


@pytest.mark.parametrize(
    ("hours", "code", "status"),
    [((12, 13), "waitlist_slot_free", 409), ((11, 10), "invalid_time_range", 400), ((10, 10.25), None, 400)],
)
def test_a_bad_join_is_refused_with_its_code_and_changes_nothing(
    api, studio, other_user, book, local_day, hours, code, status
):
    book(other_user, studio)
    start = local_day(hours[0])
    end = local_day(int(hours[1]), int((hours[1] % 1) * 60))
    answer = api.post("/api/waitlist/", join_body(studio, start, end), format="json")
    assert answer.status_code == status
    if code:
        assert answer.json()["code"] == code
    assert not WaitlistEntry.objects.exists()


def test_a_user_leaves_only_their_own_entry(api, client_of, make_user, studio, other_user, book, local_day):
    book(other_user, studio)
    entry = api.post("/api/waitlist/", join_body(studio, local_day(10), local_day(11)), format="json").json()
    stranger = client_of(make_user())
    assert stranger.delete(f"/api/waitlist/{entry['id']}/").status_code == 404
    assert api.delete(f"/api/waitlist/{entry['id']}/").status_code == 204
    assert WaitlistEntry.objects.get(pk=entry["id"]).state == WaitlistState.LEFT
    again = api.delete(f"/api/waitlist/{entry['id']}/")
    assert again.status_code == 409 and again.json()["code"] == "waitlist_entry_gone"


def test_the_holder_takes_a_held_offer_and_others_cannot(
    api, client_of, user, other_user, studio, book, local_day, django_capture_on_commit_callbacks
):
    booking = book(other_user, studio)
    api.post("/api/waitlist/", join_body(studio, local_day(10), local_day(11)), format="json")
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(booking=booking, by=other_user)
    held = Booking.objects.get(user=user, status=BookingStatus.HELD)
    mine = api.get(f"/api/bookings/{held.pk}/").json()
    assert mine["status"] == "held" and mine["held_until"] and mine["actions"] == ["take", "decline"]
    assert api.get("/api/waitlist/").json()[0]["state"] == "offered"

    owner_api = client_of(other_user)
    assert owner_api.post(f"/api/bookings/{held.pk}/take/").status_code == 404  # not theirs: not found
    taken = api.post(f"/api/bookings/{held.pk}/take/")
    assert taken.status_code == 200, taken.json()
    assert taken.json()["status"] == "confirmed" and taken.json()["actions"] == ["cancel"]
    stale = api.post(f"/api/bookings/{held.pk}/decline/")
    assert stale.status_code == 409 and stale.json()["code"] == "offer_stale"


def test_declining_offers_the_time_to_the_next_waiter(
    api, client_of, make_user, user, other_user, studio, book, local_day, django_capture_on_commit_callbacks
):
    booking = book(other_user, studio)
    second = make_user()
    api.post("/api/waitlist/", join_body(studio, local_day(10), local_day(11)), format="json")
    client_of(second).post("/api/waitlist/", join_body(studio, local_day(10), local_day(11)), format="json")
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(booking=booking, by=other_user)
    held = Booking.objects.get(user=user, status=BookingStatus.HELD)
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.post(f"/api/bookings/{held.pk}/decline/")
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    assert Booking.objects.filter(user=second, status=BookingStatus.HELD).count() == 1
