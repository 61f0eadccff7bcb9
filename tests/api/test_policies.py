"""Institution policies through the REST API: bookable flags, the error codes, access requests, my quotas."""

import pytest
from django.contrib.auth.models import Group

from bookings.models import AccessRequest, AccessRule, Closure, QuotaRule

from .conftest import body

pytestmark = pytest.mark.django_db


@pytest.fixture
def makers():
    return Group.objects.create(name="Trained makers")


@pytest.fixture
def cutter(make_resource, makers):
    resource = make_resource(hours=None, name="Laser cutter", category="Workshop")
    AccessRule.objects.create(resource=resource, group=makers)
    return resource


def test_resource_list_and_detail_mark_a_restricted_resource_with_who_may_book_it(api, cutter, studio):
    listed = {r["name"]: r for r in api.get("/api/resources/").json()["results"]}
    assert (listed["Laser cutter"]["bookable"], listed["Laser cutter"]["restricted_to"]) == (False, ["Trained makers"])
    assert (listed["Studio"]["bookable"], listed["Studio"]["restricted_to"]) == (True, [])
    detail = api.get(f"/api/resources/{cutter.pk}/").json()
    assert detail["bookable"] is False and detail["restricted_to"] == ["Trained makers"]


def test_a_member_sees_the_restricted_resource_as_bookable(client_of, make_user, cutter, makers):
    member = make_user()
    member.groups.add(makers)
    assert client_of(member).get(f"/api/resources/{cutter.pk}/").json()["bookable"] is True


def test_booking_a_restricted_resource_answers_403_not_permitted(api, cutter, local_day):
    response = api.post("/api/bookings/", body(local_day(10), local_day(11), cutter), format="json")
    assert response.status_code == 403
    assert response.json() == {
        "code": "not_permitted",
        "detail": "Only members of Trained makers may book this resource.",
    }


def test_availability_offers_nothing_the_user_cannot_book(api, staff_api, cutter, studio, local_day):
    day = local_day(0).date().isoformat()
    assert api.get(f"/api/resources/{cutter.pk}/availability/", {"date": day}).json()["free"] == []
    assert staff_api.get(f"/api/resources/{cutter.pk}/availability/", {"date": day}).json()["free"]
    query = {"start": local_day(10).isoformat(), "end": local_day(11).isoformat()}
    assert [r["name"] for r in api.get("/api/availability/", query).json()["results"]] == ["Studio"]
    assert api.get("/api/availability/", query).json()["count"] == 1
    everything = staff_api.get("/api/availability/", query).json()["results"]
    assert {r["name"] for r in everything} == {"Studio", "Laser cutter"}


def test_a_booking_over_a_quota_answers_409_quota_exceeded(api, studio, local_day):
    QuotaRule.objects.create(resource=studio, kind="live", limit=1)
    assert api.post("/api/bookings/", body(local_day(10), local_day(11), studio), format="json").status_code == 201
    response = api.post("/api/bookings/", body(local_day(12), local_day(13), studio), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "quota_exceeded"
    assert "1 of 1 live booking at once on Studio" in response.json()["detail"]


def test_a_booking_into_a_closure_answers_400_closed(api, studio, local_day):
    Closure.objects.create(resource=studio, start=local_day(9), end=local_day(12), reason_kind="exams")
    response = api.post("/api/bookings/", body(local_day(10), local_day(11), studio), format="json")
    assert response.status_code == 400
    assert response.json() == {"code": "closed", "detail": "The resource is closed at this time: exams."}


def test_asking_for_access_then_staff_approving_lets_the_user_book(api, staff_api, user, cutter, local_day):
    response = api.post(f"/api/resources/{cutter.pk}/access-requests/", {"reason": "Trained in May"}, format="json")
    assert response.status_code == 201
    created = response.json()
    assert (created["status"], created["reason"], created["resource_name"]) == (
        "pending",
        "Trained in May",
        "Laser cutter",
    )
    again = api.post(f"/api/resources/{cutter.pk}/access-requests/", {}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "access_request_pending")
    assert api.post(f"/api/access-requests/{created['id']}/approve/").status_code == 403  # staff only
    approved = staff_api.post(f"/api/access-requests/{created['id']}/approve/")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert api.post("/api/bookings/", body(local_day(10), local_day(11), cutter), format="json").status_code == 201


def test_staff_reject_an_access_request_with_a_reason(api, staff_api, cutter):
    created = api.post(f"/api/resources/{cutter.pk}/access-requests/", {}, format="json").json()
    rejected = staff_api.post(f"/api/access-requests/{created['id']}/reject/", {"reason": "Training first"})
    assert rejected.status_code == 200
    assert (rejected.json()["status"], rejected.json()["decision_reason"]) == ("rejected", "Training first")
    again = staff_api.post(f"/api/access-requests/{created['id']}/approve/")
    assert (again.status_code, again.json()["code"]) == (400, "wrong_status")


def test_asking_for_access_to_an_open_resource_answers_400_already_permitted(api, studio):
    response = api.post(f"/api/resources/{studio.pk}/access-requests/", {}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "already_permitted")
    assert not AccessRequest.objects.exists()


def test_a_user_sees_only_their_own_access_requests(api, client_of, make_user, cutter):
    mine = api.post(f"/api/resources/{cutter.pk}/access-requests/", {}, format="json").json()
    other = client_of(make_user())
    theirs = other.post(f"/api/resources/{cutter.pk}/access-requests/", {}, format="json").json()
    assert [r["id"] for r in api.get("/api/access-requests/").json()["results"]] == [mine["id"]]
    assert api.get(f"/api/access-requests/{theirs['id']}/").status_code == 404


def test_my_quotas_lists_each_limit_with_usage_and_reset(api, studio, local_day, book, user):
    QuotaRule.objects.create(category="Rooms", kind="hours", period="week", limit=4)
    book(user, studio)
    answer = api.get("/api/me/quotas/", {"resource": studio.pk})
    assert answer.status_code == 200
    (quota,) = answer.json()
    assert (quota["kind"], quota["period"], quota["scope"]) == ("hours", "week", "Rooms")
    assert quota["limit"] == 4 and quota["period_end"]
    assert quota["text"].endswith("left this week on Rooms")


def test_my_quotas_of_an_unknown_resource_is_404(api):
    assert api.get("/api/me/quotas/", {"resource": 999999}).status_code == 404


def test_my_quotas_is_empty_for_staff(staff_api):
    QuotaRule.objects.create(kind="live", limit=1)
    assert staff_api.get("/api/me/quotas/").json() == []
