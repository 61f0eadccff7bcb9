"""Access requests end to end: the user asks in the bot, the admin group is asked once with
Approve / Reject, the admin decides there, and the user is told once — through the outbox.

The real bot polls the module's sandbox in this process; the real worker delivers the outbox.
"""

import re
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from bookings import policies
from bookings.models import AccessRequest, AccessRequestStatus, AccessRule
from bot import callbacks as cb
from bot.app import build_application
from bot.flood import FloodGuard
from bot.sync import close_db_threads
from notifications.models import Notification, NotificationKind, NotificationStatus
from tests.notifications.conftest import TOKEN, grid_now
from tests.notifications.harness import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bot(stack, settings):
    """The Slotbot Application polling the stack's sandbox, with a private in-memory cache."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"acc-{uuid.uuid4()}"}
    }
    application = build_application(
        token=TOKEN,
        base_url=stack.sandbox.base_url,
        rate_limit=False,
        flood_guard=FloodGuard(limit=10_000, window_seconds=1),
        register_commands=False,
    )
    with stack.sandbox.polling(application, poll_timeout=0.5):
        yield application
    close_db_threads()


@pytest.fixture
def laser(demo_resource):
    resource = demo_resource(name=f"Laser {uuid.uuid4().hex[:6]}")
    AccessRule.objects.create(resource=resource, group=Group.objects.create(name="Trained makers"))
    return resource


@pytest.fixture
def boss(stack, make_user):
    """A staff user in the stack's admin group."""
    name = f"boss{uuid.uuid4().hex[:6]}"
    account = stack.sandbox.user("Boss", username=name, started=True)
    stack.admin_group.add(account)
    make_user(username=name, is_staff=True, telegram_id=account.id, telegram_username=name)
    return account


def alerts_about(stack, request):
    """The admin group's messages about `request`: its alert, as sent or as edited by a decision."""
    about = re.compile(rf"[Rr]equest #{request.pk}\b")
    return [m for m in stack.chat_messages(stack.admin_group.id) if about.search(m.text)]


def the_alert(stack, request):
    [alert] = wait_for(lambda: alerts_about(stack, request), message=f"the alert of access request {request.pk}")
    return alert


def told(stack, account, containing):
    return [m for m in stack.chat_messages(account.id) if containing in m.text]


def settled(kind):
    return wait_for(
        lambda: Notification.objects.filter(kind=kind, status=NotificationStatus.SENT).first(),
        message=f"the {kind} row to be sent",
    )


def test_a_request_made_in_the_bot_reaches_the_admins_once_and_approval_tells_the_user_once(
    stack, bot, telegram_user, laser, boss
):
    alice, _user = telegram_user("Alice")
    alice.send("/start")
    alice.expect_message()
    alice.press(cb.data(cb.RESOURCE, laser.pk), forge=True).answer()
    alice.expect_message(containing="Only members of Trained makers")
    alice.press("🔑 Request access").answer()
    alice.expect_message(containing="Why do you need")
    alice.send("Safety course passed")
    alice.expect_message(containing="went to the admins")
    request = AccessRequest.objects.get()

    alert = the_alert(stack, request)
    assert "Safety course passed" in alert.text and "@alice" in alert.text
    assert alert.buttons == ["Approve", "Reject"]
    boss.press("Approve", alert.message_id, chat=stack.admin_group).answer()
    boss.expect_message(containing="Access granted by", chat=stack.admin_group)

    settled(NotificationKind.ACCESS_APPROVED)
    [granted] = told(stack, alice, "you may now book")
    assert laser.name in granted.text
    [decided] = alerts_about(stack, request)  # the alert, edited: no second one
    assert "Access granted by" in decided.text and not decided.buttons
    alice.skip_to_now()
    alice.press(f"Open {laser.name}", granted.message_id).answer()
    card = alice.expect_message(containing=laser.name)
    assert "📅 Book" in card.buttons
    start = grid_now() + timedelta(hours=2)
    local = start.astimezone(timezone.get_default_timezone())
    alice.send(f"/book {laser.name} {local:%Y-%m-%d} {local:%H:%M} 30m")
    alice.expect_message(containing="Booked")


def test_a_rejection_tells_the_user_once_with_the_admins_reason(stack, bot, telegram_user, laser, boss):
    bob, user = telegram_user("Bob")
    request = policies.access_request_create(user=user, resource=laser, reason="Need it for a prototype")

    alert = the_alert(stack, request)
    boss.press("Reject", alert.message_id, chat=stack.admin_group).answer()
    boss.expect_message(containing="reply with the reason", chat=stack.admin_group)
    boss.send("Take the safety course first", chat=stack.admin_group)
    boss.expect_message(containing="Access refused by", chat=stack.admin_group)

    settled(NotificationKind.ACCESS_REJECTED)
    [refused] = told(stack, bob, "was refused")
    assert "Take the safety course first" in refused.text
    request.refresh_from_db()
    assert request.status == AccessRequestStatus.REJECTED
    assert Notification.objects.filter(kind=NotificationKind.ACCESS_REJECTED).count() == 1


def test_access_messages_read_in_russian(settings, make_user, laser):
    from notifications import texts

    settings.TELEGRAM_ADMIN_CHAT_ID = -100
    user = make_user(telegram_id=4242, telegram_chat_id=4242, language_code="ru")
    staff = make_user(is_staff=True)
    request = policies.access_request_create(user=user, resource=laser, reason="диплом")
    policies.access_request_approve(request=request, by=staff)
    row = Notification.objects.get(kind=NotificationKind.ACCESS_APPROVED)
    message = texts.render(row)
    assert "теперь вы можете бронировать" in message.text
    assert message.reply_markup["inline_keyboard"][0][0]["text"].startswith("Открыть")
