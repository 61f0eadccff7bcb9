"""Urgency: which messages go first, urgent ones overtaking informational ones in a chat, the reminder
lookahead for peaks, the requeue's grace in a backlog, and Telegram's paid broadcast."""

import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import Booking, BookingStatus
from core import ratelimit
from notifications import delivery, lookahead, outbox, recovery, sender
from notifications.models import Notification, NotificationKind, NotificationStatus
from notifications.urgency import Urgency, urgency_of
from tests.notifications.conftest import grid_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def local_delivery(sandbox, settings):
    """notification_deliver against the module's sandbox, with the in-process rate limiter."""
    settings.REDIS_URL = ""
    settings.TELEGRAM_BASE_URL = sandbox.base_url
    ratelimit.get_rate_limiter.cache_clear()
    sender._sender = None
    yield sandbox
    ratelimit.get_rate_limiter.cache_clear()
    sender._sender = None


def _row(user, booking, kind, *, status=NotificationStatus.PENDING, due=None):
    return Notification.objects.create(
        user=user,
        chat_id=user.telegram_chat_id,
        booking=booking,
        kind=kind,
        dedupe_key=f"{booking.pk}:{kind}",
        status=status,
        next_attempt_at=due,
    )


def _booking(user, resource, start, minutes=30, status=BookingStatus.CONFIRMED):
    booking = Booking.objects.create(
        user=user,
        resource=resource,
        start=start,
        end=start + timedelta(minutes=minutes),
        blocked_until=start + timedelta(minutes=minutes),
        status=status,
    )
    Booking.objects.filter(pk=booking.pk).update(created_at=start - timedelta(days=1))  # made well before
    return booking


def test_messages_with_a_deadline_are_urgent_and_the_others_informational():
    for kind in ("reminder_start", "reminder_end", "overdue_reminder", "admin_approval", "waitlist_offer"):
        assert urgency_of(kind) is Urgency.URGENT, kind
    assert urgency_of(NotificationKind.SERIES_ENDING) is Urgency.URGENT
    for kind in ("completed", "confirmed", "pending", "expired", "a_kind_nobody_knows"):
        assert urgency_of(kind) is Urgency.INFORMATIONAL, kind
    assert Urgency.URGENT < Urgency.INFORMATIONAL  # broker priority: lower goes first


def _plan(deadlines, *, now, backlog=0, rate=30.0, window=timedelta(minutes=15), margin=timedelta(seconds=60)):
    return lookahead.reminders_to_write(
        deadlines=deadlines, now=now, window=window, backlog=backlog, rate=rate, margin=margin, slack=timedelta(0)
    )


def test_outside_a_peak_reminders_are_written_at_the_window_as_before():
    now = timezone.now()
    deadlines = [now + timedelta(minutes=14), now + timedelta(minutes=15)] + [now + timedelta(minutes=40)] * 100
    assert _plan(deadlines, now=now) == 2


def test_a_peak_is_written_early_enough_for_its_last_reminder_to_arrive_before_its_deadline():
    now = timezone.now()
    start = now + timedelta(minutes=20)
    deadlines = [start] * 9000  # 300 s at 30/s, plus a 60 s margin: writing must begin at start − 360 s
    five = timedelta(minutes=5)  # the window: without the lookahead none would be written before start − 300 s
    assert _plan(deadlines, now=start - timedelta(seconds=361), window=five) == 0
    assert _plan(deadlines, now=start - timedelta(seconds=360), window=five) == 9000
    # Urgent messages already queued go out first: the same peak starts earlier behind them.
    assert _plan(deadlines, now=start - timedelta(seconds=361), window=five, backlog=30) == 9000


def test_the_reminder_sweep_writes_a_peaks_reminders_before_their_window(settings, make_user, make_resource):
    settings.NOTIFICATION_REMINDER_MINUTES = 1
    settings.NOTIFICATION_LOOKAHEAD_MARGIN_SECONDS = 0
    settings.TELEGRAM_RATE_PER_SECOND = 0.1  # 10 reminders take 125 s at 80 % of this rate
    now = timezone.now()
    start = now + timedelta(seconds=100)  # outside the 60 s window
    for n in range(10):
        user = make_user(telegram_id=9100 + n, telegram_chat_id=9100 + n)
        # Nine start together; the tenth is far off, past the lookahead's horizon.
        _booking(user, make_resource(hours=None, kind="space"), start + timedelta(hours=2 if n == 9 else 0))
    created = outbox.notifications_create_reminders(now=now)
    assert created == 9
    settings.NOTIFICATION_LOOKAHEAD_MAX_MINUTES = 0  # lookahead off: the plain window, nothing yet
    Notification.objects.all().delete()
    assert outbox.notifications_create_reminders(now=now) == 0


