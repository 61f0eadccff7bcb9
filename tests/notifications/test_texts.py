"""Message texts: the recipient's language and time zone, escaped HTML, buttons that apply."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings import services as bookings_services
from notifications import texts
from notifications.models import Notification, NotificationKind, NotificationStatus

pytestmark = pytest.mark.django_db


def test_confirmation_is_in_russian_in_the_users_zone_with_escaped_names(make_user, make_resource, at, now):
    user = make_user(telegram_id=1, language_code="ru", time_zone="Asia/Tokyo")
    resource = make_resource(name="Camera <4K>", requires_check_in=True)
    booking = bookings_services.booking_create(user=user, resource=resource, start=at(10), end=at(11), now=now)
    notification = Notification.objects.get(booking=booking, kind=NotificationKind.CONFIRMED)

    message = texts.render(notification, now=now)

    assert message.text.startswith("✅ Забронировано: <b>Camera &lt;4K&gt;</b>")
    assert "17:00–18:00" in message.text  # 10:00 in Berlin (summer) is 17:00 in Tokyo
    # Two hours ahead the check-in window (15 min before the start) is not open: no Check in yet.
    assert [b["text"] for b in message.reply_markup["inline_keyboard"][0]] == ["Отменить бронь"]


def test_reminder_for_a_booking_cancelled_meanwhile_is_not_sent(make_user, make_resource, at, now):
    user = make_user(telegram_id=2)
    booking = bookings_services.booking_create(user=user, resource=make_resource(), start=at(10), end=at(11), now=now)
    reminder = Notification(user=user, chat_id=2, booking=booking, kind=NotificationKind.REMINDER_START, dedupe_key="x")
    bookings_services.booking_cancel(booking=booking, by=user, now=now)

    assert texts.render(reminder, now=at(9, 50)) is None


def test_the_same_transition_never_creates_a_second_notification(make_user, make_resource, at, now):
    user = make_user(telegram_id=3)
    booking = bookings_services.booking_create(user=user, resource=make_resource(), start=at(10), end=at(11), now=now)
    from notifications.outbox import notifications_for_transition

    notifications_for_transition(bookings=[booking], from_status="", to_status=booking.status)

    assert Notification.objects.filter(booking=booking).count() == 1


def test_digest_stays_within_one_telegram_message(make_user, make_resource, at, now):
    rows = [
        Notification(
            kind=NotificationKind.ADMIN_TASK_FAILED,
            chat_id=-1,
            dedupe_key=str(i),
            payload={"task": "t" * 150, "error": "E"},
        )
        for i in range(100)
    ]
    text = texts.render_digest(rows)
    assert len(text) <= 4096 and "more" in text and text.startswith("⚠️ 100 alerts:")


def test_no_notification_for_a_user_without_telegram(make_user, make_resource, at, now):
    user = make_user()  # REST-only user
    bookings_services.booking_create(
        user=user, resource=make_resource(), start=at(10), end=at(11) + timedelta(0), now=now
    )
    assert not Notification.objects.exists()


def test_owner_actions_are_not_echoed_but_staff_actions_and_receipts_are(make_user, make_resource, at, now, staff):
    user = make_user(telegram_id=7001)
    resource = make_resource(hours=None)
    mine = bookings_services.booking_create(user=user, resource=resource, start=at(10), end=at(11), now=now)
    theirs = bookings_services.booking_create(user=user, resource=resource, start=at(12), end=at(13), now=now)
    bookings_services.booking_cancel(booking=mine, by=user, now=now)
    bookings_services.booking_cancel(booking=theirs, by=staff, now=now)

    kinds = set(Notification.objects.filter(user=user).values_list("booking_id", "kind"))
    assert (mine.pk, NotificationKind.CONFIRMED) in kinds  # the receipt
    assert (mine.pk, NotificationKind.CANCELLED) not in kinds  # the owner just did it
    assert (theirs.pk, NotificationKind.CANCELLED) in kinds  # staff did it: the owner must hear


def test_a_booking_made_in_the_bot_gets_no_second_receipt_but_admins_still_hear(
    make_user, make_resource, at, now, settings
):
    settings.TELEGRAM_ADMIN_CHAT_ID = -4242
    user = make_user(telegram_id=7002)
    in_bot = bookings_services.booking_create(
        user=user, resource=make_resource(hours=None), start=at(10), end=at(11), now=now, receipt=False
    )
    needs_approval = make_resource(hours=None, name="Board room", requires_approval=True)
    requested = bookings_services.booking_create(
        user=user, resource=needs_approval, start=at(10), end=at(11), now=now, receipt=False
    )

    rows = set(
        Notification.objects.filter(status=NotificationStatus.PENDING).values_list("booking_id", "chat_id", "kind")
    )
    assert rows == {
        (requested.pk, -4242, NotificationKind.ADMIN_APPROVAL),
        (in_bot.pk, 7002, NotificationKind.CONFIRMED),
        (requested.pk, 7002, NotificationKind.PENDING),
    }
    held = Notification.objects.filter(chat_id=7002)
    assert all(row.next_attempt_at > timezone.now() for row in held), "held while the bot's reply is on its way"
    # The bot's reply is the user's receipt: once it arrived, the held copies are not sent.
    bookings_services.booking_receipt_shown(booking=in_bot)
    bookings_services.booking_receipt_shown(booking=requested)
    assert set(held.values_list("status", flat=True)) == {NotificationStatus.SKIPPED}
    # Later changes still reach the owner in the chat.
    bookings_services.booking_cancel(booking=in_bot, by=make_user(is_staff=True), now=now)
    assert Notification.objects.filter(booking=in_bot, chat_id=7002, kind=NotificationKind.CANCELLED).exists()
