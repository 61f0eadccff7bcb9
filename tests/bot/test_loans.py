"""Loans in the bot: the admin group's Mark returned and Lift suspension, the owner's Returned, /my's strikes."""

import asyncio
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from telegram import Bot, InlineKeyboardMarkup

from bookings import services
from bookings.models import Booking, BookingStatus, Strike, Suspension
from notifications import outbox, texts
from notifications.models import Notification, NotificationKind
from tests.bot.conftest import TOKEN

pytestmark = pytest.mark.django_db(transaction=True)


def started(person):
    person.send("/start")
    person.expect_message(containing="Hello")
    return get_user_model().objects.get(telegram_id=person.id)


def overdue_loan(user, make_resource):
    laptop = make_resource(name="Laptop", kind="equipment", hours=None, requires_check_in=True)
    start = (timezone.now() - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    booking = services.booking_create(
        user=user, resource=laptop, start=start, end=start + timedelta(hours=1), now=start - timedelta(hours=1)
    )
    services.booking_check_in(booking=booking, by=user, now=start)
    services.bookings_mark_overdue(now=start + timedelta(hours=1))
    return Booking.objects.get(pk=booking.pk)


def post_notification(sandbox, kind):
    """Send the outbox row of `kind` as the worker would (rendered, with its buttons)."""
    notification = Notification.objects.select_related("user", "booking__resource", "booking__user").get(kind=kind)
    message = texts.render(notification)

    async def send():
        async with Bot(TOKEN, base_url=sandbox.base_url) as bot:
            markup = InlineKeyboardMarkup.de_json(message.reply_markup, bot) if message.reply_markup else None
            await bot.send_message(message.chat_id, message.text, parse_mode="HTML", reply_markup=markup)

    asyncio.run(send())


def test_admin_marks_an_overdue_item_returned_from_the_groups_alert(
    bot,
    sandbox,
    alice,
    boss,
    admin_group,
    make_resource,
):
    booking = overdue_loan(started(alice), make_resource)
    post_notification(sandbox, NotificationKind.ADMIN_OVERDUE)
    boss.expect_message(containing="Overdue", chat=admin_group)

    boss.press("Mark returned", chat=admin_group).answer()

    boss.expect_message(containing="Marked returned by @boss", chat=admin_group)
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.COMPLETED
    assert Strike.objects.filter(booking=booking).count() == 1
    alice.send("/my")
    assert "1 strike in the last 30 days" in alice.expect_message(containing="strike").text


def test_a_non_admin_cannot_mark_returned(bot, alice, bob, make_resource):
    from core.callbacks import BOOKING_MARK_RETURNED, encode

    booking = overdue_loan(started(alice), make_resource)
    started(bob)
    answer = bob.press(encode(BOOKING_MARK_RETURNED, booking.pk), forge=True).answer()
    assert "admins only" in answer["text"]
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.OVERDUE


def test_owner_presses_returned_on_an_overdue_booking_in_my(bot, alice, make_resource):
    booking = overdue_loan(started(alice), make_resource)
    alice.send("/my")
    alice.expect_message(containing="Laptop")
    alice.press(next(label for label in alice.bot_messages()[-1].buttons if label.startswith(f"#{booking.pk}")))
    card = alice.expect_message(containing="Laptop")
    assert "↩️ Returned" in card.buttons
    assert "Returned" in alice.press("↩️ Returned").answer()["text"]
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.COMPLETED


def test_admin_lifts_a_suspension_from_the_groups_message(
    bot,
    sandbox,
    alice,
    boss,
    admin_group,
    make_resource,
):
    user = started(alice)
    now = timezone.now()
    suspension = Suspension.objects.create(user=user, start=now, until=now + timedelta(days=7))
    outbox.notifications_for_suspension(suspension=suspension, lifted=False)
    post_notification(sandbox, NotificationKind.ADMIN_SUSPENDED)
    boss.expect_message(containing="is suspended from booking", chat=admin_group)
    alice.send("/my")
    alice.expect_message(containing="You may not book until")

    boss.press("Lift suspension", chat=admin_group).answer()

    boss.expect_message(containing="lifted by @boss", chat=admin_group)
    suspension.refresh_from_db()
    assert suspension.lifted_at is not None
