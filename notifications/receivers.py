"""Signal receivers: booking status changes, suspensions and Celery task failures become outbox rows.

Connected in NotificationsConfig.ready(). `bookings_transitioned` is sent
inside the transaction of the change, so the rows commit or roll back with it.
`booking_rescheduled` (an extension or a move) is sent inside its transaction too.
`booking_receipt_resolved` (the bot's reply to a new booking arrived or not)
skips or releases that booking's held receipt. `access_request_changed` (a new
access request, or its decision) is sent inside its transaction too.
"""

from celery.signals import task_failure

from bookings.signals import (
    access_request_changed,
    booking_receipt_resolved,
    booking_rescheduled,
    bookings_transitioned,
    resource_out_of_service,
    resource_problem_reported,
    series_changed,
    series_receipt_resolved,
    suspension_changed,
)
from notifications import outbox
from notifications.models import NotificationKind


def on_bookings_transitioned(
    sender, *, bookings, from_status, to_status, by=None, reason="", receipt=True, summarised=False, **kwargs
):
    outbox.notifications_for_transition(
        bookings=bookings,
        from_status=from_status,
        to_status=to_status,
        by=by,
        reason=reason,
        receipt=receipt,
        summarised=summarised,
    )


def on_series_changed(sender, *, series, event, bookings, by=None, at, receipt=True, reason="", **kwargs):
    outbox.notifications_for_series(
        series=series, event=event, bookings=bookings, by=by, at=at, receipt=receipt, reason=reason
    )


def on_series_receipt_resolved(sender, *, series, event, shown, **kwargs):
    outbox.notifications_series_receipt_resolve(series=series, event=event, shown=shown)


def on_booking_rescheduled(sender, *, booking, change, from_status, by=None, at=None, **kwargs):
    outbox.notifications_for_reschedule(booking=booking, change=change, from_status=from_status, by=by, at=at)


def on_booking_receipt_resolved(sender, *, booking, shown, **kwargs):
    outbox.notifications_receipt_resolve(booking=booking, shown=shown)


def on_access_request_changed(sender, *, request, from_status, to_status, **kwargs):
    outbox.notifications_for_access_request(request=request, from_status=from_status, to_status=to_status)


def on_resource_out_of_service(sender, *, resource, upcoming, at, **kwargs):
    outbox.notifications_out_of_service(resource=resource, upcoming=upcoming, at=at)


def on_resource_problem_reported(sender, *, resource, user, text, photo, key, **kwargs):
    outbox.notifications_problem_report(resource=resource, user=user, text=text, photo=photo, key=key)


def on_suspension_changed(sender, *, suspension, lifted, by=None, **kwargs):
    outbox.notifications_for_suspension(suspension=suspension, lifted=lifted, by=by)


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
    booking_receipt_resolved.connect(on_booking_receipt_resolved, dispatch_uid="notifications.receipts")
    booking_rescheduled.connect(on_booking_rescheduled, dispatch_uid="notifications.reschedules")
    access_request_changed.connect(on_access_request_changed, dispatch_uid="notifications.access_requests")
    resource_out_of_service.connect(on_resource_out_of_service, dispatch_uid="notifications.out_of_service")
    resource_problem_reported.connect(on_resource_problem_reported, dispatch_uid="notifications.problem_reports")
    suspension_changed.connect(on_suspension_changed, dispatch_uid="notifications.suspensions")
    series_changed.connect(on_series_changed, dispatch_uid="notifications.series")
    series_receipt_resolved.connect(on_series_receipt_resolved, dispatch_uid="notifications.series_receipts")
    task_failure.connect(on_task_failure, dispatch_uid="notifications.task_failure", weak=False)
