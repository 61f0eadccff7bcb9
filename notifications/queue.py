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
"""

import logging

from celery import current_app
from django.conf import settings
from kombu.exceptions import KombuError, OperationalError
from redis.exceptions import RedisError

from core import tasknames

logger = logging.getLogger(__name__)

DELIVER_TASK = tasknames.DELIVER
FAN_OUT_TASK = tasknames.FAN_OUT
DIGEST_TASK = tasknames.DELIVER_ADMIN_DIGEST
PUBLISH_ERRORS = (OperationalError, KombuError, RedisError, OSError)
# Up to DIRECT_MAX rows are queued one task each; more go out in fan-out chunks.
DIRECT_MAX = 20
FAN_OUT_CHUNK = 250


def enqueue_delivery(notification_ids):
    """Queue delivery of these rows (directly, or in fan-out chunks); returns how many were queued."""
    ids = list(notification_ids)
    if len(ids) <= DIRECT_MAX:
        return publish_deliveries(ids)
    chunks = [ids[start : start + FAN_OUT_CHUNK] for start in range(0, len(ids), FAN_OUT_CHUNK)]
    published = _publish_each(FAN_OUT_TASK, [(chunk,) for chunk in chunks])
    return sum(len(chunk) for chunk in chunks[:published])


def publish_deliveries(notification_ids):
    """One `deliver` task per row; returns how many were queued."""
    return _publish_each(DELIVER_TASK, [(notification_id,) for notification_id in notification_ids])


def enqueue_admin_digest():
    """Queue the digest task after the gathering window, so a burst becomes one message."""
    return _publish(DIGEST_TASK, (), countdown=settings.ADMIN_DIGEST_SECONDS)


def _publish_each(name, args_list):
    """One task per entry of `args_list`, over one broker connection; stops at the first failure."""
    if not args_list:
        return 0
    published = 0
    with current_app.producer_or_acquire() as producer:
        for args in args_list:
            if not _publish(name, args, producer=producer):
                break  # the broker is down: the requeue task takes the rest
            published += 1
    return published


def _publish(name, args, *, countdown=None, producer=None):
    try:
        current_app.send_task(name, args=args, countdown=countdown, producer=producer)
    except PUBLISH_ERRORS as exc:
        logger.warning("could not queue %s (%s); the requeue task will", name, exc)
        return False
    return True
