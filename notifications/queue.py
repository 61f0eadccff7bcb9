"""Putting delivery work on the `notifications` queue, by task name.

By name (core.tasknames), so the outbox services need not import the tasks
module (which imports them). Publishing never raises into the caller: when the broker is
down the row stays pending in the outbox and the periodic requeue task
(notifications.tasks.requeue_undelivered) sends it once the broker is back.

A few rows (one booking's change) get one `deliver` task each, at once. A
big batch (a sweep that moved thousands of bookings, the requeue) is queued
as one `fan_out` task per chunk of ids: committing the sweep then costs a
handful of publishes instead of one per row, and a worker turns each chunk
into its `deliver` tasks over a single broker connection. Delivery itself is
unchanged — one task per row, the claim deciding who sends — so the
exactly-once and per-chat-order rules of notifications.delivery hold as before.

Every task carries its rows' broker priority (notifications.urgency): urgent
rows are published first and at priority 3, informational ones at 6, each in
their own fan-out chunks (beat's sweeps, at 0, go before both).
"""

import logging

from celery import current_app
from django.conf import settings
from kombu.exceptions import KombuError, OperationalError
from redis.exceptions import RedisError

from core import tasknames
from notifications.models import Notification
from notifications.urgency import Urgency, urgency_of

logger = logging.getLogger(__name__)

DELIVER_TASK = tasknames.DELIVER
FAN_OUT_TASK = tasknames.FAN_OUT
DIGEST_TASK = tasknames.DELIVER_ADMIN_DIGEST
PUBLISH_ERRORS = (OperationalError, KombuError, RedisError, OSError)
# Up to DIRECT_MAX rows are queued one task each; more go out in fan-out chunks.
DIRECT_MAX = 20
FAN_OUT_CHUNK = 250


def enqueue_delivery(notification_ids, *, kinds=None):
    """Queue delivery of these rows (directly, or in fan-out chunks), urgent ones first and at
    their broker priority (notifications.urgency); returns how many were queued.

    `kinds` maps each id to its row's kind; rows missing from it are looked up.
    """
    ids = list(notification_ids)
    if not ids:
        return 0
    kinds = dict(kinds or {})
    missing = [pk for pk in ids if pk not in kinds]
    if missing:
        kinds.update(Notification.objects.filter(pk__in=missing).values_list("id", "kind"))
    by_urgency = {}
    for pk in ids:
        by_urgency.setdefault(urgency_of(kinds.get(pk, "")), []).append(pk)
    queued = 0
    for urgency in sorted(by_urgency):
        group = by_urgency[urgency]
        if len(group) <= DIRECT_MAX:
            done = publish_deliveries(group, priority=urgency)
        else:
            chunks = [group[start : start + FAN_OUT_CHUNK] for start in range(0, len(group), FAN_OUT_CHUNK)]
            published = _publish_each(FAN_OUT_TASK, [(chunk, int(urgency)) for chunk in chunks], priority=urgency)
            done = sum(len(chunk) for chunk in chunks[:published])
        queued += done
        if done < len(group):
            break  # the broker is down: the requeue task takes the rest
    return queued


def publish_deliveries(notification_ids, *, priority=Urgency.URGENT):
    """One `deliver` task per row, at `priority`; returns how many were queued."""
    args = [(notification_id,) for notification_id in notification_ids]
    return _publish_each(DELIVER_TASK, args, priority=priority)


def enqueue_admin_digest():
    """Queue the digest task after the gathering window, so a burst becomes one message."""
    return _publish(DIGEST_TASK, (), countdown=settings.ADMIN_DIGEST_SECONDS)


def _publish_each(name, args_list, *, priority=None):
    """One task per entry of `args_list`, over one broker connection; stops at the first failure."""
    if not args_list:
        return 0
    published = 0
    with current_app.producer_or_acquire() as producer:
        for args in args_list:
            if not _publish(name, args, producer=producer, priority=priority):
                break  # the broker is down: the requeue task takes the rest
            published += 1
    return published


def _publish(name, args, *, countdown=None, producer=None, priority=None):
    options = {} if priority is None else {"priority": int(priority)}
    try:
        current_app.send_task(name, args=args, countdown=countdown, producer=producer, **options)
    except PUBLISH_ERRORS as exc:
        logger.warning("could not queue %s (%s); the requeue task will", name, exc)
        return False
    return True
