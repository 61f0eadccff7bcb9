"""Celery tasks of the notifications queue: thin wrappers over the outbox services
(notifications.outbox, .delivery, .recovery).

fan_out turns a chunk of row ids (a big batch queued by one publish, see
notifications.queue) into one deliver task per row, at the chunk's priority.
fan_out, deliver and deliver_admin_digest are idempotent (the claim decides who
sends), so they use acks_late with reject_on_worker_lost: a task lost with its
worker is delivered again and sends nothing twice. A row that must wait (429,
backoff, rate-limiter slot) is re-queued with a countdown; the row's
next_attempt_at also lets requeue_undelivered find it if that message is lost.
"""

from celery import shared_task

from core import tasknames
from notifications import delivery, outbox, queue, recovery

IDEMPOTENT = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(name=tasknames.DELIVER, bind=True, **IDEMPOTENT)
def deliver(self, notification_id):
    retry_in = delivery.notification_deliver(notification_id=notification_id)
    if retry_in is not None:
        # Again at the priority it came with (notifications.urgency).
        priority = (self.request.delivery_info or {}).get("priority")
        options = {} if priority is None else {"priority": priority}
        self.apply_async((notification_id,), countdown=retry_in, **options)


@shared_task(name=tasknames.FAN_OUT, **IDEMPOTENT)
def fan_out(notification_ids, priority=None):
    if priority is None:  # a chunk queued before priorities: its rows' kinds decide
        queue.enqueue_delivery(notification_ids)
    else:
        queue.publish_deliveries(notification_ids, priority=priority)


@shared_task(name=tasknames.DELIVER_ADMIN_DIGEST, bind=True, **IDEMPOTENT)
def deliver_admin_digest(self):
    retry_in = delivery.admin_digest_deliver()
    if retry_in is not None:
        self.apply_async(countdown=retry_in)


@shared_task(name=tasknames.CREATE_REMINDERS, **IDEMPOTENT)
def create_reminders():
    return outbox.notifications_create_reminders()


@shared_task(name=tasknames.CREATE_OVERDUE_REMINDERS, **IDEMPOTENT)
def create_overdue_reminders():
    return outbox.notifications_create_overdue_reminders()


@shared_task(name=tasknames.CREATE_SERIES_ENDING, **IDEMPOTENT)
def create_series_ending():
    return outbox.notifications_create_series_ending()


@shared_task(name=tasknames.REQUEUE_UNDELIVERED, **IDEMPOTENT)
def requeue_undelivered():
    queued, uncertain = recovery.notifications_requeue()
    return {"queued": queued, "uncertain": uncertain}
