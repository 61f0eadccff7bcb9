"""Writes of the notification outbox: create rows, deliver them exactly once, recover.

Creating: rows are inserted in the caller's transaction (the booking change
they report), with ON CONFLICT DO NOTHING on `dedupe_key`, and queued for
delivery on commit: one task per row, or for a big batch one fan-out task per
chunk of rows (notifications.queue) that a worker turns into per-row tasks.

Delivering one row (`notification_deliver`) runs in this order, on purpose:
1. read the row; skip it unless it is pending and due;
2. render the text, and book a slot in the shared rate limiter (may sleep);
3. claim it: UPDATE … SET status='sending' WHERE status='pending' — only one
   worker can win, so a task delivered twice sends nothing twice;
4. one sendMessage call;
5. record the outcome with UPDATE … WHERE status='sending' AND claimed_at=<ours>.
Everything slow or likely to be interrupted (the limiter's sleep, rendering,
queries) happens before the claim; between the claim's commit and the request
leaving there is only building one HTTP request.

Recovering (`notifications_requeue`): a pending row whose task was lost
(broker down, worker killed before the claim) is queued again. A row still
'sending' after its lease belongs to a worker that died between steps 3 and 5:
Telegram may or may not have shown that message and cannot be asked, so it
is NOT resent — it becomes 'uncertain' and the admins are told. See README,
"Notifications and delivery guarantees".
"""

import logging
import random
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from bookings.models import Booking, BookingStatus, ResourceKind
from core.models import User
from core.ratelimit import buckets_for, get_rate_limiter
from notifications import queue, texts
from notifications.models import DIGEST_KINDS, Notification, NotificationKind, NotificationStatus
from notifications.sender import (
    BotBlocked,
    OutcomeUnknown,
    PermanentFailure,
    RetryAfter,
    TemporaryFailure,
    get_sender,
)

logger = logging.getLogger(__name__)

# A task waits at most this long for its rate-limiter slot; a later slot
# reschedules the task instead of holding a worker process.
MAX_LIMITER_WAIT = 2.0
DIGEST_SIZE = 50
# How soon to look again when an older message to the same chat is still on its way.
ORDER_WAIT = 1.0
REQUEUE_BATCH = 10_000
# Fresh rows are queued on commit; the requeue task leaves them this long first.
REQUEUE_GRACE = timedelta(seconds=15)

# (from_status, to_status) → kind of the message to the booking's user ("" = created).
_USER_KINDS = {
    ("", BookingStatus.CONFIRMED): NotificationKind.CONFIRMED,
    ("", BookingStatus.PENDING): NotificationKind.PENDING,
    (BookingStatus.PENDING, BookingStatus.CONFIRMED): NotificationKind.APPROVED,
    (BookingStatus.PENDING, BookingStatus.REJECTED): NotificationKind.REJECTED,
    (BookingStatus.PENDING, BookingStatus.EXPIRED): NotificationKind.NOT_APPROVED,
    (BookingStatus.PENDING, BookingStatus.CANCELLED): NotificationKind.CANCELLED,
    (BookingStatus.CONFIRMED, BookingStatus.CANCELLED): NotificationKind.CANCELLED,
    (BookingStatus.CONFIRMED, BookingStatus.ACTIVE): NotificationKind.ACTIVE,
    (BookingStatus.CONFIRMED, BookingStatus.EXPIRED): NotificationKind.EXPIRED,
    (BookingStatus.ACTIVE, BookingStatus.COMPLETED): NotificationKind.COMPLETED,
}
_ADMIN_KINDS = {
    ("", BookingStatus.PENDING): NotificationKind.ADMIN_APPROVAL,
    (BookingStatus.CONFIRMED, BookingStatus.EXPIRED): NotificationKind.ADMIN_NO_SHOW,
}


def dedupe_key(booking_id, kind):
    """Statuses never repeat for a booking, so (booking, kind) names one message."""
    return f"{booking_id}:{kind}"


def user_chat_id(user):
    """The user's private chat with the bot (in Telegram it equals their user id)."""
    return user.telegram_chat_id or user.telegram_id


# --- Creating rows -------------------------------------------------------------------


