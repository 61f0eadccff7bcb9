"""The admin shows each booking's actions now (bookings.actions) and its transitions refuse by the same rule."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from bookings.models import Booking, BookingStatus

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/bookings/booking/"


def test_change_page_and_list_show_the_actions_that_apply_now(admin_client, book, user, make_resource, local_day):
    pending = book(user, make_resource(hours=None, requires_approval=True), local_day(10))

    page = admin_client.get(reverse("admin:bookings_booking_change", args=[pending.pk])).content.decode()
    listing = admin_client.get(CHANGELIST).content.decode()

    assert "Cancel, Approve, Reject" in page
    assert "Cancel, Approve, Reject" in listing


def test_actions_are_shown_in_russian(admin_client, book, user, studio, local_day):
    booking = book(user, studio, local_day(10))

    page = admin_client.get(reverse("admin:bookings_booking_change", args=[booking.pk]), HTTP_ACCEPT_LANGUAGE="ru")

    assert "Отменить" in page.content.decode()


def test_admin_cancel_of_a_started_booking_is_refused_with_the_domains_message(admin_client, book, user, studio):
    start = (timezone.now() + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    booking = book(user, studio, start, now=start - timedelta(hours=2))
    Booking.objects.filter(pk=booking.pk).update(start=timezone.now() - timedelta(minutes=5))

    response = admin_client.post(
        CHANGELIST,
        {"action": "cancel_bookings", "_selected_action": [booking.pk], "apply": "1", "reason": ""},
        follow=True,
    )

    messages = [m.message for m in get_messages(response.wsgi_request)]
    assert any("already started" in m for m in messages)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