def test_an_urgent_message_overtakes_an_older_informational_one_about_another_booking(
    local_delivery, telegram_user, make_resource
):
    account, user = telegram_user("Uma")
    room = make_resource(hours=None, kind="space")
    earlier = _booking(user, room, timezone.now() - timedelta(hours=2), status=BookingStatus.COMPLETED)
    upcoming = _booking(user, room, grid_now() + timedelta(minutes=10))
    # The "is over" of the earlier booking is still on its way (retrying after a 5xx).
    over = _row(user, earlier, NotificationKind.COMPLETED, due=timezone.now() + timedelta(seconds=30))
    reminder = _row(user, upcoming, NotificationKind.REMINDER_START)

    assert delivery.notification_deliver(notification_id=reminder.pk) is None
    assert Notification.objects.get(pk=reminder.pk).status == NotificationStatus.SENT
    assert "starts in" in local_delivery.bot_messages(account.id)[-1].text

    # An informational message still keeps its place behind an older one to its chat.
    later = _booking(user, room, grid_now() + timedelta(hours=3))
    receipt = _row(user, later, NotificationKind.CONFIRMED)
    assert delivery.notification_deliver(notification_id=receipt.pk) == delivery.ORDER_WAIT
    assert Notification.objects.get(pk=over.pk).status == NotificationStatus.PENDING


def test_an_urgent_message_waits_for_an_older_one_about_its_own_booking(local_delivery, telegram_user, make_resource):
    _account, user = telegram_user("Vic")
    booking = _booking(user, make_resource(hours=None), grid_now() + timedelta(minutes=10))
    _row(user, booking, NotificationKind.APPROVED, due=timezone.now() + timedelta(seconds=30))
    reminder = _row(user, booking, NotificationKind.REMINDER_START)

    assert delivery.notification_deliver(notification_id=reminder.pk) == delivery.ORDER_WAIT
    assert Notification.objects.get(pk=reminder.pk).status == NotificationStatus.PENDING


@pytest.mark.parametrize(("mode", "paid_kinds"), [("off", set()), ("urgent", {"reminder_start"})])
def test_paid_broadcast_is_asked_for_only_as_configured(
    mode, paid_kinds, settings, local_delivery, telegram_user, make_resource
):
    settings.TELEGRAM_PAID_BROADCAST = mode
    _account, user = telegram_user(f"Wes {mode}")
    booking = _booking(user, make_resource(hours=None, kind="space"), grid_now() + timedelta(minutes=10))
    after = max((call["id"] for call in local_delivery.calls()), default=0)
    for kind in (NotificationKind.REMINDER_START, NotificationKind.CONFIRMED):
        row = _row(user, booking, kind)
        assert delivery.notification_deliver(notification_id=row.pk) is None
    calls = [c for c in local_delivery.calls(after=after) if c["method"] == "sendMessage"]
    asked = {kind for kind, call in zip(("reminder_start", "confirmed"), calls) if _paid(call)}
    assert asked == paid_kinds


def _paid(call):
    return str((call.get("params") or {}).get("allow_paid_broadcast", "")).lower() in ("true", "1")


def test_the_requeue_waits_out_a_backlog_but_still_finds_a_lost_row(make_user, make_resource):
    now = timezone.now()
    user = make_user(telegram_id=9300, telegram_chat_id=9300)
    room = make_resource(hours=None, kind="space")
    for n in range(90):  # 3 s of Telegram's rate
        booking = _booking(user, room, now - timedelta(days=2, hours=n), minutes=10)
        _row(user, booking, NotificationKind.COMPLETED)
    assert recovery.requeue_grace(now=timezone.now()) == recovery.REQUEUE_GRACE + timedelta(seconds=3)
    Notification.objects.update(created_at=now - timedelta(seconds=16))
    assert recovery.notifications_requeue(now=now)[0] == 0  # their tasks may still be in the broker
    Notification.objects.update(created_at=now - timedelta(seconds=19))
    assert recovery.notifications_requeue(now=now)[0] == 90


def test_a_paid_broadcast_mode_that_does_not_exist_stops_start_up():
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "core.settings",
            "SECRET_KEY": "x",
            "TELEGRAM_PAID_BROADCAST": "always",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "TELEGRAM_PAID_BROADCAST: expected off, urgent or all" in result.stderr
