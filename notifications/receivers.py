"""Signal receivers: booking status changes and Celery task failures become outbox rows.

Connected in NotificationsConfig.ready(). `bookings_transitioned` is sent
inside the transaction of the change, so the rows commit or roll back with it.
"""

from celery.signals import task_failure

from bookings.signals import bookings_transitioned
from notifications import outbox
from notifications.models import NotificationKind


def on_bookings_transitioned(sender, *, bookings, from_status, to_status, by=None, reason="", receipt=True, **kwargs):
    outbox.notifications_for_transition(
        bookings=bookings, from_status=from_status, to_status=to_status, by=by, reason=reason, receipt=receipt
    )


def on_task_failure(sender=None, task_id=None, exception=None, **kwargs):
    """Tell the admin group that a task crashed (the delivery tasks' own crashes too, digested)."""
    task_name = getattr(sender, "name", str(sender))
    outbox.admin_alert(
        kind=NotificationKind.ADMIN_TASK_FAILED,
        key=f"task:{task_id}",
        payload={"task": task_name, "error": exception.__class__.__name__},
    )


def connect():
    bookings_transitioned.connect(on_bookings_transitioned, dispatch_uid="notifications.transitions")
    task_failure.connect(on_task_failure, dispatch_uid="notifications.task_failure", weak=False)
