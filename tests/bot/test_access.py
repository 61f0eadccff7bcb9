"""Restricted resources in the chat: the lock, who may book, Request access, and the admins' decision.

The real bot against the sandbox; delivering the outbox rows these changes
write is the notification suite's part (tests/notifications/test_access_e2e.py).
"""

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from bookings import policies
from bookings.models import AccessRequest, AccessRequestStatus, AccessRule, Booking
from bot import callbacks as cb
from bot.calendar import month_of
from bot.models import PendingInput
from core.callbacks import ACCESS_APPROVE, ACCESS_REJECT
from core.models import User
from notifications.models import Notification, NotificationKind

pytestmark = pytest.mark.django_db(transaction=True)

WHO_MAY = "Only members of Trained makers may book this resource."


@pytest.fixture
def makers():
    return Group.objects.create(name="Trained makers")


@pytest.fixture
def laser(make_resource, makers):
    resource = make_resource(name="Laser cutter", category="Workshop", hours=None)
    AccessRule.objects.create(resource=resource, group=makers)
    return resource


def registered(account):
    """The Slotbot user the bot made of a sandbox user (after their first message)."""
    account.send("/start")
    account.expect_message()
    return User.objects.get(telegram_id=account.id)


def typed(start, hours):
    local = start.astimezone(timezone.get_default_timezone())
    return f"{local:%Y-%m-%d} {local:%H:%M} {hours}h"


def test_a_restricted_resource_is_locked_in_the_list_and_its_card_offers_request_access_not_a_calendar(
    bot, alice, laser, open_resource
):
    alice.send("/resources")
    alice.expect_message(containing="What are you looking for")
    alice.press("Equipment").answer()
    alice.expect_message(containing="choose a category")
    alice.press("All").answer()
    listing = alice.expect_message(containing="Equipment")
    assert "🔒 Laser cutter" in listing.buttons and "Projector" in listing.buttons
    alice.press("🔒 Laser cutter").answer()
    card = alice.expect_message(containing="Laser cutter")
    assert WHO_MAY in card.text
    assert "🔑 Request access" in card.buttons and "📅 Book" not in card.buttons


def test_a_member_of_the_group_gets_the_calendar_without_a_lock(bot, alice, laser, makers):
    registered(alice).groups.add(makers)
    alice.press(cb.data(cb.RESOURCE, laser.pk), forge=True).answer()
    card = alice.expect_message(containing="Laser cutter")
    assert "📅 Book" in card.buttons and WHO_MAY not in card.text


def test_a_stale_calendar_button_of_a_restricted_resource_answers_who_may_book_it(bot, alice, laser):
    registered(alice)
    answer = alice.press(cb.data(cb.CALENDAR, laser.pk, month_of(timezone.now().date())), forge=True).answer()
    assert WHO_MAY in answer["text"]


def test_confirming_a_restricted_resource_by_a_stale_button_books_nothing(bot, alice, laser, slot):
    registered(alice)
    start, _end = slot(hours_ahead=4)
    alice.press(cb.data(cb.BOOK, laser.pk, start, 60), forge=True).answer()
    alice.expect_message(containing=WHO_MAY)
    assert not Booking.objects.exists()


def test_typed_book_of_a_restricted_resource_answers_not_permitted_with_request_access(bot, alice, laser, slot):
    start, _end = slot(hours_ahead=4)
    alice.send(f"/book laser {typed(start, 1)}")
    answer = alice.expect_message(containing="Could not book")
    assert WHO_MAY in answer.text
    assert "🔑 Request access" in answer.buttons
    assert not Booking.objects.exists()


def test_free_does_not_offer_a_resource_the_user_may_not_book(bot, alice, laser, open_resource, makers, slot):
    user = registered(alice)
    start, _end = slot(hours_ahead=26)
    alice.press(cb.data(cb.FREE_LIST, start, 60, 0), forge=True).answer()
    free = alice.expect_message(containing="free for all of")
    assert "Projector" in free.buttons and not any("Laser" in label for label in free.buttons)
    user.groups.add(makers)
    alice.press(cb.data(cb.FREE_LIST, start, 60, 0), forge=True).answer()
    free = alice.expect_message(containing="free for all of")
    assert "Laser cutter" in free.buttons


def test_request_access_asks_why_and_files_one_request_with_the_answer(bot, alice, laser, admin_group):
    user = registered(alice)
    alice.press(cb.data(cb.RESOURCE, laser.pk), forge=True).answer()
    alice.expect_message(containing="Laser cutter")
    alice.press("🔑 Request access").answer()
    alice.expect_message(containing="Why do you need")
    assert not AccessRequest.objects.exists()  # nothing until the answer comes
    alice.send("I passed the safety course on Monday")
    alice.expect_message(containing="went to the admins")
    request = AccessRequest.objects.get()
    assert (request.user, request.resource, request.reason) == (user, laser, "I passed the safety course on Monday")
    assert request.status == AccessRequestStatus.PENDING
    [row] = Notification.objects.filter(kind=NotificationKind.ADMIN_ACCESS_REQUEST)
    assert row.chat_id == admin_group.id and row.payload == {"access_request_id": request.pk}

    # Asking again while that one waits: a clear answer, no question, no second request.
    answer = alice.press("🔑 Request access").answer()
    assert "already asked for access" in answer["text"]
    assert not PendingInput.objects.exists()
    assert AccessRequest.objects.count() == 1


