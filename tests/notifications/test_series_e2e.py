"""Series summaries delivered by a real Celery worker to the sandbox: one message per series event, never one
per occurrence, and the "ends soon" notice once, with Extend series."""

import time
from datetime import timedelta

import pytest

from bookings import series
from notifications import outbox
from tests.notifications.conftest import grid_now

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_series_booked_then_cancelled_by_staff_is_two_messages_not_eight(
    stack, telegram_user, demo_resource, make_user
):
    account, alice = telegram_user("Alice")
    room = demo_resource(name="Bench 3")
    start = grid_now() + timedelta(hours=1)
    made = series.series_create(
        user=alice, resource=room, start=start, end=start + timedelta(minutes=30), rrule="FREQ=DAILY;COUNT=4"
    ).series
    booked = stack.wait_for_messages(account.id, 1)[0]
    assert "Series booked: 4 occurrences of Bench 3" in booked.text and booked.text.count("• ") == 4

    series.series_cancel(series=made, by=make_user(is_staff=True), reason="renovation")
    cancelled = stack.wait_for_messages(account.id, 2)[1]
    assert "4 occurrences of your series of Bench 3 are cancelled" in cancelled.text and "renovation" in cancelled.text
    time.sleep(1.5)
    assert len(stack.chat_messages(account.id)) == 2


def test_the_ending_notice_arrives_once_with_extend_series(stack, telegram_user, demo_resource):
    account, alice = telegram_user("Alice")
    room = demo_resource(name="Bench 4")
    start = grid_now() + timedelta(hours=1)
    series.series_create(
        user=alice, resource=room, start=start, end=start + timedelta(minutes=30), rrule="FREQ=WEEKLY;COUNT=3"
    )
    stack.wait_for_messages(account.id, 1)
    inside = start + timedelta(days=14) - timedelta(days=7) + timedelta(minutes=1)
    outbox.notifications_create_series_ending(now=inside)
    outbox.notifications_create_series_ending(now=inside + timedelta(minutes=5))
    notice = stack.wait_for_messages(account.id, 2)[1]
    assert "Your series of Bench 4 ends soon" in notice.text
    assert notice.buttons == ["Extend series"]
    time.sleep(1.5)
    assert len(stack.chat_messages(account.id)) == 2
