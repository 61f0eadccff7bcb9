"""QR stickers: /start r<id> opens the resource's card with what applies to this user now.

Through the sandbox with the real PTB: Check in (the access code appears only
then), Return, Book now, Report a problem (text, and photo) reaching the admin
group exactly once, Mark out of service warning each upcoming user once, and
payloads that name nothing. The outbox is delivered in this process
(notifications.delivery), twice, to show nothing is sent twice.
"""

import io
import time
from datetime import timedelta

import pytest
import segno
from django.contrib.auth.models import Group
from django.utils import timezone

from bookings import errors, rules, services
from bookings.models import AccessRule, Booking, BookingStatus
from core.ratelimit import LocalRateLimiter
from core.services import user_from_telegram
from notifications import delivery, sender
from notifications.models import Notification, NotificationKind, NotificationStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def outbox(sandbox, settings, monkeypatch):
    """deliver() sends every due outbox row to the sandbox, as a worker would."""
    settings.TELEGRAM_BASE_URL = sandbox.base_url
    settings.REDIS_URL = ""
    monkeypatch.setattr(sender, "_sender", None)
    # A limiter of the test's own: the sandbox's chat ids repeat from test to test.
    limiter = LocalRateLimiter()
    monkeypatch.setattr(delivery, "get_rate_limiter", lambda: limiter)

    def deliver():
        for _round in range(20):
            due = list(Notification.objects.filter(status=NotificationStatus.PENDING).values_list("id", flat=True))
            if not due:
                return
            waits = [delivery.notification_deliver(notification_id=pk) for pk in due]
            time.sleep(min([w for w in waits if w] or [0]))
        raise AssertionError("the outbox did not drain")

    yield deliver
    if sender._sender is not None:
        sender._sender.close()


@pytest.fixture
def locker(make_resource):
    return make_resource(
        name="Camera Locker 7",
        hours=None,
        requires_check_in=True,
        check_in_opens_minutes=60,
        pickup_instructions="Shelf B, second floor",
        access_code="4711",
    )


def user_of(person):
    return user_from_telegram(telegram_id=person.id, first_name=person.first_name, private_chat_id=person.id)


def next_start(resource, minutes_ahead=0):
    return rules.round_up_to_grid(resource, timezone.now() + timedelta(minutes=minutes_ahead))


def book(resource, person, *, minutes_ahead=0, length=60):
    start = next_start(resource, minutes_ahead)
    return services.booking_create(
        user=user_of(person), resource=resource, start=start, end=start + timedelta(minutes=length)
    )


def open_card(person, resource):
    person.skip_to_now()
    person.send(f"/start r{resource.pk}")
    return person.expect_message(containing=resource.name)


def _png_bytes():
    out = io.BytesIO()
    segno.make("photo of the problem").save(out, kind="png", scale=4)
    return out.getvalue()


def test_check_in_from_the_sticker_shows_the_access_code_only_then(bot, alice, locker):
    booking = book(locker, alice, minutes_ahead=10)
    card = open_card(alice, locker)
    assert "✅ Check in" in card.buttons
    assert "4711" not in card.text and "Shelf B" not in card.text
    alice.press("✅ Check in").answer()
    checked_in = alice.expect_message(containing="4711")
    assert "Shelf B, second floor" in checked_in.text
    copy = [b for row in checked_in.reply_markup["inline_keyboard"] for b in row if "copy_text" in b]
    assert copy == [{"text": "Copy the code", "copy_text": {"text": "4711"}}]
    booking.refresh_from_db()
    assert booking.status == BookingStatus.ACTIVE


def test_access_code_is_read_from_the_resource_at_check_in(bot, alice, locker):
    book(locker, alice, minutes_ahead=10)
    open_card(alice, locker)
    locker.access_code = "9090"  # changed after the booking was made
    locker.save()
    alice.press("✅ Check in").answer()
    assert "9090" in alice.expect_message(containing="Access code").text


def test_return_from_the_sticker_completes_the_booking(bot, alice, locker):
    booking = book(locker, alice, minutes_ahead=10)
    services.booking_check_in(booking=booking, by=booking.user)
    card = open_card(alice, locker)
    assert "↩️ Return early" in card.buttons and "✅ Check in" not in card.buttons
    assert "Returned" in alice.press("↩️ Return early").answer()["text"]
    booking.refresh_from_db()
    assert booking.status == BookingStatus.COMPLETED


def test_book_now_books_the_free_resource_from_the_next_start(bot, alice, open_resource):
    card = open_card(alice, open_resource)
    assert "Free now" in card.text
    book_now = [label for label in card.buttons if label.startswith("Book now")]
    assert book_now, card.buttons
    alice.press(book_now[0]).answer()
    alice.expect_message(containing=f"Book {open_resource.name}")
    alice.press("✅ Confirm").answer()
    alice.expect_message(containing="Booked")
    booking = Booking.objects.get(resource=open_resource)
    assert booking.start == next_start(open_resource)
    assert booking.user.telegram_id == alice.id


def test_book_now_is_not_offered_when_someone_holds_it(bot, alice, bob, open_resource):
    book(open_resource, bob, length=120)
    card = open_card(alice, open_resource)
    assert not [label for label in card.buttons if label.startswith("Book now")]
    assert "Not free to take right now" in card.text


def test_problem_report_with_text_reaches_the_admin_group_once(bot, alice, boss, admin_group, open_resource, outbox):
    open_card(alice, open_resource)
    alice.press("Report a problem").answer()
    alice.expect_message(containing="What is wrong?")
    alice.send("The lens is cracked")
    alice.expect_message(containing="the admins have your report")
    outbox()
    outbox()
    reports = [m for m in admin_group.bot_messages() if "Problem reported" in m.text]
    assert len(reports) == 1
    assert "The lens is cracked" in reports[0].text and open_resource.name in reports[0].text
    assert "Mark out of service" in reports[0].buttons
    alice.send("The lens is cracked")  # the question was answered: this is a stray text now
    alice.expect_message(containing="I understand commands")
    outbox()
    assert len([m for m in admin_group.bot_messages() if "Problem reported" in m.text]) == 1


