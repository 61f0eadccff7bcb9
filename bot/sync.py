"""The one door from the bot's event loop to the ORM.

Handlers run on asyncio; Django's ORM is synchronous. Every database call
goes through `db(...)`, which runs it on one of BOT_DB_THREADS threads of
this process, so the event loop never blocks and different updates' database
work runs side by side (asgiref's single sync thread would queue every
user's work behind everyone else's). Each thread keeps its own Django
connection: stale or broken ones are dropped around every call (the bot is a
long-running process with no request cycle to do it), and
`close_db_threads()` closes them all when the Application shuts down, so no
connection outlives the bot. When the pool has a connection for every thread,
a thread keeps its pooled connection from one call to the next while it is
busy (the pool's check, a round trip per checkout, was a sixth of an update's
database time): one idle for KEEP_CONNECTION_SECONDS, one whose call raised a
database error, or one the server has hung up on goes back to the pool, which
checks it before anyone uses it again. On PostgreSQL "closing" a connection hands it
back to the process's pool (core/database.py), so shutting down closes the
pool as well. A database that is gone costs a call seconds (the pool's and
the connection's timeouts), never a thread: the caller gets OperationalError.
"""

import asyncio
import contextvars
import functools
import logging
import select
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)

# How long shutdown waits for a thread still busy with a query before leaving its connection.
CLOSE_TIMEOUT_SECONDS = 30
# A thread's pooled connection unused for this long goes back to the pool (and its check) before the next call.
KEEP_CONNECTION_SECONDS = 10.0


class DatabaseThreads:
    """A bounded pool of threads for ORM work, each holding at most one connection per database."""

    def __init__(self, size):
        self.size = size
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="slotbot-db")
        # Keeping a connection between calls is safe only if no thread can starve waiting for the pool.
        self._keep = _pool_serves_every_thread(size)

    async def run(self, function, *args, **kwargs):
        """function(*args, **kwargs) on a pool thread, in the caller's context."""
        # Copy the context as asgiref does, so Sentry's scope and the like follow the call.
        around = _with_kept_connection if self._keep else _with_fresh_connection
        call = functools.partial(contextvars.copy_context().run, around, function, args, kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def close(self):
        """Finish the work in hand, close every thread's connections, stop the threads (blocking)."""
        # Every thread must take one closing task: a barrier of `size` parties
        # holds each until all have started, so no thread can take two.
        barrier = threading.Barrier(self.size)
        closing = [self._executor.submit(_close_connections_after, barrier) for _ in range(self.size)]
        for task in closing:
            error = task.exception()
            if error is not None:
                logger.warning("A database thread's connection was left open at shutdown: %r", error)
        self._executor.shutdown(wait=True)
        _close_pools()


def _with_fresh_connection(function, args, kwargs):
    close_old_connections()
    try:
        return function(*args, **kwargs)
    finally:
        close_old_connections()


def _with_kept_connection(function, args, kwargs):
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None and not _still_good(connection):
            connection.close()  # back to the pool, which checks it before handing it out again
    try:
        return function(*args, **kwargs)
    finally:
        for connection in connections.all(initialized_only=True):
            if connection.connection is None:
                continue
            if connection.errors_occurred or connection.in_atomic_block or not connection.get_autocommit():
                connection.close()
            else:
                connection.slotbot_last_used = time.monotonic()


def _still_good(connection):
    """Whether a thread's kept connection may serve the next call without the pool's round-trip check."""
    idle = time.monotonic() - getattr(connection, "slotbot_last_used", 0.0)
    if idle > KEEP_CONNECTION_SECONDS or connection.errors_occurred:
        return False
    raw = connection.connection
    if raw.closed or raw.broken:
        return False
    # An idle session has nothing to say; a readable socket is the server hanging up (a restart,
    # pg_terminate_backend) or a message we did not ask for: let the pool's check decide.
    readable, _, _ = select.select([raw.fileno()], [], [], 0)
    return not readable


def _pool_serves_every_thread(size):
    """True if every database with a connection pool has room for one connection per thread."""
    pools = [database.get("OPTIONS", {}).get("pool") for database in connections.settings.values()]
    if not pools or not all(pools):
        return False  # no pool (SQLite): Django opens and closes connections itself
    return all(isinstance(pool, dict) and pool.get("max_size", 0) >= size for pool in pools)


def _close_connections_after(barrier):
    try:
        barrier.wait(CLOSE_TIMEOUT_SECONDS)
    finally:
        connections.close_all()


def _close_pools():
    """Close Django's connection pools, which keep handed-back connections open (the next use opens a new one)."""
    for connection in connections.all():
        close_pool = getattr(connection, "close_pool", None)  # PostgreSQL and Oracle only
        if close_pool is not None:
            close_pool()


_threads = None
_threads_lock = threading.Lock()


def _database_threads():
    global _threads
    with _threads_lock:
        if _threads is None:
            _threads = DatabaseThreads(settings.BOT_DB_THREADS)
        return _threads


def db(function):
    """`await db(f)(*args)` runs f(*args) off the event loop, with a healthy connection."""

    @functools.wraps(function)
    async def on_database_thread(*args, **kwargs):
        return await _database_threads().run(function, *args, **kwargs)

    return on_database_thread


def close_db_threads():
    """Close every database thread's connection and stop the threads; the next `db` call starts anew."""
    global _threads
    with _threads_lock:
        threads, _threads = _threads, None
    if threads is not None:
        threads.close()


async def close_db_threads_on_shutdown(application):
    """post_shutdown hook of the Application (the closing blocks, so it runs off the loop)."""
    await asyncio.to_thread(close_db_threads)
