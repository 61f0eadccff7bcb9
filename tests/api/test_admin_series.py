"""The admin of series: the list, a series with its occurrences inline, and staff's cancel action."""

import pytest
from django.urls import reverse

from bookings import series
from bookings.models import BookingStatus
from notifications.models import Notification, NotificationKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def made(make_user, studio, local_day):
    owner = make_user(first_name="Carol", telegram_id=7007)
    return series.series_create(
        user=owner, resource=studio, start=local_day(10), end=local_day(11), rrule="FREQ=DAILY;COUNT=3"
    ).series


def test_the_series_list_and_a_series_with_its_occurrences(admin_client, made):
    listing = admin_client.get(reverse("admin:bookings_bookingseries_changelist"))
    assert listing.status_code == 200 and "FREQ=DAILY;COUNT=3" in listing.text
    page = admin_client.get(reverse("admin:bookings_bookingseries_change", args=[made.pk]))
    assert page.status_code == 200
    assert page.text.count("/admin/bookings/booking/") >= 3  # each occurrence links to its booking
    assert admin_client.get(reverse("admin:bookings_bookingseries_add")).status_code == 403


def test_staff_cancel_a_series_and_its_user_gets_one_summary(admin_client, made):
    answer = admin_client.post(
        reverse("admin:bookings_bookingseries_changelist"),
        {"action": "cancel_series", "_selected_action": [made.pk]},
        follow=True,
    )
    assert answer.status_code == 200 and "3 occurrences cancelled." in answer.text
    assert set(made.bookings.values_list("status", flat=True)) == {BookingStatus.CANCELLED}
    sent = Notification.objects.filter(user=made.user, kind=NotificationKind.SERIES_CANCELLED)
    assert sent.count() == 1
