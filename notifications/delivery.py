"""Delivering the notification outbox: one row to its chat, or the admins' digest, at most once.

Delivering one row (`notification_deliver`) runs in this order, on purpose:
1. read the row, and whether an older message to its chat is still open (one
   query); skip it unless it is pending and due;
2. render the text, and book a slot in the shared rate limiter (may sleep);
3. claim it: UPDATE … SET status='sending' WHERE status='pending' — only one
   worker can win, so a task delivered twice sends nothing twice;
4. one sendMessage call;
5. record the outcome with UPDATE … WHERE status='sending' AND claimed_at=<ours>.
Everything slow or likely to be interrupted (the limiter's sleep, rendering,
queries) happens before the claim; between the claim's commit and the request
leaving there is only building one HTTP request.
"""

import logging
import random
import time
from dataclasses import replace
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from core.ratelimit import buckets_for, get_rate_limiter
from core.services import users_set_reachable
from notifications import queue, texts
from notifications.models import DIGEST_KINDS, Notification, NotificationStatus
from notifications.outbox import alert_undelivered
from notifications.sender import (
    BotBlocked,
    OutcomeUnknown,
    PermanentFailure,
    RetryAfter,
    TemporaryFailure,
    get_sender,
)
from notifications.urgency import URGENT_KINDS, is_urgent

logger = logging.getLogger(__name__)

# A task waits at most this long for its rate-limiter slot; a later slot
# reschedules the task instead of holding a worker process.
MAX_LIMITER_WAIT = 2.0
DIGEST_SIZE = 50
# How soon to look again when an older message to the same chat is still on its way.
ORDER_WAIT = 1.0


def notification_deliver(*, notification_id, now=None):
    """Deliver one outbox row at most once. Returns seconds after which to try again, or None."""
    now = now or timezone.now()
    notification = (
        Notification.objects.select_related("user", "booking__resource", "booking__user")
        .annotate(**_older_open_annotations())
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
    paid = _paid_broadcast(notification)
    if paid:
        message = replace(message, paid_broadcast=True)
    retry_in = _wait_for_slot(bucket_chat_id, is_group, paid=paid)
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


def _older_open(same=None):
    """EXISTS: an older message to the row's chat (and `same`, a Q) is still on its way (retrying, or being sent)."""
    older = Notification.objects.filter(
        chat_id=OuterRef("chat_id"),
        id__lt=OuterRef("pk"),
        status__in=(NotificationStatus.PENDING, NotificationStatus.SENDING),
    )
    return Exists(older if same is None else older.filter(same))


def _older_open_annotations():
    """Read with the row (notification_deliver), so the per-chat order costs no query of its own:
    any older open message, and those an urgent message waits for (older urgent ones, older ones
    about its own booking; a row without a booking matches no booking_id)."""
    return {
        "older_open": _older_open(),
        "older_open_before_urgent": _older_open(Q(kind__in=URGENT_KINDS) | Q(booking_id=OuterRef("booking_id"))),
    }


def _earlier_message_open(notification):
    """Is an older message to the same user still on its way (retrying, or being sent)?

    An urgent message (notifications.urgency) waits only for older urgent ones and for older
    ones about its own booking: it overtakes an informational message about something else
    ("is over, thank you" of another booking), which still arrives, after it. So a chat's
    messages arrive in the order they were written, except that a deadline goes first.
    `notification` carries _older_open_annotations().
    """
    if notification.is_admin_alert:
        return False
    if is_urgent(notification.kind):
        return notification.older_open_before_urgent
    return notification.older_open


def _paid_broadcast(notification):
    """Does this message go out as a paid broadcast (settings.TELEGRAM_PAID_BROADCAST)?"""
    mode = settings.TELEGRAM_PAID_BROADCAST
    return mode == "all" or (mode == "urgent" and is_urgent(notification.kind))


def _due_digest_rows(now):
    return Notification.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        status=NotificationStatus.PENDING,
        kind__in=DIGEST_KINDS,
    ).order_by("id")


def _wait_for_slot(chat_id, is_group, *, paid=False):
    """Book a rate-limiter slot and sleep until it; or return how long until one frees up."""
    buckets = buckets_for(chat_id, is_group=is_group, paid=paid)
    reservation = get_rate_limiter().reserve(buckets, max_wait=MAX_LIMITER_WAIT)
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
        users_set_reachable(user_ids={r.user_id for r in rows if r.user_id}, reachable=False)
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
        alert_undelivered(rows=rows, error=error)


def _close_pending(notification, status, error):
    Notification.objects.filter(pk=notification.pk, status=NotificationStatus.PENDING).update(
        status=status, last_error=error
    )
