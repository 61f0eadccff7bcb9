"""The Celery app: broker and limits from settings (CELERY_*), queues and routes here.

Each status sweep has its own queue (`active`, `completed`, `expired`, `overdue`), as
operators of the original system expect, and message delivery has
`notifications`; waitlist offers have `waitlist` (so an offer is not stuck behind a
burst of sends); anything unrouted goes to `default`. Beat's schedule is
CELERY_BEAT_SCHEDULE in settings, with the interval SWEEP_INTERVAL_SECONDS.
"""

import os

from celery import Celery, Task
from django.db import InterfaceError, OperationalError
from kombu import Queue

from core import tasknames

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")


class SlotbotTask(Task):
    """Every task's base: a database that is down or out of connections is retried, not failed.

    The sweeps and deliveries are idempotent, so running one again later is
    safe; backoff (2, 4, 8 … 60 s, jittered) keeps a dead database from being
    hammered. After the last retry the outbox's requeue sweep still finds
    undelivered rows.
    """

    autoretry_for = (OperationalError, InterfaceError)
    retry_backoff = 2
    retry_backoff_max = 60
    retry_jitter = True
    max_retries = 12


# Celery's Django fix-up, but a worker child keeps its PostgreSQL pool between tasks (core/celery_django.py).
app = Celery("core", task_cls=SlotbotTask, fixups=["core.celery_django:fixup"])
app.config_from_object("django.conf:settings", namespace="CELERY")

QUEUES = ("default", "active", "completed", "expired", "overdue", "notifications", "waitlist")
app.conf.task_queues = [Queue(name, routing_key=name) for name in QUEUES]
app.conf.task_default_queue = "default"
app.conf.task_default_routing_key = "default"
app.conf.task_routes = {
    tasknames.START_DUE: {"queue": "active"},
    tasknames.COMPLETE_ENDED: {"queue": "completed"},
    tasknames.MARK_OVERDUE: {"queue": "overdue"},
    tasknames.EXPIRE_NO_SHOWS: {"queue": "expired"},
    tasknames.EXPIRE_UNAPPROVED: {"queue": "expired"},
    tasknames.NOTIFICATIONS_PATTERN: {"queue": "notifications"},
    tasknames.WAITLIST_OFFER: {"queue": "waitlist"},
    tasknames.WAITLIST_SWEEP: {"queue": "waitlist"},
}
app.autodiscover_tasks()


@app.on_after_configure.connect
def _create_filesystem_broker_folders(sender, **kwargs):
    """The filesystem transport (embedded default) expects its folders to exist."""
    if str(sender.conf.broker_url).startswith("filesystem"):
        for key in ("data_folder_in", "data_folder_out", "control_folder"):
            os.makedirs(sender.conf.broker_transport_options[key], exist_ok=True)


def check_broker():
    """Health check: can we open a connection to the broker? (core.health CHECKS)"""
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)