def test_a_too_long_reason_is_refused_and_asked_again(bot, alice, laser):
    registered(alice)
    alice.press(cb.data(cb.ACCESS_ASK, laser.pk), forge=True).answer()
    alice.expect_message(containing="Why do you need")
    alice.send("x" * 501)
    alice.expect_message(containing="500")
    alice.expect_message(containing="Why do you need")
    assert not AccessRequest.objects.exists()
    alice.send("Short and clear")
    alice.expect_message(containing="went to the admins")
    assert AccessRequest.objects.get().reason == "Short and clear"


def test_a_user_who_may_book_already_is_told_so_instead_of_being_asked(bot, alice, open_resource):
    registered(alice)
    answer = alice.press(cb.data(cb.ACCESS_ASK, open_resource.pk), forge=True).answer()
    assert "may already book" in answer["text"]
    assert not PendingInput.objects.exists()


def filed_request(account, laser):
    return policies.access_request_create(user=registered(account), resource=laser, reason="for my thesis")


def test_an_admin_approves_in_the_group_and_the_user_may_then_book(bot, alice, boss, admin_group, laser, slot):
    request = filed_request(alice, laser)
    boss.send("/start", chat=admin_group)
    boss.expect_message(chat=admin_group)
    boss.press(cb.data(ACCESS_APPROVE, request.pk), forge=True, chat=admin_group).answer()
    decided = boss.expect_message(containing="Access granted by @boss", chat=admin_group)
    assert "for my thesis" in decided.text and not decided.buttons
    request.refresh_from_db()
    assert request.status == AccessRequestStatus.APPROVED
    start, _end = slot(hours_ahead=4)
    alice.send(f"/book laser {typed(start, 1)}")
    alice.expect_message(containing="Booked: Laser cutter")

    # The alert's other button, pressed later: the decision stands, the press is answered clearly.
    stale = boss.press(cb.data(ACCESS_REJECT, request.pk), decided.message_id, forge=True, chat=admin_group)
    answer = stale.answer()
    assert "Already decided: @boss granted" in answer["text"]
    request.refresh_from_db()
    assert request.status == AccessRequestStatus.APPROVED


def test_an_admin_rejects_with_a_reason_after_being_asked_for_it(bot, alice, boss, admin_group, laser):
    request = filed_request(alice, laser)
    boss.send("/start", chat=admin_group)
    boss.expect_message(chat=admin_group)
    boss.press(cb.data(ACCESS_REJECT, request.pk), forge=True, chat=admin_group).answer()
    boss.expect_message(containing="reply with the reason", chat=admin_group)
    request.refresh_from_db()
    assert request.status == AccessRequestStatus.PENDING
    boss.send("Book the safety course first", chat=admin_group)
    boss.expect_message(containing="Access refused by @boss", chat=admin_group)
    request.refresh_from_db()
    assert (request.status, request.decision_reason) == (AccessRequestStatus.REJECTED, "Book the safety course first")
    [row] = Notification.objects.filter(kind=NotificationKind.ACCESS_REJECTED)
    assert row.user == request.user


def test_approve_is_refused_to_anyone_who_is_not_an_admin(bot, alice, bob, admin_group, laser, sandbox, make_user):
    request = filed_request(alice, laser)
    # Alice herself, outside the admin group.
    answer = alice.press(cb.data(ACCESS_APPROVE, request.pk), forge=True).answer()
    assert "for admins only" in answer["text"]
    # In the admin group, but not staff.
    admin_group.add(bob)
    bob.send("/start", chat=admin_group)
    bob.expect_message(chat=admin_group)
    answer = bob.press(cb.data(ACCESS_APPROVE, request.pk), forge=True, chat=admin_group).answer()
    assert "for admins only" in answer["text"]
    request.refresh_from_db()
    assert request.status == AccessRequestStatus.PENDING
    assert not request.user.groups.exists()


def test_a_russian_reader_sees_the_lock_and_request_access_in_russian(bot, sandbox, laser):
    ivan = sandbox.user("Иван", username="ivan", language_code="ru")
    registered(ivan)
    ivan.press(cb.data(cb.RESOURCE, laser.pk), forge=True).answer()
    card = ivan.expect_message(containing="Laser cutter")
    assert "🔑 Запросить доступ" in card.buttons
    assert "Можно попросить доступ у администраторов." in card.text
    ivan.press("🔑 Запросить доступ").answer()
    ivan.expect_message(containing="Зачем вам")
