"""A task that meets a database outage is retried with backoff, not failed (core.celery.SlotbotTask)."""

import pytest
from django.db import InterfaceError, OperationalError

from bookings import services as booking_services
from bookings import tasks as booking_tasks
from notifications import delivery as notification_delivery
from notifications import tasks as notification_tasks


def _fails_then(monkeypatch, module, name, error, result):
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs)
        if len(calls) < 3:
            raise error("server closed the connection unexpectedly")
        return result

    monkeypatch.setattr(module, name, flaky)
    return calls


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_sweep_is_retried_while_the_database_is_unreachable(monkeypatch, error):
    calls = _fails_then(monkeypatch, booking_services, "bookings_start_due", error, 4)
    outcome = booking_tasks.start_due.apply()
    assert outcome.successful(), outcome.traceback
    assert outcome.result == 4
    assert len(calls) == 3


def test_delivery_is_retried_while_the_database_is_unreachable(monkeypatch):
    calls = _fails_then(monkeypatch, notification_delivery, "notification_deliver", OperationalError, None)
    outcome = notification_tasks.deliver.apply(args=(7,))
    assert outcome.successful(), outcome.traceback
    assert calls == [{"notification_id": 7}] * 3


def test_every_task_retries_database_errors_with_backoff():
    from core.celery import app

    app.loader.import_default_modules()
    ours = {name: task for name, task in app.tasks.items() if name.startswith(("bookings.", "notifications."))}
    assert ours
    for name, task in ours.items():
        assert set(task.autoretry_for) == {OperationalError, InterfaceError}, name
        assert task.retry_backoff and task.max_retries, name
