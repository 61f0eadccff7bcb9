"""Extend and move in the outbox: messages, the admins asked again, reminders of the new times, Extend buttons."""

import pytest

from bookings import services as bookings_services
from bookings.reschedule import booking_extend, booking_move
from core import callbacks
from notifications import outbox, texts
from notifications.models import Notification, NotificationKind, NotificationStatus

pytestmark = pytest.mark.django_db

ADMIN_CHAT = -100777


def _buttons(message):
    markup = message.reply_markup
    return [(b["text"], b["callback_data"]) for row in markup["inline_keyboard"] for b in row] if markup else []


@pytest.fixture
def owner(make_user):
    return make_user(telegram_id=8101)


@pytest.fixture
def camera(make_resource):
    return make_resource(name="Camera", hours=None)  # equipment: it gets the before-end reminder


def _ending_reminder(booking, user):
    return Notification.objects.create(
        user=user, chat_id=user.telegram_id, booking=booking, kind=NotificationKind.REMINDER_END, dedupe_key="e"
    )


def test_the_before_end_reminder_offers_the_extensions_that_would_work(owner, other_user, camera, at, now):
    booking = bookings_services.booking_create(user=owner, resource=camera, start=at(10), end=at(11), now=now)
    bookings_services.booking_check_in(booking=booking, by=owner, now=at(10))
    reminder = _ending_reminder(booking, owner)

    buttons = _buttons(texts.render(reminder, now=at(10, 45)))
    assert ("Extend +30 min", callbacks.encode(callbacks.BOOKING_EXTEND, booking.pk, 30)) in buttons
    assert ("Extend +1 h", callbacks.encode(callbacks.BOOKING_EXTEND, booking.pk, 60)) in buttons

    bookings_services.booking_create(user=other_user, resource=camera, start=at(11, 30), end=at(12), now=now)
    labels = [text for text, _data in _buttons(texts.render(reminder, now=at(10, 45)))]
    assert "Extend +30 min" in labels and "Extend +1 h" not in labels

    bookings_services.booking_create(user=other_user, resource=camera, start=at(11), end=at(11, 30), now=now)
    labels = [text for text, _data in _buttons(texts.render(reminder, now=at(10, 45)))]
    assert not any(label.startswith("Extend") for label in labels)


def test_the_extend_buttons_read_in_russian(make_user, camera, at, now):
    owner = make_user(telegram_id=8102, language_code="ru")
    booking = bookings_services.booking_create(user=owner, resource=camera, start=at(10), end=at(11), now=now)
    bookings_services.booking_check_in(booking=booking, by=owner, now=at(10))
    labels = [text for text, _data in _buttons(texts.render(_ending_reminder(booking, owner), now=at(10, 45)))]
    assert "Продлить на 30 мин" in labels and "Продлить на 1 ч" in labels


def test_staff_extending_a_booking_tell_its_owner_and_the_owners_own_extension_is_not_echoed(
    owner, camera, staff, at, now
):
    booking = bookings_services.booking_create(user=owner, resource=camera, start=at(10), end=at(11), now=now)
    booking_extend(booking=booking, by=owner, minutes=30, now=now)
    assert not Notification.objects.filter(booking=booking, kind=NotificationKind.EXTENDED).exists()

    booking_extend(booking=booking, by=staff, minutes=30, now=at(8, 1))
    told = Notification.objects.get(booking=booking, kind=NotificationKind.EXTENDED)
    message = texts.render(told, now=at(8, 2))
    assert "Camera" in message.text and "10:00–12:00" in message.text


def test_a_move_told_in_russian(make_user, camera, staff, at, now):
    owner = make_user(telegram_id=8103, language_code="ru")
    booking = bookings_services.booking_create(user=owner, resource=camera, start=at(10), end=at(11), now=now)
    booking_move(booking=booking, by=staff, start=at(14), end=at(15), now=now)
    message = texts.render(Notification.objects.get(booking=booking, kind=NotificationKind.MOVED), now=now)
    assert "перенесена" in message.text and "14:00–15:00" in message.text


def test_a_move_that_needs_approval_asks_the_admins_again(owner, make_resource, staff, at, now, settings):
    settings.TELEGRAM_ADMIN_CHAT_ID = ADMIN_CHAT
    resource = make_resource(hours=None, requires_approval=True)
    booking = bookings_services.booking_create(user=owner, resource=resource, start=at(10), end=at(11), now=now)
    bookings_services.booking_approve(booking=booking, by=staff, now=now)
    booking_move(booking=booking, by=owner, start=at(14), end=at(15), now=now)

    asks = Notification.objects.filter(booking=booking, kind=NotificationKind.ADMIN_APPROVAL, chat_id=ADMIN_CHAT)
    assert asks.count() == 2  # the first request, and the moved one
    message = texts.render(asks.order_by("-id").first(), now=now)
    assert "14:00–15:00" in message.text
    assert [text for text, _data in _buttons(message)] == ["Approve", "Reject"]


def test_a_moved_booking_gets_the_reminder_of_its_new_start(owner, make_resource, at, now, settings):
    settings.NOTIFICATION_REMINDER_MINUTES = 15
    booking = bookings_services.booking_create(
        user=owner, resource=make_resource(hours=None), start=at(10), end=at(11), now=now
    )
    assert outbox.notifications_create_reminders(now=at(9, 50)) == 1
    old = Notification.objects.get(booking=booking, kind=NotificationKind.REMINDER_START)
    Notification.objects.filter(pk=old.pk).update(status=NotificationStatus.SENT)

    booking_move(booking=booking, by=owner, start=at(14), end=at(15), now=at(9, 51))

    old.refresh_from_db()
    assert old.status == NotificationStatus.SENT and old.dedupe_key != outbox.dedupe_key(booking.pk, old.kind)
    assert outbox.notifications_create_reminders(now=at(13, 50)) == 1
    assert outbox.notifications_create_reminders(now=at(13, 51)) == 0  # once, as for any booking
    assert Notification.objects.filter(booking=booking, kind=NotificationKind.REMINDER_START).count() == 2


def test_an_unsent_reminder_of_the_old_times_is_skipped(owner, camera, at, now):
    booking = bookings_services.booking_create(user=owner, resource=camera, start=at(10), end=at(11), now=now)
    bookings_services.booking_check_in(booking=booking, by=owner, now=at(10))
    assert outbox.notifications_create_reminders(now=at(10, 50)) == 1
    booking_extend(booking=booking, by=owner, minutes=60, now=at(10, 51))
    old = Notification.objects.get(booking=booking, kind=NotificationKind.REMINDER_END)
    assert old.status == NotificationStatus.SKIPPED
    assert outbox.notifications_create_reminders(now=at(11, 50)) == 1  # before the new end