def notifications_for_transition(*, bookings, from_status, to_status, by=None, reason="", receipt=True):
    """Outbox rows for a status change, in the caller's transaction; delivery queued on commit."""
    key = (from_status, to_status)
    rows = []
    user_kind = _USER_KINDS.get(key)
    if user_kind:
        payload = (
            {"reason": reason} if reason and to_status in (BookingStatus.REJECTED, BookingStatus.CANCELLED) else {}
        )
        rows += [
            _user_row(b, user_kind, payload)
            for b in bookings
            if user_chat_id(b.user) and not _answered_where_made(b, from_status, by, receipt)
        ]
    admin_kind = _ADMIN_KINDS.get(key)
    if admin_kind and settings.TELEGRAM_ADMIN_CHAT_ID:
        rows += [_admin_row(admin_kind, dedupe_key(b.pk, admin_kind), booking=b) for b in bookings]
    _insert(rows)


def _answered_where_made(booking, from_status, by, receipt):
    """The owner cancelled, checked in or returned early, or booked in the bot:
    the bot or the API already answered them where they acted, so a chat
    message would repeat it. A booking made elsewhere (the API) still gets its
    receipt, with its buttons, in the chat."""
    if not from_status:
        return not receipt
    return by is not None and by.pk == booking.user_id


def notifications_create_reminders(*, now=None):
    """Reminder rows for bookings starting (or, for equipment, ending) within the reminder window.

    Set-based: one query per kind over the partial indexes of live bookings,
    one INSERT … ON CONFLICT DO NOTHING. Bookings made inside the window get
    no reminder (their confirmation just said it all).
    """
    now = now or timezone.now()
    window = timedelta(minutes=settings.NOTIFICATION_REMINDER_MINUTES)
    starting = Booking.objects.filter(
        status=BookingStatus.CONFIRMED, start__gt=now, start__lte=now + window, created_at__lt=F("start") - window
    )
    ending = Booking.objects.filter(
        status=BookingStatus.ACTIVE,
        end__gt=now,
        end__lte=now + window,
        resource__kind=ResourceKind.EQUIPMENT,
        start__lt=F("end") - window,
    )
    rows = []
    for due, kind in ((starting, NotificationKind.REMINDER_START), (ending, NotificationKind.REMINDER_END)):
        due = due.exclude(notifications__kind=kind).select_related("user")
        rows += [_user_row(b, kind, {}) for b in due if user_chat_id(b.user)]
    return _insert(rows)


def admin_alert(*, kind, key, payload):
    """An admin-group alert (gathered into a digest); no-op without TELEGRAM_ADMIN_CHAT_ID."""
    if settings.TELEGRAM_ADMIN_CHAT_ID:
        _insert([_admin_row(kind, key, payload=payload)])


def _user_row(booking, kind, payload):
    return Notification(
        user=booking.user,
        chat_id=user_chat_id(booking.user),
        booking=booking,
        kind=kind,
        dedupe_key=dedupe_key(booking.pk, kind),
        payload=payload,
    )


def _admin_row(kind, key, *, booking=None, payload=None):
    return Notification(
        user=None,
        chat_id=settings.TELEGRAM_ADMIN_CHAT_ID,
        booking=booking,
        kind=kind,
        dedupe_key=f"admin:{key}",
        payload=payload or {},
    )


def _insert(rows):
    """Insert, skipping keys that exist; queue the new rows once the transaction commits."""
    if not rows:
        return 0
    with transaction.atomic():
        Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        created = list(
            Notification.objects.filter(
                dedupe_key__in=[r.dedupe_key for r in rows],
                status=NotificationStatus.PENDING,
                attempts=0,
                claimed_at__isnull=True,
            ).values_list("id", "kind")
        )
    direct = [pk for pk, kind in created if kind not in DIGEST_KINDS]
    digest = len(direct) < len(created)
    transaction.on_commit(lambda: _enqueue(direct, digest))
    return len(created)


def _enqueue(ids, digest):
    queue.enqueue_delivery(ids)
    if digest:
        queue.enqueue_admin_digest()


# --- Delivering one row --------------------------------------------------------------------


