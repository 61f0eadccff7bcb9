"""Admin of the policies: pages render, a closure confirms the bookings it cancels, requests are decided."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages

from bookings.models import AccessRequest, AccessRule, BookingStatus, Closure, QuotaRule
from bookings.signals import bookings_transitioned

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/admin/bookings/accessrule/",
        "/admin/bookings/accessrule/add/",
        "/admin/bookings/quotarule/",
        "/admin/bookings/quotarule/add/",
        "/admin/bookings/closure/",
        "/admin/bookings/closure/add/",
        "/admin/bookings/accessrequest/",
    ],
)
def test_policy_admin_pages_render(admin_client, url, studio):
    QuotaRule.objects.create(resource=studio, kind="live", limit=1)
    Closure.objects.create(category="Rooms", start="2030-01-01T00:00Z", end="2030-01-02T00:00Z", reason_kind="exams")
    assert admin_client.get(url).status_code == 200


def closure_form(resource, start, end, **extra):
    return {
        "resource": resource.pk,
        "category": "",
        "start_0": start.strftime("%Y-%m-%d"),
        "start_1": start.strftime("%H:%M:%S"),
        "end_0": end.strftime("%Y-%m-%d"),
        "end_1": end.strftime("%H:%M:%S"),
        "reason_kind": "maintenance",
        "reason": "new floor",
        **extra,
    }


def test_adding_a_closure_over_bookings_asks_first_then_cancels_each_once(
    admin_client, studio, book, user, other_user, local_day
):
    first, second = book(user, studio, local_day(10)), book(other_user, studio, local_day(12))
    form = closure_form(studio, local_day(8), local_day(18))

    page = admin_client.post("/admin/bookings/closure/add/", form)
    assert page.status_code == 200 and "Close and cancel them" in page.content.decode()
    assert not Closure.objects.exists()  # nothing happens before the admin confirms
    first.refresh_from_db()
    assert first.status == BookingStatus.CONFIRMED

    sent = []

    def receiver(sender, **kwargs):
        sent.append([b.pk for b in kwargs["bookings"]])

    bookings_transitioned.connect(receiver, weak=False)
    try:
        done = admin_client.post("/admin/bookings/closure/add/", {**form, "confirm": "1"}, follow=True)
    finally:
        bookings_transitioned.disconnect(receiver)
    assert done.status_code == 200
    assert "2 bookings cancelled." in done.content.decode()  # the admin sees how many
    assert Closure.objects.count() == 1
    assert sorted(sent) == sorted([[first.pk], [second.pk]])
    for booking in (first, second):
        booking.refresh_from_db()
        assert booking.status == BookingStatus.CANCELLED
        assert booking.events.get(to_status="cancelled").reason == "Closed (maintenance — new floor)"


def test_a_closure_with_both_a_resource_and_a_category_is_refused_clearly(admin_client, studio, local_day):
    form = closure_form(studio, local_day(8), local_day(18), category="Rooms")
    page = admin_client.post("/admin/bookings/closure/add/", form)
    assert page.status_code == 200
    assert "Choose a resource or a category, not both." in page.content.decode()
    assert not Closure.objects.exists()


def test_approve_action_adds_the_user_to_the_group(admin_client, make_resource, user):
    makers = Group.objects.create(name="Trained makers")
    cutter = make_resource(hours=None, name="Laser cutter")
    AccessRule.objects.create(resource=cutter, group=makers)
    request = AccessRequest.objects.create(user=user, resource=cutter, reason="trained")
    response = admin_client.post(
        "/admin/bookings/accessrequest/",
        {"action": "approve_requests", "_selected_action": [request.pk]},
        follow=True,
    )
    assert [m.message for m in get_messages(response.wsgi_request)] == ["1 access request decided."]
    assert user.groups.filter(pk=makers.pk).exists()
