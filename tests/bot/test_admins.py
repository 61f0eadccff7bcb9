"""Admins in the admin group: approve, reject with a reason the user sees, refusals for others."""

import asyncio

import pytest
from django.core.cache import cache
from django.utils import timezone
from telegram import Bot

from bookings import rules
from bookings.models import Booking, BookingStatus
from bot.admins import in_admin_chat
from bot.models import PendingInput
from tests.bot.conftest import TOKEN

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def approval_resource(make_resource):
    return make_resource(name="Studio", kind="space", hours=None, requires_approval=True)


def request_booking(user, slot, hours_ahead):
    start, _end = slot(hours_ahead=hours_ahead)
    local = start.astimezone(timezone.get_default_timezone())
    user.send(f"/book studio {local:%Y-%m-%d} {local:%H:%M} 1h")
    user.expect_message(containing="Requested")
    return Booking.objects.get(start=start)


def test_admin_approves_in_the_group_and_the_message_says_who(bot, alice, boss, admin_group, approval_resource, slot):
    booking = request_booking(alice, slot, hours_ahead=4)
    assert booking.status == BookingStatus.PENDING
    boss.send("/pending", chat=admin_group)
    boss.expect_message(containing="awaits approval", chat=admin_group)
    boss.press(f"✅ Approve #{booking.pk}", chat=admin_group).answer()
    boss.expect_message(containing="Approved by @boss", chat=admin_group)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_reject_asks_for_a_reason_that_the_user_then_sees(bot, alice, boss, admin_group, approval_resource, slot):
    booking = request_booking(alice, slot, hours_ahead=5)
    boss.send("/pending", chat=admin_group)
    boss.expect_message(containing="awaits approval", chat=admin_group)
    boss.press(f"❌ Reject #{booking.pk}", chat=admin_group).answer()
    boss.expect_message(containing="reply with the reason", chat=admin_group)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING  # nothing happens until the reason comes
    boss.send("The studio is being painted", chat=admin_group)
    boss.expect_message(containing="Rejected by @boss", chat=admin_group)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.REJECTED
    alice.send("/my")
    alice.expect_message(containing="rejected: The studio is being painted")


def test_admin_commands_politely_refuse_non_admins(bot, alice, admin_group, sandbox, make_user):
    alice.send("/pending")
    alice.expect_message(containing="for admins only")
    # Staff in the database but not in the admin group: still refused.
    outsider = sandbox.user("Carol", username="carol")
    make_user(username="carol", is_staff=True, telegram_id=outsider.id)
    outsider.send("/today")
    outsider.expect_message(containing="for admins only")


def test_a_non_admin_pressing_approve_changes_nothing(bot, alice, bob, admin_group, approval_resource, slot):
    booking = request_booking(alice, slot, hours_ahead=6)
    bob.send("/start")
    bob.expect_message(containing="Hello")
    answer = bob.press(_data("ap", booking.pk), forge=True).answer()
    assert "admins only" in answer["text"]
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING


def _data(action, *numbers):
    from core.callbacks import encode

    return encode(action, *numbers)


def member_checks(sandbox):
    return [call for call in sandbox.calls() if call["method"] == "getChatMember"]


def test_membership_is_asked_once_then_read_from_the_shared_cache_until_it_expires(sandbox, boss, admin_group):
    async def check_twice():
        async with Bot(TOKEN, base_url=sandbox.base_url) as bot:
            return [await in_admin_chat(bot, boss.id), await in_admin_chat(bot, boss.id)]

    assert asyncio.run(check_twice()) == [True, True]
    assert len(member_checks(sandbox)) == 1

    admin_group.remove(boss.id)
    cache.clear()  # the minute has passed (or another process's entry expired)

    assert asyncio.run(check_twice()) == [False, False]
    assert len(member_checks(sandbox)) == 2


def test_too_long_rejection_reason_is_refused_not_cut_and_can_be_answered_again(
    bot, alice, boss, admin_group, approval_resource, slot
):
    booking = request_booking(alice, slot, hours_ahead=5)
    boss.send("/pending", chat=admin_group)
    boss.expect_message(containing="awaits approval", chat=admin_group)
    boss.press(f"❌ Reject #{booking.pk}", chat=admin_group).answer()
    boss.expect_message(containing="reply with the reason", chat=admin_group)

    boss.send("x" * (rules.MAX_NOTE_LENGTH + 1), chat=admin_group)
    boss.expect_message(containing=f"at most {rules.MAX_NOTE_LENGTH} characters", chat=admin_group)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING
    assert PendingInput.objects.filter(booking_id=booking.pk, kind=PendingInput.Kind.REJECT_REASON).exists()

    boss.send("Closed for painting", chat=admin_group)
    boss.expect_message(containing="Rejected by @boss", chat=admin_group)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.REJECTED
    assert booking.events.get(to_status=BookingStatus.REJECTED).reason == "Closed for painting"


def test_pending_list_offers_no_decision_on_a_booking_decided_meanwhile(
    bot, alice, boss, admin_group, approval_resource, slot
):
    booking = request_booking(alice, slot, hours_ahead=7)
    boss.send("/pending", chat=admin_group)
    listing = boss.expect_message(containing="awaits approval", chat=admin_group)
    assert f"✅ Approve #{booking.pk}" in listing.buttons and f"❌ Reject #{booking.pk}" in listing.buttons
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CONFIRMED)
    boss.press(f"❌ Reject #{booking.pk}", chat=admin_group).answer()
    assert not PendingInput.objects.filter(booking_id=booking.pk).exists()  # no question about a refused action
