"""PostgreSQL connection settings: Django's psycopg pool, timeouts, and a deadline on every call.

`postgres_options(...)` builds DATABASES["default"]["OPTIONS"] for PostgreSQL
from the DATABASE_* settings (core/settings.py). A database that is down
refuses or times out the connect (libpq's connect_timeout); a query the
server runs too long is cancelled by the server (statement_timeout); and a
connection whose server has silently gone (packets dropped, a load balancer
black-holing it) is abandoned by the client after the statement timeout plus
a grace period, instead of waiting for the kernel's TCP timeout (minutes).
Every one of these surfaces as django.db.OperationalError, which the
interfaces turn into "unavailable, retry" (core/middleware.py,
bookings/api/errors.py, bot/errors.py, core/celery.py).
"""

import logging

import psycopg
from psycopg import errors as pg_errors

logger = logging.getLogger(__name__)

# Beyond the server's statement_timeout the client still waits this long for the
# server's own "canceling statement" answer before deciding that nobody is there.
CALL_GRACE_SECONDS = 1.0
RECONNECT_TIMEOUT_SECONDS = 10.0
# Kernel keepalives drop an idle pooled connection whose peer vanished
# (seconds idle, probe interval, probes), so the pool does not hand it out.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 5, "keepalives_count": 3}
# psycopg prepares a statement only when its cursor asks (execute(..., prepare=True): bookings.admission's
# hot path), never by counting: Django's own cursors bind on the client and prepare nothing anyway. A
# count this high is never reached; None (Django's default) would refuse even the asking ones.
PREPARE_ONLY_WHEN_ASKED = 2**31 - 1


class DeadlineConnection(psycopg.Connection):
    """A psycopg connection whose every wait on the server ends after `call_timeout` seconds.

    psycopg waits on the socket with no limit by default; a server that
    accepted the query and then fell silent would hold the calling thread
    (a web request, a bot database thread, a Celery task) until the kernel
    gives up. On expiry the connection is closed without network I/O, so it
    is never reused: Django discards it and the pool replaces it.
    """

    call_timeout = None  # seconds; set by deadline_connection_class()

    def wait(self, gen, interval=None, timeout=None):
        if timeout is None:
            timeout = self.call_timeout
        extra = {} if interval is None else {"interval": interval}
        try:
            return super().wait(gen, timeout=timeout, **extra)
        except pg_errors._WaitTimeout:
            logger.warning("PostgreSQL did not answer within %s s; closing the connection", timeout)
            self.pgconn.finish()
            raise pg_errors.OperationalError(f"the database did not answer within {timeout} s") from None


def deadline_connection_class(call_timeout):
    """DeadlineConnection with this call timeout (None: wait as long as psycopg does)."""
    return type("DeadlineConnection", (DeadlineConnection,), {"call_timeout": call_timeout})


def postgres_options(*, connect_timeout, statement_timeout_ms, pool_min_size, pool_max_size, pool_timeout):
    """OPTIONS for Django's PostgreSQL backend: libpq parameters and the psycopg pool."""
    options = {"connect_timeout": connect_timeout, **KEEPALIVES, "prepare_threshold": PREPARE_ONLY_WHEN_ASKED}
    call_timeout = None
    if statement_timeout_ms:
        options["options"] = f"-c statement_timeout={statement_timeout_ms}"
        call_timeout = statement_timeout_ms / 1000 + CALL_GRACE_SECONDS
    options["pool"] = {
        "min_size": pool_min_size,
        "max_size": pool_max_size,
        # How long a request waits for a connection: free, or newly opened.
        "timeout": pool_timeout,
        "connection_class": deadline_connection_class(call_timeout),
        # A failed reconnect is retried with backoff (1, 2, 4 … s) for this long
        # before the pool gives up on it and opens another when asked: a
        # database that comes back is in use again within seconds.
        "reconnect_timeout": RECONNECT_TIMEOUT_SECONDS,
    }
    return options
