"""Extend and move in the chat (the sandbox): buttons only when they would work, a stale press answered clearly."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model

from bookings import services
from bookings.models import Booking, BookingStatus
from bot import callbacks as cb
from notifications.models import Notification, NotificationKind
from tests.bot.test_loans import post_notification

pytestmark = pytest.mark.django_db(transaction=True)

PLUS_30, PLUS_60, MOVE = "⏩ Extend +30 min", "⏩ Extend +1 h", "🔀 Move"


def started(person, text="Hello"):
    person.send("/start")
    person.expect_message(containing=text)
    return get_user_model().objects.get(telegram_id=person.id)


def open_card(person, booking):
    person.send("/my")
    person.expect_message(containing="Upcoming")
    person.press(cb.data(cb.MY_BOOKING, booking.pk)).answer()
    return person.expect_message(containing=f"#{booking.pk}")


@pytest.fixture
def hourly(make_resource):
    """Open around the clock on a 1-hour grid: a day's starts fit one page of the picker."""
    return make_resource(name="Bench", kind="space", hours=None, slot_minutes=60, min_duration_minutes=60)


def test_the_card_offers_extend_and_move_and_extending_works(bot, alice, open_resource, slot, errors_seen):
    user = started(alice)
    start, end = slot(hours_ahead=3)
    booking = services.booking_create(user=user, resource=open_resource, start=start, end=end)
    card = open_card(alice, booking)
    assert {PLUS_30, PLUS_60, MOVE} <= set(card.buttons)

    answer = alice.press(PLUS_30).answer()
    assert "Extended" in answer["text"]
    assert Booking.objects.get(pk=booking.pk).end == end + timedelta(minutes=30)
    assert not errors_seen


def test_no_extend_button_when_the_time_after_is_taken(bot, alice, open_resource, slot, make_user):
    user = started(alice)
    start, end = slot(hours_ahead=3)
    booking = services.booking_create(user=user, resource=open_resource, start=start, end=end)
    services.booking_create(
        user=make_user(), resource=open_resource, start=end + timedelta(minutes=30), end=end + timedelta(hours=1)
    )
    card = open_card(alice, booking)
    assert PLUS_30 in card.buttons and PLUS_60 not in card.buttons


def test_a_stale_extend_button_gets_a_clear_answer_and_changes_nothing(bot, alice, open_resource, slot, make_user):
    user = started(alice)
    start, end = slot(hours_ahead=3)
    booking = services.booking_create(user=user, resource=open_resource, start=start, end=end)
    assert PLUS_60 in open_card(alice, booking).buttons
    services.booking_create(user=make_user(), resource=open_resource, start=end, end=end + timedelta(hours=1))

    answer = alice.press(PLUS_60).answer()

    assert "already booked" in answer["text"]
    assert Booking.objects.get(pk=booking.pk).end == end
    refreshed = alice.expect_message(containing=f"#{booking.pk}")
    assert PLUS_60 not in refreshed.buttons and PLUS_30 not in refreshed.buttons


def test_the_before_end_reminder_extends_by_an_hour(bot, sandbox, alice, make_resource, slot):
    user = started(alice)
    camera = make_resource(name="Camera", kind="equipment", hours=None)
    start, end = slot(hours_ahead=0)
    booking = services.booking_create(user=user, resource=camera, start=start, end=end, now=start - timedelta(hours=1))
    services.booking_check_in(booking=booking, by=user, now=start)
    Notification.objects.create(
        user=user, chat_id=alice.id, booking=booking, kind=NotificationKind.REMINDER_END, dedupe_key="end"
    )
    post_notification(sandbox, NotificationKind.REMINDER_END)
    reminder = alice.expect_message(containing="Please return")
    assert "Extend +1 h" in reminder.buttons

    assert "Extended" in alice.press("Extend +1 h").answer()["text"]
    assert Booking.objects.get(pk=booking.pk).end == end + timedelta(hours=1)


