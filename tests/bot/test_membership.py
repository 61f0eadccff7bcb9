"""The bot's own membership (my_chat_member): a block and an unblock decide whether a user can be reached."""

import logging

import pytest
from django.contrib.auth import get_user_model

from bookings.services import booking_approve, booking_create
from notifications import sender
from notifications.models import Notification, NotificationStatus
from notifications.tasks import deliver
from tests.bot.conftest import TOKEN
from tests.notifications.harness import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
BOT_ID = int(TOKEN.split(":")[0])


def reachable(person):
    return get_user_model().objects.get(telegram_id=person.id).is_reachable


@pytest.fixture
def worker_sends_to_sandbox(sandbox, settings, monkeypatch):
    """The notification sender of this process talks to the sandbox, as a worker's would to Telegram."""
    settings.TELEGRAM_BASE_URL = sandbox.base_url
    monkeypatch.setattr(sender, "_sender", None)
    yield
    if sender._sender is not None:
        sender._sender.close()


def test_blocking_marks_the_user_unreachable_and_unblocking_reachable_again(bot, alice):
    alice.send("/start")
    alice.expect_message(containing="Hello")
    assert reachable(alice)

    alice.block()
    wait_for(lambda: not reachable(alice), timeout=10, message="the block to be noticed")
    alice.unblock()

    wait_for(lambda: reachable(alice), timeout=10, message="the unblock to be noticed")


def test_a_notification_queued_after_an_unblock_is_delivered(
    bot, alice, make_resource, slot, staff, worker_sends_to_sandbox
):
    alice.send("/start")
    alice.expect_message(containing="Hello")
    alice.block()
    wait_for(lambda: not reachable(alice), timeout=10, message="the block to be noticed")
    alice.unblock()
    wait_for(lambda: reachable(alice), timeout=10, message="the unblock to be noticed")
    start, end = slot(hours_ahead=5)
    user = get_user_model().objects.get(telegram_id=alice.id)
    booking = booking_create(
        user=user, resource=make_resource(name="Studio", hours=None, requires_approval=True), start=start, end=end
    )
    before = len(alice.bot_messages())

    booking_approve(booking=booking, by=staff)
    for notification in Notification.objects.filter(user=user, status=NotificationStatus.PENDING):
        deliver.apply(args=(notification.pk,))

    assert Notification.objects.filter(user=user, status=NotificationStatus.SENT).exists()
    assert len(alice.bot_messages()) > before


def test_the_bot_removed_from_the_admin_chat_warns_in_the_log(bot, sandbox, bob, settings, caplog):
    group = sandbox.group("Slotbot admins", members=[bob])
    settings.TELEGRAM_ADMIN_CHAT_ID = group.id
    caplog.set_level(logging.INFO, logger="bot.handlers.membership")

    group.remove(BOT_ID)

    wait_for(lambda: "admin alerts cannot be delivered" in caplog.text, timeout=10, message="the warning")
    assert any(r.levelno == logging.WARNING for r in caplog.records if r.name == "bot.handlers.membership")
