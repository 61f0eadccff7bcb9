"""bot.sync: the bot's database work runs on a bounded pool of threads, side by side,
and shutting the pool down leaves no connection open (the threads' connections, and
the connection pool they were handed back to)."""

import asyncio
import threading
import time

import psycopg
import pytest
from django.db import connection

from bot.sync import DatabaseThreads, close_db_threads, db

pytestmark = pytest.mark.django_db(transaction=True)

WAIT_SECONDS = 10


def connections_to_this_database(settle_at=None):
    """Sessions on the test database other than this test's own Django connection. PostgreSQL
    ends a backend a moment after its client hangs up, so with `settle_at` this waits (up to
    WAIT_SECONDS) for that count. It asks over a connection of its own, outside Django's
    pool: borrowing a pooled connection would take one the threads handed back."""
    own = connection.connection.info.backend_pid if connection.connection is not None else 0
    deadline = time.monotonic() + WAIT_SECONDS
    with psycopg.connect(**connection.get_connection_params()) as probe:
        while True:
            count = probe.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> %s",
                [own],
            ).fetchone()[0]
            if settle_at is None or count == settle_at or time.monotonic() > deadline:
                return count
            time.sleep(0.02)


def query_then_meet(barrier):
    """A query (so the thread holds a connection), then wait until `barrier` has every party."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    barrier.wait(WAIT_SECONDS)
    return threading.current_thread().name


def backend_pid_then_meet(barrier):
    """Like query_then_meet, and tell which server session this thread's connection is."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    barrier.wait(WAIT_SECONDS)
    return pid


def sessions_alive(pids, *, wait_for_end=False):
    """Those of the server sessions `pids` still open; with `wait_for_end`, after waiting up to
    WAIT_SECONDS for them to end (PostgreSQL ends a backend a moment after its client hangs up)."""
    deadline = time.monotonic() + WAIT_SECONDS
    with psycopg.connect(**connection.get_connection_params()) as probe:
        while True:
            alive = {row[0] for row in probe.execute("SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", [pids])}
            if not wait_for_end or not alive or time.monotonic() > deadline:
                return alive
            time.sleep(0.02)


async def run_together(threads, parties):
    barrier = threading.Barrier(parties)
    return await asyncio.gather(*(threads.run(query_then_meet, barrier) for _ in range(parties)))


@pytest.mark.postgres
def test_database_work_of_different_updates_runs_at_once():
    threads = DatabaseThreads(4)
    try:
        # With one shared thread the first call would wait at the barrier for ever (BrokenBarrierError).
        names = asyncio.run(run_together(threads, 4))
    finally:
        threads.close()
    assert len(set(names)) == 4


@pytest.mark.postgres
def test_closing_the_pool_closes_every_threads_connection():
    threads = DatabaseThreads(3)
    barrier = threading.Barrier(3)

    async def each_thread_queries():
        return await asyncio.gather(*(threads.run(backend_pid_then_meet, barrier) for _ in range(3)))

    pids = list(set(asyncio.run(each_thread_queries())))
    assert len(pids) == 3 and sessions_alive(pids) == set(pids)  # the check sees open sessions

    threads.close()

    # Only these threads' sessions are counted: other tests' processes may still hold their own.
    assert sessions_alive(pids, wait_for_end=True) == set()


@pytest.mark.postgres
def test_closing_a_pool_whose_threads_never_started_is_harmless():
    threads = DatabaseThreads(5)
    asyncio.run(run_together(threads, 2))

    threads.close()

    assert connections_to_this_database(settle_at=0) == 0


@pytest.mark.postgres
def test_db_starts_a_fresh_pool_after_the_last_one_was_closed(settings):
    settings.BOT_DB_THREADS = 2

    async def two_calls():
        barrier = threading.Barrier(2)
        meet = db(query_then_meet)
        return await asyncio.gather(meet(barrier), meet(barrier))

    for _ in range(2):
        assert len(set(asyncio.run(two_calls()))) == 2
        close_db_threads()
        assert connections_to_this_database(settle_at=0) == 0


def test_an_error_in_the_work_reaches_the_awaiting_handler():
    threads = DatabaseThreads(1)

    def fail():
        raise LookupError("no such resource")

    try:
        with pytest.raises(LookupError, match="no such resource"):
            asyncio.run(threads.run(fail))
    finally:
        threads.close()


def backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def checkouts():
    """How many connections the pool has handed out so far."""
    return connection.pool.get_stats().get("requests_num", 0)


@pytest.mark.postgres
def test_a_busy_thread_keeps_its_connection_without_the_pools_check_between_calls():
    threads = DatabaseThreads(1)
    try:
        first = asyncio.run(threads.run(backend_pid))
        handed_out = asyncio.run(threads.run(checkouts))
        again = [asyncio.run(threads.run(backend_pid)) for _ in range(3)]
        assert asyncio.run(threads.run(checkouts)) == handed_out  # no checkout (and its round trip) per call
    finally:
        threads.close()
    assert again == [first] * 3


@pytest.mark.postgres
def test_a_kept_connection_the_server_ended_is_replaced_before_the_next_call():
    threads = DatabaseThreads(1)
    try:
        first = asyncio.run(threads.run(backend_pid))
        with psycopg.connect(**connection.get_connection_params()) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [first])
        assert sessions_alive([first], wait_for_end=True) == set()
        # A restart or pg_terminate_backend costs nobody an error: the next call gets a checked connection.
        second = asyncio.run(threads.run(backend_pid))
    finally:
        threads.close()
    assert second != first


@pytest.mark.postgres
def test_a_connection_idle_too_long_or_whose_call_failed_goes_back_to_the_pool(monkeypatch):
    from bot import sync

    def failing_query():
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    threads = DatabaseThreads(1)
    try:
        asyncio.run(threads.run(backend_pid))
        before = asyncio.run(threads.run(checkouts))
        with pytest.raises(Exception, match="no_such_table"):
            asyncio.run(threads.run(failing_query))
        asyncio.run(threads.run(backend_pid))
        after_error = asyncio.run(threads.run(checkouts))
        monkeypatch.setattr(sync, "KEEP_CONNECTION_SECONDS", 0.0)
        asyncio.run(threads.run(backend_pid))
        after_idle = asyncio.run(threads.run(checkouts))
    finally:
        threads.close()
    assert after_error == before + 1  # the failed call's connection was handed back and checked out anew
    assert after_idle == after_error + 1


@pytest.mark.postgres
def test_threads_hand_connections_back_after_each_call_when_the_pool_is_smaller_than_they_are(settings):
    threads = DatabaseThreads(settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"] + 1)
    try:
        handed_out = asyncio.run(threads.run(checkouts))
        asyncio.run(threads.run(backend_pid))
        asyncio.run(threads.run(backend_pid))
        assert asyncio.run(threads.run(checkouts)) >= handed_out + 2
    finally:
        threads.close()