def test_a_booking_is_moved_through_day_start_length_and_confirm(bot, alice, hourly, slot, errors_seen):
    user = started(alice)
    start, end = slot(hours_ahead=3)
    booking = services.booking_create(user=user, resource=hourly, start=start, end=end)
    new_start = start + timedelta(hours=5)
    day = new_start.astimezone(user.zone).date()
    open_card(alice, booking)

    alice.press(MOVE).answer()
    alice.expect_message(containing="choose the new day")
    alice.press(cb.data(cb.MOVE_STARTS, booking.pk, day, 0)).answer()
    alice.expect_message(containing="choose a start")
    alice.press(cb.data(cb.MOVE_LENGTHS, booking.pk, new_start)).answer()
    alice.expect_message(containing="for how long")
    alice.press(cb.data(cb.MOVE_CONFIRM, booking.pk, new_start, 120)).answer()
    confirm = alice.expect_message(containing="Move")
    assert "✅ Move it" in confirm.buttons

    assert "Moved" in alice.press("✅ Move it").answer()["text"]
    fresh = Booking.objects.get(pk=booking.pk)
    assert (fresh.start, fresh.end, fresh.status) == (new_start, new_start + timedelta(hours=2), "confirmed")
    assert not errors_seen


def test_the_move_confirm_screen_says_why_a_time_cannot_be_taken(bot, alice, hourly, slot, make_resource):
    from bookings.models import QuotaRule

    user = started(alice)
    start, end = slot(hours_ahead=3)
    booking = services.booking_create(user=user, resource=hourly, start=start, end=end)
    QuotaRule.objects.create(resource=hourly, kind="hours", period="month", limit=1)
    new_start = start + timedelta(hours=5)
    open_card(alice, booking)
    alice.press(cb.data(cb.MOVE_CONFIRM, booking.pk, new_start, 120), forge=True).answer()
    confirm = alice.expect_message(containing="cannot be moved there")
    assert "✅ Move it" not in confirm.buttons
    assert Booking.objects.get(pk=booking.pk).start == start


def test_a_moved_booking_that_needs_approval_is_pending_again(bot, alice, make_resource, slot, make_user):
    user = started(alice)
    room = make_resource(name="Hall", kind="space", hours=None, requires_approval=True)
    start, end = slot(hours_ahead=3)
    booking = services.booking_create(user=user, resource=room, start=start, end=end)
    services.booking_approve(booking=booking, by=make_user(is_staff=True))
    new_start = start + timedelta(hours=4)
    open_card(alice, booking)
    alice.press(cb.data(cb.MOVE_CONFIRM, booking.pk, new_start, 60), forge=True).answer()
    assert "approve the new time again" in alice.expect_message(containing="Move").text
    assert "approve" in alice.press("✅ Move it").answer()["text"]
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.PENDING


def test_the_buttons_read_in_russian(bot, sandbox, open_resource, slot):
    ivan = sandbox.user("Иван", username="ivan", language_code="ru")
    user = started(ivan, text="")
    start, end = slot(hours_ahead=3)
    booking = services.booking_create(user=user, resource=open_resource, start=start, end=end)
    ivan.send("/my")
    ivan.expect_message()
    ivan.press(cb.data(cb.MY_BOOKING, booking.pk)).answer()
    card = ivan.expect_message(containing=f"#{booking.pk}")
    assert {"⏩ Продлить на 30 мин", "⏩ Продлить на 1 ч", "🔀 Перенести"} <= set(card.buttons)


def test_a_forged_extend_of_someone_elses_booking_changes_nothing(bot, alice, bob, open_resource, slot):
    from core.callbacks import BOOKING_EXTEND, encode

    user = started(alice)
    started(bob)
    start, end = slot(hours_ahead=3)
    booking = services.booking_create(user=user, resource=open_resource, start=start, end=end)
    answer = bob.press(encode(BOOKING_EXTEND, booking.pk, 30), forge=True).answer()
    assert "expired" in answer["text"]
    assert Booking.objects.get(pk=booking.pk).end == end