def notification_deliver(*, notification_id, now=None):
    """Deliver one outbox row at most once. Returns seconds after which to try again, or None."""
    now = now or timezone.now()
    notification = (
        Notification.objects.select_related("user", "booking__resource", "booking__user")
        .filter(pk=notification_id, status=NotificationStatus.PENDING)
        .first()
    )
    if notification is None:
        return None  # delivered, given up, or being sent by another worker
    if notification.kind in DIGEST_KINDS:
        queue.enqueue_admin_digest()
        return None
    if notification.next_attempt_at and notification.next_attempt_at > now:
        return (notification.next_attempt_at - now).total_seconds()
    if notification.user and not notification.user.is_reachable:
        _close_pending(notification, NotificationStatus.FAILED, "the user blocked the bot")
        return None
    message = texts.render(notification, now=now)
    if message is None:
        _close_pending(notification, NotificationStatus.SKIPPED, "no longer relevant when its turn came")
        return None
    bucket_chat_id, is_group = notification.chat_id, notification.is_admin_alert
    if _earlier_message_open(notification):
        return ORDER_WAIT  # messages to one chat arrive in the order they were written
    retry_in = _wait_for_slot(bucket_chat_id, is_group)
    if retry_in:
        return retry_in
    get_sender()  # created before the claim: nothing slow may sit between claim and request
    claim = _claim([notification.pk])
    if not claim:
        return None
    notification.attempts += 1
    return _send_claimed([notification], claim, message, is_group=is_group)


def admin_digest_deliver(*, now=None):
    """Send every pending digest alert as one admin-group message. Returns retry seconds or None."""
    now = now or timezone.now()
    due = _due_digest_rows(now)
    if not due.exists():
        return None
    retry_in = _wait_for_slot(settings.TELEGRAM_ADMIN_CHAT_ID, True)
    if retry_in:
        return retry_in
    get_sender()  # created before the claim, as in notification_deliver
    with transaction.atomic():
        ids = list(due.select_for_update(skip_locked=True).values_list("id", flat=True)[:DIGEST_SIZE])
        claim = _claim(ids)
    if not claim:
        return None
    rows = list(
        Notification.objects.select_related("booking__resource", "booking__user")
        .filter(pk__in=ids, status=NotificationStatus.SENDING, claimed_at=claim)
        .order_by("id")
    )
    message = texts.Message(chat_id=settings.TELEGRAM_ADMIN_CHAT_ID, text=texts.render_digest(rows))
    retry_in = _send_claimed(rows, claim, message, is_group=True)
    if retry_in is None and due.exists():
        return settings.ADMIN_DIGEST_SECONDS  # more than one digest's worth: send the rest next
    return retry_in


def _earlier_message_open(notification):
    """Is an older message to the same user still on its way (retrying, or being sent)?"""
    if notification.is_admin_alert:
        return False
    return Notification.objects.filter(
        chat_id=notification.chat_id,
        id__lt=notification.pk,
        status__in=(NotificationStatus.PENDING, NotificationStatus.SENDING),
    ).exists()


def _due_digest_rows(now):
    return Notification.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        status=NotificationStatus.PENDING,
        kind__in=DIGEST_KINDS,
    ).order_by("id")


def _wait_for_slot(chat_id, is_group):
    """Book a rate-limiter slot and sleep until it; or return how long until one frees up."""
    reservation = get_rate_limiter().reserve(buckets_for(chat_id, is_group=is_group), max_wait=MAX_LIMITER_WAIT)
    if not reservation.booked:
        return max(reservation.wait, 0.1)
    if reservation.wait:
        time.sleep(reservation.wait)
    return None


def _claim(ids):
    """pending → sending for `ids`; returns the claim stamp if any row was won, else None."""
    claim = timezone.now()
    won = Notification.objects.filter(pk__in=ids, status=NotificationStatus.PENDING).update(
        status=NotificationStatus.SENDING, claimed_at=claim, attempts=F("attempts") + 1
    )
    return claim if won else None


