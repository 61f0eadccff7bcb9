"""A worker child keeps its PostgreSQL connection pool between tasks (core/celery_django.py).

Celery's own Django fix-up closed the pool at every task boundary, so each
delivery opened a new connection. Counted in PostgreSQL's own statistics
(pg_stat_database.sessions) with a real worker process.
"""

import time

import psycopg
import pytest
from django.db import connection

from notifications.models import Notification, NotificationStatus
from tests.notifications.harness import wait_for
from tests.notifications.test_faults_e2e import assert_each_chat_got, people_with_due_bookings, wait_until_settled

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def sessions_opened(stats, database):
    """Connections ever opened to `database`, as the server counts them (fresh, not the snapshot)."""
    stats.execute("SELECT pg_stat_clear_snapshot()")
    return stats.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s", [database]).fetchone()[0]


def test_deliveries_reuse_the_worker_childrens_connections(stack, telegram_user, demo_resource, book):
    accounts = people_with_due_bookings(telegram_user, demo_resource, book, 12)
    for account in accounts:  # the receipts: every child has run tasks, so has its pool
        stack.wait_for_messages(account.id, 1)
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432, user=settings["USER"], dbname="postgres"
    ) as stats:
        stats.autocommit = True
        before = sessions_opened(stats, settings["NAME"])

        stack.send_task("bookings.tasks.start_due")  # 1 sweep task, then 12 deliver tasks
        for account in accounts:
            stack.wait_for_messages(account.id, 2)
        wait_for(lambda: not Notification.objects.filter(status=NotificationStatus.SENDING).exists())
        time.sleep(1.5)  # a backend reports its session counts within a second of going idle
        opened = sessions_opened(stats, settings["NAME"]) - before

    # One connection per task was 13 or more; a child's pool opens at most a couple.
    assert opened <= 2 * stack.worker.concurrency, f"{opened} connections opened for 13 tasks"


def test_connections_the_server_cut_are_replaced_and_nothing_is_lost_or_sent_twice(
    stack, telegram_user, demo_resource, book
):
    accounts = people_with_due_bookings(telegram_user, demo_resource, book, 8)
    for account in accounts:  # the receipts: the children have run tasks, and their pools hold connections
        stack.wait_for_messages(account.id, 1)
    wait_until_settled(stack)
    # The server hangs up on every connection but this test's own (a restart, a failover, an idle timeout)
    # while they sit idle in the children's pools. psycopg's pool notices a connection closed under it
    # and opens another; a task that still met a dead one would be retried (core.celery.SlotbotTask).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        cut = cursor.fetchone()[0]
    assert cut >= stack.worker.concurrency  # at least one kept by each child

    stack.send_task("bookings.tasks.start_due")
    for account in accounts:
        stack.wait_for_messages(account.id, 2)
    wait_until_settled(stack)

    assert_each_chat_got(stack, accounts, ["Booked", "has started"])
    assert set(Notification.objects.values_list("status", flat=True)) == {NotificationStatus.SENT}
