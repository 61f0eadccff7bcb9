"""Django admin of resources and bookings: pages render, and status actions go through the services."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings import services
from bookings.models import Booking, BookingEvent, BookingStatus

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/bookings/booking/"


@pytest.fixture
def approval_room(make_resource):
    return make_resource(hours=None, name="Board room", kind="space", requires_approval=True)


@pytest.fixture
def bookings(book, user, other_user, studio, approval_room, local_day):
    """A confirmed booking tomorrow and a pending one tomorrow and the day after."""
    return {
        "confirmed": book(user, studio, local_day(10)),
        "pending": book(other_user, approval_room, local_day(10)),
        "pending_later": book(user, approval_room, local_day(10, days=2)),
    }


def run_action(admin_client, action, *bookings, **form):
    """Run an admin action; `form` is what its intermediate page posts (reject/cancel: apply, reason)."""
    response = admin_client.post(
        CHANGELIST, {"action": action, "_selected_action": [b.pk for b in bookings], **form}, follow=True
    )
    assert response.status_code == 200
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def status_of(booking):
    booking.refresh_from_db()
    return booking.status


@pytest.mark.parametrize(
    "url",
    [
        "/admin/bookings/resource/",
        "/admin/bookings/resource/?kind__exact=space&q=room",
        "/admin/bookings/resource/add/",
        CHANGELIST,
        CHANGELIST + "?status__exact=pending",
        CHANGELIST + "?day=tomorrow",
        CHANGELIST + "?q=Board",
    ],
)
def test_admin_lists_render_with_data(admin_client, bookings, url):
    assert admin_client.get(url).status_code == 200


def test_resource_change_page_shows_rules_fieldsets_and_opening_hours(admin_client, make_resource):
    resource = make_resource(name="Lab bench")

    response = admin_client.get(reverse("admin:bookings_resource_change", args=[resource.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    for heading in ("Catalogue", "Booking rules", "Check-in", "opening hours"):
        assert heading.lower() in content.lower()


def test_booking_page_is_read_only_with_its_history(admin_client, bookings):
    booking = bookings["confirmed"]

    response = admin_client.get(reverse("admin:bookings_booking_change", args=[booking.pk]))

    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert b"confirmed" in response.content
    assert b'name="_save"' not in response.content


def test_history_shows_the_systems_reasons_in_the_readers_language_and_peoples_as_written(
    admin_client, bookings, admin_user
):
    booking = bookings["confirmed"]
    services.bookings_start_due(now=booking.start)
    services.bookings_complete_ended(now=booking.end)
    services.booking_reject(booking=bookings["pending"], by=admin_user, reason="end time reached: no, exams")

    in_russian = admin_client.get(
        reverse("admin:bookings_booking_change", args=[booking.pk]), HTTP_ACCEPT_LANGUAGE="ru"
    ).content.decode()
    in_english = admin_client.get(
        reverse("admin:bookings_booking_change", args=[booking.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    typed = admin_client.get(
        reverse("admin:bookings_booking_change", args=[bookings["pending"].pk]), HTTP_ACCEPT_LANGUAGE="ru"
    ).content.decode()

    assert "наступило время начала" in in_russian and "наступило время окончания" in in_russian
    assert "start time reached" in in_english and "end time reached" in in_english
    assert "end time reached: no, exams" in typed
    # Stored in English either way, as the API shows it.
    assert BookingEvent.objects.filter(booking=booking, reason="end time reached").exists()


def test_booking_page_queries_do_not_grow_with_its_history(admin_client, admin_user, bookings):
    url = reverse("admin:bookings_booking_change", args=[bookings["pending"].pk])
    with CaptureQueriesContext(connection) as one_event:
        admin_client.get(url)
    services.booking_approve(booking=bookings["pending"], by=admin_user)
    services.booking_cancel(booking=bookings["pending"], by=admin_user)

    with CaptureQueriesContext(connection) as three_events:
        response = admin_client.get(url)

    assert response.content.count(str(admin_user).encode()) >= 2  # who approved and who cancelled
    assert len(three_events) == len(one_event)


def test_bookings_cannot_be_added_or_deleted_in_the_admin(admin_client, bookings):
    assert admin_client.get("/admin/bookings/booking/add/").status_code == 403
    booking = bookings["confirmed"]
    assert admin_client.post(reverse("admin:bookings_booking_delete", args=[booking.pk])).status_code == 403
    assert Booking.objects.filter(pk=booking.pk).exists()


def test_day_filter_keeps_bookings_meeting_that_day(admin_client, bookings):
    response = admin_client.get(CHANGELIST + "?day=tomorrow")

    shown = set(response.context["cl"].queryset.values_list("pk", flat=True))
    assert shown == {bookings["confirmed"].pk, bookings["pending"].pk}


def test_date_hierarchy_drills_into_days(admin_client, bookings):
    start = bookings["pending_later"].start
    url = CHANGELIST + f"?start__year={start.year}&start__month={start.month}&start__day={start.day}"

    response = admin_client.get(url)

    assert response.status_code == 200
    assert list(response.context["cl"].queryset.values_list("pk", flat=True)) == [bookings["pending_later"].pk]


def test_approve_action_confirms_pending_bookings_as_the_admin(admin_client, admin_user, bookings):
    messages = run_action(admin_client, "approve_bookings", bookings["pending"], bookings["pending_later"])

    assert status_of(bookings["pending"]) == status_of(bookings["pending_later"]) == BookingStatus.CONFIRMED
    assert messages == [("success", "2 bookings approved.")]
    event = BookingEvent.objects.filter(booking=bookings["pending"]).last()
    assert (event.from_status, event.to_status, event.by) == ("pending", "confirmed", admin_user)


def test_approve_action_reports_each_booking_in_the_wrong_status(admin_client, bookings):
    messages = run_action(admin_client, "approve_bookings", bookings["pending"], bookings["confirmed"])

    assert status_of(bookings["confirmed"]) == BookingStatus.CONFIRMED
    assert status_of(bookings["pending"]) == BookingStatus.CONFIRMED
    errors = [text for level, text in messages if level == "error"]
    assert len(errors) == 1 and errors[0].startswith(f"#{bookings['confirmed'].pk} ")
    assert ("success", "1 booking approved.") in messages


def test_reject_action_rejects_pending_and_refuses_confirmed(admin_client, bookings):
    messages = run_action(
        admin_client, "reject_bookings", bookings["pending"], bookings["confirmed"], apply="1", reason="Room closed"
    )

    assert status_of(bookings["pending"]) == BookingStatus.REJECTED
    assert status_of(bookings["confirmed"]) == BookingStatus.CONFIRMED
    assert [level for level, _ in messages] == ["error", "success"]
    event = BookingEvent.objects.filter(booking=bookings["pending"]).last()
    assert (event.to_status, event.reason) == ("rejected", "Room closed")


@pytest.mark.parametrize("action", ["reject_bookings", "cancel_bookings"])
def test_reject_and_cancel_ask_for_the_reason_first_and_change_nothing_yet(admin_client, bookings, action):
    response = admin_client.post(CHANGELIST, {"action": action, "_selected_action": [bookings["pending"].pk]})

    assert response.status_code == 200
    assert "admin/bookings/booking/transition_reason.html" in [t.name for t in response.templates]
    page = response.content.decode()
    assert str(bookings["pending"]) in page and 'name="reason"' in page
    assert f'name="_selected_action" value="{bookings["pending"].pk}"' in page
    assert status_of(bookings["pending"]) == BookingStatus.PENDING


def test_a_reason_over_the_limit_is_refused_on_the_form_and_changes_nothing(admin_client, bookings):
    response = admin_client.post(
        CHANGELIST,
        {
            "action": "reject_bookings",
            "_selected_action": [bookings["pending"].pk],
            "apply": "1",
            "reason": "x" * 501,
        },
    )

    assert response.status_code == 200
    assert "at most 500 characters" in response.content.decode()
    assert status_of(bookings["pending"]) == BookingStatus.PENDING


def test_cancel_action_cancels_and_reports_bookings_already_finished(admin_client, bookings):
    run_action(admin_client, "cancel_bookings", bookings["confirmed"], apply="1", reason="")

    messages = run_action(admin_client, "cancel_bookings", bookings["confirmed"], bookings["pending"], apply="1")

    assert status_of(bookings["confirmed"]) == BookingStatus.CANCELLED
    assert status_of(bookings["pending"]) == BookingStatus.CANCELLED
    assert [level for level, _ in messages] == ["error", "success"]
    assert "cancelled" in messages[0][1]


def test_staff_without_booking_permissions_cannot_open_bookings(client, staff, bookings):
    client.force_login(staff)  # is_staff, but no model permissions granted

    assert client.get(CHANGELIST).status_code == 403


def test_staff_who_may_only_view_bookings_get_no_status_actions(client, staff, bookings):
    staff.user_permissions.add(Permission.objects.get(codename="view_booking"))
    client.force_login(staff)

    response = client.get(CHANGELIST)

    assert response.status_code == 200
    assert response.context["action_form"] is None
    assert status_of(bookings["pending"]) == BookingStatus.PENDING
    client.post(CHANGELIST, {"action": "approve_bookings", "_selected_action": [bookings["pending"].pk]})
    assert status_of(bookings["pending"]) == BookingStatus.PENDING
