"""Lookahead for reminders: in a peak, write them early enough that each arrives before its deadline.

A start reminder is written NOTIFICATION_REMINDER_MINUTES before the start and
is useless after it (it is skipped when its turn comes too late). When 3,000
bookings start at 09:00, their 3,000 reminders take 100 s at Telegram's 30/s;
with a short window, or more bookings, or other urgent messages queued, the
last of them would arrive after the start. So the reminder sweep plans:
urgent messages go out first and in the order they were written
(notifications.urgency), so with `backlog` urgent messages already waiting,
the j-th reminder (by deadline) of those not yet written is sent about
(backlog + j) / rate seconds after writing begins. Sending must begin by
deadline_j − margin − (backlog + j) / rate; if that moment is before the next
sweep, the first j reminders are written now. Outside a peak this is never
earlier than the window, and the result is exactly the plain reminder window.

The plan uses a share of Telegram's rate (NOTIFICATION_LOOKAHEAD_RATE_SHARE),
leaving the rest to the bot's own replies, which draw on the same budget.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from notifications.models import Notification, NotificationStatus
from notifications.urgency import URGENT_KINDS

# Never more candidates than this are read per sweep (at 30/s, over an hour's worth).
MAX_CANDIDATES = 200_000


def reminders_to_write(
    *,
    deadlines: Sequence[datetime],
    now: datetime,
    window: timedelta,
    backlog: int,
    rate: float,
    margin: timedelta,
    slack: timedelta,
) -> int:
    """How many of the candidates (their deadlines, ascending) need their reminder written now.

    At least those inside the reminder window; more when sending them at `rate` behind
    `backlog` urgent messages must begin before the next sweep (`slack` from now) for the
    last of them to arrive `margin` before its deadline.
    """
    count = 0
    for j, deadline in enumerate(deadlines, start=1):
        in_window = deadline <= now + window
        latest_start = deadline - margin - timedelta(seconds=(backlog + j) / rate)
        if in_window or latest_start <= now + slack:
            count = j
    return count


def urgent_backlog(*, now: datetime | None = None) -> int:
    """Urgent messages due and not yet sent: they go out before any reminder written now."""
    now = now or timezone.now()
    return Notification.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        status__in=(NotificationStatus.PENDING, NotificationStatus.SENDING),
        kind__in=URGENT_KINDS,
    ).count()


def plan(*, candidates, deadline_field: str, now: datetime, window: timedelta, backlog: list[int]):
    """The candidates (a queryset) whose reminders are written now, by deadline then id.

    `backlog` is a one-element list shared by the calls of one sweep: empty until the urgent
    backlog is first needed (an idle sweep never counts it), then grown by what each call writes.
    """
    ordered = candidates.order_by(deadline_field, "pk")
    deadlines = list(ordered.values_list(deadline_field, flat=True)[:MAX_CANDIDATES])
    if not deadlines:
        return []
    if not backlog:
        backlog.append(urgent_backlog(now=now))
    count = reminders_to_write(
        deadlines=deadlines,
        now=now,
        window=window,
        backlog=backlog[0],
        rate=settings.TELEGRAM_RATE_PER_SECOND * settings.NOTIFICATION_LOOKAHEAD_RATE_SHARE,
        margin=timedelta(seconds=settings.NOTIFICATION_LOOKAHEAD_MARGIN_SECONDS),
        slack=timedelta(seconds=settings.SWEEP_INTERVAL_SECONDS * 2 + 2),
    )
    backlog[0] += count
    return list(ordered[:count]) if count else []


def horizon(window: timedelta) -> timedelta:
    """How far ahead the reminder sweep looks for candidates."""
    return window + timedelta(minutes=settings.NOTIFICATION_LOOKAHEAD_MAX_MINUTES)
