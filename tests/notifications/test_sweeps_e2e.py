"""Each status sweep and reminder, run by a real Celery worker, ends as a message in the chat."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings import services as bookings_services
from bookings.models import Booking, BookingEvent, BookingStatus, ResourceKind
from notifications import queue
from notifications.models import Notification, NotificationStatus
from tests.notifications.conftest import grid_now
from tests.notifications.harness import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_start_due_sweep_starts_the_booking_and_tells_the_user(stack, telegram_user, demo_resource, book):
    account, user = telegram_user("Alice")
    booking = book(user, demo_resource(name="Projector"), grid_now())
    stack.wait_for_messages(account.id, 1)

    stack.send_task("bookings.tasks.start_due")

    messages = stack.wait_for_messages(account.id, 2)
    assert "Booked" in messages[0].text
    assert "has started" in messages[1].text and "Projector" in messages[1].text
    assert messages[1].buttons == ["Return early"]
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.ACTIVE


def test_complete_ended_sweep_completes_and_says_thank_you(stack, telegram_user, demo_resource, book):
    account, user = telegram_user("Bob")
    start = grid_now() - timedelta(minutes=10)
    booking = book(user, demo_resource(), start)
    bookings_services.booking_check_in(booking=booking, by=user, now=start)
    stack.wait_for_messages(account.id, 1)  # booked; the user's own check-in is not echoed

    stack.send_task("bookings.tasks.complete_ended")

    assert "is over" in stack.wait_for_messages(account.id, 2)[1].text
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.COMPLETED


def test_no_show_expires_frees_the_slot_and_alerts_admins_in_one_digest(stack, telegram_user, demo_resource, book):
    resource = demo_resource(requires_check_in=True, check_in_grace_minutes=5)
    start = grid_now() - timedelta(minutes=30)
    people = [telegram_user(name) for name in ("Carol", "Dave", "Erin")]
    bookings = [book(user, resource, start + timedelta(minutes=5 * i)) for i, (_, user) in enumerate(people)]
    for account, _ in people:
        stack.wait_for_messages(account.id, 1)
    admin_before = len(stack.chat_messages(stack.admin_group.id))

    stack.send_task("bookings.tasks.expire_no_shows")

    for account, _ in people:
        assert "expired" in stack.wait_for_messages(account.id, 2)[1].text
    digest = stack.wait_for_messages(stack.admin_group.id, admin_before + 1)[-1]
    assert "3 alerts" in digest.text and digest.text.count("No-show") == 3
    assert {b.status for b in Booking.objects.filter(pk__in=[b.pk for b in bookings])} == {BookingStatus.EXPIRED}


def test_unapproved_booking_expires_at_its_start(stack, telegram_user, demo_resource, book):
    account, user = telegram_user("Frank")
    booking = book(user, demo_resource(requires_approval=True), grid_now())
    assert "waiting for an admin's approval" in stack.wait_for_messages(account.id, 1)[0].text

    stack.send_task("bookings.tasks.expire_unapproved")

    assert "not approved before its start" in stack.wait_for_messages(account.id, 2)[1].text
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.EXPIRED


def test_reminder_before_start_carries_a_check_in_button(stack, telegram_user, demo_resource, book):
    account, user = telegram_user("Grace")
    start = grid_now() + timedelta(minutes=10)
    booking = bookings_services.booking_create(
        user=user,
        resource=demo_resource(name="Lab bench", requires_check_in=True),
        start=start,
        end=start + timedelta(minutes=30),
    )
    Booking.objects.filter(pk=booking.pk).update(created_at=timezone.now() - timedelta(hours=1))  # booked earlier
    stack.wait_for_messages(account.id, 1)

    stack.send_task("notifications.tasks.create_reminders")

    reminder = stack.wait_for_messages(account.id, 2)[1]
    assert "Lab bench" in reminder.text and "starts in" in reminder.text
    assert reminder.buttons == ["Check in", "Cancel booking"]


def test_reminder_before_end_asks_to_return_equipment_by_the_end_time(stack, telegram_user, demo_resource, book):
    account, user = telegram_user("Heidi")
    start = grid_now() - timedelta(minutes=30)
    booking = book(user, demo_resource(name="Camera", kind=ResourceKind.EQUIPMENT), start, minutes=40)
    bookings_services.booking_check_in(booking=booking, by=user, now=start)
    stack.wait_for_messages(account.id, 1)  # booked; the user's own check-in is not echoed

    stack.send_task("notifications.tasks.create_reminders")
    stack.send_task("notifications.tasks.create_reminders")  # a repeated run reminds nobody twice

    reminder = stack.wait_for_messages(account.id, 2)[1]
    end = timezone.localtime(booking.end, user.zone)
    assert f"Please return <b>Camera</b> by {end:%H:%M}" in reminder.text or f"by {end:%H:%M}" in reminder.text
    assert reminder.buttons == ["Return early", "Extend +30 min", "Extend +1 h"]  # the next hour is free
    wait_for(lambda: not Notification.objects.exclude(status=NotificationStatus.SENT).exists(), message="all sent")
    assert len(stack.chat_messages(account.id)) == 2


def test_two_concurrent_sweeps_move_and_announce_each_booking_once(stack, telegram_user, demo_resource, book):
    resource = demo_resource()
    start = grid_now() - timedelta(minutes=60)
    people = [telegram_user(f"P{i}") for i in range(6)]
    for i, (_, user) in enumerate(people):
        book(user, resource, start + timedelta(minutes=5 * i))

    for _ in range(4):  # two pool processes take these at the same time
        stack.send_task("bookings.tasks.start_due")

    for account, _ in people:
        stack.wait_for_messages(account.id, 2)
    wait_for(lambda: not Notification.objects.exclude(status=NotificationStatus.SENT).exists(), message="all sent")
    assert BookingEvent.objects.filter(to_status=BookingStatus.ACTIVE).count() == len(people)
    assert [len(stack.chat_messages(a.id)) for a, _ in people] == [2] * len(people)


def test_approval_request_reaches_admins_with_buttons_and_approval_reaches_user(
    stack, telegram_user, demo_resource, book, staff
):
    account, user = telegram_user("Ivan")
    booking = book(
        user,
        demo_resource(name="Studio", requires_approval=True),
        grid_now() + timedelta(hours=2),
        note="for <the> podcast",
    )
    admin_before = len(stack.chat_messages(stack.admin_group.id))
    request = stack.wait_for_messages(stack.admin_group.id, admin_before + 1)[-1]
    assert "Approval needed" in request.text and "for &lt;the&gt; podcast" not in request.text
    assert "for <the> podcast" in request.text  # escaped on the wire, shown as typed
    assert request.buttons == ["Approve", "Reject"]
    stack.wait_for_messages(account.id, 1)

    bookings_services.booking_approve(booking=booking, by=staff)

    approved = stack.wait_for_messages(account.id, 2)[1]
    assert "Approved" in approved.text and "Cancel booking" in approved.buttons


def test_rejection_reaches_the_user_with_the_reason(stack, telegram_user, demo_resource, book, staff):
    account, user = telegram_user("Judy")
    booking = book(user, demo_resource(requires_approval=True), grid_now() + timedelta(hours=2))
    stack.wait_for_messages(account.id, 1)

    bookings_services.booking_reject(booking=booking, by=staff, reason="Closed for <maintenance>")

    rejected = stack.wait_for_messages(account.id, 2)[1]
    assert "rejected" in rejected.text and "Reason: Closed for <maintenance>" in rejected.text


def test_a_big_sweep_is_queued_in_fan_out_chunks_and_each_chat_still_gets_its_messages_once_in_order(
    stack, telegram_user, demo_resource, book, monkeypatch
):
    start = grid_now() - timedelta(minutes=30)
    alpha, beta = demo_resource(name="Alpha"), demo_resource(name="Beta")
    people = [telegram_user(f"F{i}") for i in range(6)]
    for i, (_, user) in enumerate(people):
        book(user, alpha, start + timedelta(minutes=5 * i))
    twice_account, twice_user = people[0]
    book(twice_user, beta, start)  # one chat owed two "has started" messages by the same sweep
    for account, _ in people:
        stack.wait_for_messages(account.id, 2 if account is twice_account else 1)
    monkeypatch.setattr(queue, "DIRECT_MAX", 2)
    monkeypatch.setattr(queue, "FAN_OUT_CHUNK", 3)
    published, publish_each = [], queue._publish_each

    def recording_publish_each(name, args_list, **options):
        published.append((name, len(args_list)))
        return publish_each(name, args_list, **options)

    monkeypatch.setattr(queue, "_publish_each", recording_publish_each)

    bookings_services.bookings_start_due()  # here, so its commit publishes with the settings above

    assert published == [(queue.FAN_OUT_TASK, 3)], "7 rows go out as 3 fan-out tasks"
    for account, _ in people:
        stack.wait_for_messages(account.id, 4 if account is twice_account else 2)
    wait_for(lambda: not Notification.objects.exclude(status=NotificationStatus.SENT).exists(), message="all sent")
    assert [len(stack.chat_messages(a.id)) for a, _ in people] == [4] + [2] * (len(people) - 1)
    started = Notification.objects.filter(chat_id=twice_account.id, kind="active").order_by("id")
    resources = [row.booking.resource.name for row in started]
    texts = [m.text for m in stack.chat_messages(twice_account.id)[2:]]
    assert [name in text for name, text in zip(resources, texts)] == [True, True], (resources, texts)
