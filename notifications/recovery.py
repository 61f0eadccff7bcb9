"""Recovering the notification outbox: requeue lost rows, settle abandoned ones, the admins' retry.

A pending row whose task was lost (broker down, worker killed before the
claim) is queued again. A row still 'sending' after its lease belongs to a
worker that died between the claim and recording the outcome (see
notifications.delivery): Telegram may or may not have shown that message and
cannot be asked, so it is NOT resent — it becomes 'uncertain' and the admins
are told. See README, "Notifications and delivery guarantees".
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from notifications import queue
from notifications.models import DIGEST_KINDS, Notification, NotificationStatus
from notifications.outbox import alert_undelivered

REQUEUE_BATCH = 10_000
# Fresh rows are queued on commit; the requeue task leaves them this long first.
REQUEUE_GRACE = timedelta(seconds=15)


def requeue_grace(*, now):
    """REQUEUE_GRACE plus the time Telegram's rate needs for the messages waiting now.

    In a peak (6,000 messages due at once take 200 s at 30/s) a row's task can sit in the
    broker far longer than 15 s without being lost; queuing every such row again each
    requeue would only add thousands of duplicate tasks (harmless — the claim decides — but
    each costs a worker a query). A task that was really lost is queued once the backlog
    ahead of it would have drained.
    """
    waiting = Notification.objects.filter(
        status=NotificationStatus.PENDING, next_attempt_at__isnull=True, created_at__lte=now
    ).count()
    return REQUEUE_GRACE + timedelta(seconds=waiting / settings.TELEGRAM_RATE_PER_SECOND)


def notifications_requeue(*, now=None, lease=None, grace=None):
    """Queue pending rows whose task was lost; settle rows left 'sending' past their lease.

    Returns (queued, uncertain). Safe to run any time, any number of times:
    queuing a row twice sends it once (the claim decides). `grace`: how old an unsent
    row must be to count as lost (default: requeue_grace, which grows with the backlog).
    """
    now = now or timezone.now()
    lease = lease if lease is not None else timedelta(seconds=settings.NOTIFICATION_LEASE_SECONDS)
    grace = grace if grace is not None else requeue_grace(now=now)
    uncertain = _settle_abandoned(now - lease)
    due = Notification.objects.filter(
        Q(next_attempt_at__isnull=True, created_at__lte=now - grace) | Q(next_attempt_at__lte=now),
        status=NotificationStatus.PENDING,
    )
    rows = list(due.order_by("id").values_list("id", "kind")[:REQUEUE_BATCH])
    direct = {pk: kind for pk, kind in rows if kind not in DIGEST_KINDS}
    queued = queue.enqueue_delivery(list(direct), kinds=direct)
    if len(direct) < len(rows) or uncertain:
        queue.enqueue_admin_digest()
    return queued, uncertain


def _settle_abandoned(claimed_before):
    """Rows a dead worker left in 'sending': maybe shown in the chat, so never resent."""
    with transaction.atomic():
        abandoned = list(
            Notification.objects.select_for_update(skip_locked=True).filter(
                status=NotificationStatus.SENDING, claimed_at__lt=claimed_before
            )
        )
        if not abandoned:
            return 0
        error = "the worker stopped while sending: the message may have arrived; not resent to avoid a duplicate"
        Notification.objects.filter(pk__in=[r.pk for r in abandoned], status=NotificationStatus.SENDING).update(
            status=NotificationStatus.UNCERTAIN, last_error=error
        )
        alert_undelivered(rows=abandoned, error=error)
    return len(abandoned)


def notifications_retry(*, notifications):
    """Admin action: put failed/uncertain rows back to pending and queue them."""
    ids = [n.pk for n in notifications]
    changed = Notification.objects.filter(
        pk__in=ids, status__in=(NotificationStatus.FAILED, NotificationStatus.UNCERTAIN, NotificationStatus.SKIPPED)
    ).update(status=NotificationStatus.PENDING, next_attempt_at=None, attempts=0, claimed_at=None)
    queue.enqueue_delivery(ids)
    return changed
