"""Buttons on notification messages come from the domain's booking_actions at render time."""

from datetime import timedelta

import pytest

from bookings import services as bookings_services
from core import callbacks
from notifications import texts
from notifications.models import Notification, NotificationKind

pytestmark = pytest.mark.django_db


def _labels(message):
    markup = message.reply_markup
    return [b["text"] for row in markup["inline_keyboard"] for b in row] if markup else []


def _callbacks(message):
    return [b["callback_data"] for row in message.reply_markup["inline_keyboard"] for b in row]


def test_receipt_made_days_before_check_in_has_no_check_in_button(make_user, make_resource, at, now):
    user = make_user(telegram_id=11)
    resource = make_resource(requires_check_in=True)
    booking = bookings_services.booking_create(
        user=user, resource=resource, start=at(10, days=3), end=at(11, days=3), now=now
    )
    receipt = Notification.objects.get(booking=booking, kind=NotificationKind.CONFIRMED)

    assert _labels(texts.render(receipt, now=now)) == ["Cancel booking", "📅 Add to calendar"]


def test_reminder_inside_the_check_in_window_has_check_in(make_user, make_resource, at, now):
    user = make_user(telegram_id=12)
    resource = make_resource(requires_check_in=True)
    booking = bookings_services.booking_create(user=user, resource=resource, start=at(10), end=at(11), now=now)
    reminder = Notification.objects.create(
        user=user, chat_id=12, booking=booking, kind=NotificationKind.REMINDER_START, dedupe_key="r"
    )

    message = texts.render(reminder, now=at(9, 50))

    assert _labels(message) == ["Check in", "Cancel booking"]
    assert _callbacks(message) == [
        callbacks.encode(callbacks.BOOKING_CHECK_IN, booking.pk),
        callbacks.encode(callbacks.BOOKING_CANCEL, booking.pk),
    ]


def test_the_same_receipt_rendered_inside_the_window_offers_check_in(make_user, make_resource, at, now):
    user = make_user(telegram_id=13)
    booking = bookings_services.booking_create(
        user=user, resource=make_resource(requires_check_in=True), start=at(10), end=at(11), now=now
    )
    receipt = Notification.objects.get(booking=booking, kind=NotificationKind.CONFIRMED)

    assert _labels(texts.render(receipt, now=at(9, 45))) == ["Check in", "Cancel booking", "📅 Add to calendar"]
    # After the start (within the grace) one may still check in, but no longer cancel.
    assert _labels(texts.render(receipt, now=at(10, 5))) == ["Check in", "📅 Add to calendar"]
    # Once it is over, there is nothing to add to a calendar.
    assert _labels(texts.render(receipt, now=at(11, 5))) == []


def test_started_booking_message_offers_return_early(make_user, make_resource, at, now):
    user = make_user(telegram_id=14)
    booking = bookings_services.booking_create(user=user, resource=make_resource(), start=at(10), end=at(11), now=now)
    bookings_services.booking_check_in(booking=booking, by=user, now=at(9, 50))
    started = Notification.objects.create(
        user=user, chat_id=14, booking=booking, kind=NotificationKind.ACTIVE, dedupe_key="a"
    )

    assert _labels(texts.render(started, now=at(10, 30))) == ["Return early"]


def test_admin_approval_alert_offers_approve_and_reject_while_pending(make_user, make_resource, at, now, staff):
    user = make_user(telegram_id=15)
    booking = bookings_services.booking_create(
        user=user, resource=make_resource(requires_approval=True), start=at(10), end=at(11), now=now
    )
    alert = Notification.objects.create(
        chat_id=-100, booking=booking, kind=NotificationKind.ADMIN_APPROVAL, dedupe_key="p"
    )

    assert _labels(texts.render(alert, now=now)) == ["Approve", "Reject"]
    bookings_services.booking_approve(booking=booking, by=staff, now=now + timedelta(minutes=1))
    alert.booking.refresh_from_db()
    assert texts.render(alert, now=now) is None  # answered meanwhile: stale