def test_problem_report_with_a_photo_reaches_the_admin_group_once_with_the_photo(
    bot, alice, boss, admin_group, open_resource, outbox
):
    open_card(alice, open_resource)
    alice.press("Report a problem").answer()
    alice.expect_message(containing="What is wrong?")
    alice.send_photo(_png_bytes())  # no description: asked again, nothing sent
    alice.expect_message(containing="caption")
    alice.send_photo(_png_bytes(), caption="Cable torn")
    alice.expect_message(containing="the admins have your report")
    outbox()
    outbox()
    reports = [m for m in admin_group.bot_messages() if "Problem reported" in m.text]
    assert len(reports) == 1
    assert reports[0].get("photo") and "Cable torn" in reports[0]["caption"]


def test_out_of_service_from_the_report_warns_each_upcoming_user_once_and_refuses_bookings(
    bot, alice, bob, boss, admin_group, open_resource, outbox
):
    bob.send("/start")  # the bot may write only to people who started it
    bob.expect_message()
    bobs = [book(open_resource, bob, minutes_ahead=180), book(open_resource, bob, minutes_ahead=300)]
    alices = book(open_resource, alice, minutes_ahead=420)
    open_card(alice, open_resource)
    alice.press("Report a problem").answer()
    alice.expect_message(containing="What is wrong?")
    alice.send("It does not switch on")
    alice.expect_message(containing="the admins have your report")
    outbox()
    boss.press("Mark out of service", chat=admin_group).answer()
    boss.expect_message(containing="marked out of service by", chat=admin_group)
    # A second admin pressing at once (or a retried press) warns nobody again.
    assert not services.resource_out_of_service_set(resource=open_resource, by=user_of(boss), out_of_service=True)
    outbox()
    outbox()
    warned = Notification.objects.filter(kind=NotificationKind.OUT_OF_SERVICE, status=NotificationStatus.SENT)
    assert sorted(warned.values_list("booking_id", flat=True)) == sorted([b.pk for b in bobs] + [alices.pk])
    assert len([m for m in bob.bot_messages() if "out of service" in m.text]) == 2
    assert len([m for m in alice.bot_messages() if "out of service" in m.text]) == 1
    open_resource.refresh_from_db()
    with pytest.raises(errors.OutOfService):
        book(open_resource, alice, minutes_ahead=600)
    card = open_card(alice, open_resource)
    assert "Out of service" in card.text
    assert not [label for label in card.buttons if label.startswith("Book now")]
    boss.press("Back in service", chat=admin_group).answer()
    boss.expect_message(containing="back in service", chat=admin_group)
    open_resource.refresh_from_db()
    assert book(open_resource, alice, minutes_ahead=600).status == BookingStatus.CONFIRMED


def test_mark_out_of_service_is_for_admins_only(bot, alice, boss, admin_group, open_resource, outbox, sandbox):
    intruder = sandbox.user("Mallory", username="mallory")
    admin_group.add(intruder)
    open_card(alice, open_resource)
    alice.press("Report a problem").answer()
    alice.expect_message(containing="What is wrong?")
    alice.send("Broken")
    alice.expect_message(containing="the admins have your report")
    outbox()
    intruder.press("Mark out of service", chat=admin_group).answer()
    open_resource.refresh_from_db()
    assert not open_resource.out_of_service


@pytest.mark.parametrize("payload", ["hello", "r", "r0", "r99999999", "r12x", "x" * 64])
def test_payloads_that_name_nothing_get_a_clear_answer(bot, alice, open_resource, payload, errors_seen):
    alice.send(f"/start {payload}")
    assert "does not name anything" in alice.expect_message().text
    assert not errors_seen


def test_an_inactive_resource_is_not_opened(bot, alice, make_resource):
    gone = make_resource(name="Old projector", hours=None, is_active=False)
    alice.send(f"/start r{gone.pk}")
    assert "does not name anything" in alice.expect_message().text


def test_a_resource_the_user_may_not_use_gets_a_clear_answer(bot, alice, open_resource):
    AccessRule.objects.create(resource=open_resource, group=Group.objects.create(name="Film school"))
    alice.send(f"/start r{open_resource.pk}")
    answer = alice.expect_message(containing="cannot use this resource")
    assert "Film school" in answer.text and "Book now" not in " ".join(answer.buttons)


def test_bare_start_still_shows_the_main_menu(bot, alice):
    alice.send("/start")
    assert alice.expect_message().buttons


def test_the_card_speaks_russian(bot, sandbox, open_resource):
    ivan = sandbox.user("Иван", username="ivan", language_code="ru")
    card = open_card(ivan, open_resource)
    assert "Сообщить о проблеме" in card.buttons
    assert any(label.startswith("Взять сейчас") for label in card.buttons)


def test_a_photo_does_not_answer_or_drop_another_open_question(bot, alice, django_user_model):
    from bot.models import PendingInput
    from bot.state import pending_input_ask

    alice.send("/start")
    alice.expect_message()
    user = django_user_model.objects.get(telegram_id=alice.id)
    pending_input_ask(user=user, chat_id=alice.id, kind=PendingInput.Kind.TIME_ZONE)
    alice.send_photo(_png_bytes(), caption="Cable torn")
    alice.expect_message(containing="I understand commands")
    assert PendingInput.objects.filter(user=user, kind=PendingInput.Kind.TIME_ZONE).exists()