def _send_claimed(rows, claim, message, *, is_group):
    """Steps 4–5: the one sendMessage call and its recorded outcome."""
    ours = Notification.objects.filter(pk__in=[r.pk for r in rows], status=NotificationStatus.SENDING, claimed_at=claim)
    try:
        message_id = get_sender().send_message(message)
    except RetryAfter as exc:
        get_rate_limiter().penalise(buckets_for(message.chat_id, is_group=is_group)[1], exc.retry_after)
        # A 429 is Telegram pacing us, not a failed attempt: it does not count.
        _release(ours, exc.retry_after, exc.description, attempts=F("attempts") - 1)
        return exc.retry_after
    except TemporaryFailure as exc:
        attempts = rows[0].attempts  # counted at the claim
        if attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
            _give_up(ours, rows, NotificationStatus.FAILED, f"gave up after {attempts} attempts: {exc.description}")
            return None
        delay = min(2 ** (attempts - 1), 60) + random.uniform(0, 1)  # noqa: S311 (jitter, not crypto)
        _release(ours, delay, exc.description)
        return delay
    except BotBlocked as exc:
        _give_up(ours, rows, NotificationStatus.FAILED, exc.description, alert=False)
        User.objects.filter(pk__in={r.user_id for r in rows if r.user_id}).update(is_reachable=False)
        return None
    except OutcomeUnknown as exc:
        _give_up(ours, rows, NotificationStatus.UNCERTAIN, f"{exc.description}; not resent to avoid a duplicate")
        return None
    except PermanentFailure as exc:
        _give_up(ours, rows, NotificationStatus.FAILED, exc.description)
        return None
    ours.update(status=NotificationStatus.SENT, telegram_message_id=message_id, sent_at=timezone.now(), last_error="")
    return None


def _release(ours, delay, error, **extra):
    ours.update(
        status=NotificationStatus.PENDING,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        last_error=error[:2000],
        **extra,
    )


def _give_up(ours, rows, status, error, *, alert=True):
    ours.update(status=status, last_error=error[:2000])
    logger.warning("notification(s) %s %s: %s", [r.pk for r in rows], status, error)
    if alert:
        _alert_undelivered(rows, error)


def _close_pending(notification, status, error):
    Notification.objects.filter(pk=notification.pk, status=NotificationStatus.PENDING).update(
        status=status, last_error=error
    )


def _alert_undelivered(rows, error):
    """Tell the admins about user messages that did not arrive (never about admin alerts: no loops)."""
    for row in rows:
        if row.is_admin_alert:
            continue
        admin_alert(
            kind=NotificationKind.ADMIN_DELIVERY_FAILED,
            key=f"failed:{row.pk}",
            payload={"kind": row.kind, "booking_id": row.booking_id, "error": error},
        )


# --- Recovering ----------------------------------------------------------------------


def notifications_requeue(*, now=None, lease=None, grace=REQUEUE_GRACE):
    """Queue pending rows whose task was lost; settle rows left 'sending' past their lease.

    Returns (queued, uncertain). Safe to run any time, any number of times:
    queuing a row twice sends it once (the claim decides).
    """
    now = now or timezone.now()
    lease = lease if lease is not None else timedelta(seconds=settings.NOTIFICATION_LEASE_SECONDS)
    uncertain = _settle_abandoned(now - lease)
    due = Notification.objects.filter(
        Q(next_attempt_at__isnull=True, created_at__lte=now - grace) | Q(next_attempt_at__lte=now),
        status=NotificationStatus.PENDING,
    )
    rows = list(due.order_by("id").values_list("id", "kind")[:REQUEUE_BATCH])
    direct = [pk for pk, kind in rows if kind not in DIGEST_KINDS]
    queued = queue.enqueue_delivery(direct)
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
        _alert_undelivered(abandoned, error)
    return len(abandoned)


def notifications_retry(*, notifications):
    """Admin action: put failed/uncertain rows back to pending and queue them."""
    ids = [n.pk for n in notifications]
    changed = Notification.objects.filter(
        pk__in=ids, status__in=(NotificationStatus.FAILED, NotificationStatus.UNCERTAIN, NotificationStatus.SKIPPED)
    ).update(status=NotificationStatus.PENDING, next_attempt_at=None, attempts=0, claimed_at=None)
    queue.enqueue_delivery(ids)
    return changed
