"""The series' summary messages: booked, cancelled, and "ends soon" with Extend series; stale ones are not sent."""

from datetime import timedelta

import pytest

from bookings import series
from core import callbacks
from notifications import outbox, texts
from notifications.models import Notification, NotificationKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def made(make_user, make_resource, at, now):
    owner = make_user(telegram_id=4242, language_code="ru")
    room = make_resource(name="Bench <3>")
    return series.series_create(
        user=owner, resource=room, start=at(14, days=1), end=at(15, days=1), rrule="FREQ=WEEKLY;COUNT=3", now=now
    ).series


def test_the_booked_summary_lists_every_occurrence_in_the_users_language(made, now):
    row = Notification.objects.get(kind=NotificationKind.SERIES_BOOKED)
    message = texts.render(row, now=now)
    assert message.text.startswith("🔁 Серия забронирована: 3 брони <b>Bench &lt;3&gt;</b>:")
    assert message.text.count("• ") == 3 and "14:00–15:00" in message.text


def test_the_cancelled_summary_names_how_many_and_why(made, make_user, now):
    staff = make_user(is_staff=True)
    series.series_cancel(series=made, by=staff, reason="ремонт", now=now)
    message = texts.render(Notification.objects.get(kind=NotificationKind.SERIES_CANCELLED), now=now)
    assert "3 брони вашей серии" in message.text and "ремонт" in message.text


def test_the_ending_notice_has_extend_series_and_goes_stale_after_an_extension(made, now):
    last = made.bookings.order_by("-start").first()
    moment = last.start - timedelta(days=6)
    outbox.notifications_create_series_ending(now=moment)
    row = Notification.objects.get(kind=NotificationKind.SERIES_ENDING)
    message = texts.render(row, now=moment)
    assert "скоро закончится" in message.text
    button = message.reply_markup["inline_keyboard"][0][0]
    assert button["text"] == "Продлить серию"
    assert button["callback_data"] == callbacks.encode(callbacks.SERIES_EXTEND, made.pk)
    series.series_extend(series=made, by=made.user, count=1, now=moment)
    assert texts.render(row, now=moment) is None  # the series no longer ends there
