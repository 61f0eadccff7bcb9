"""What the benches share: the repository on sys.path, a database of a bench's own with Django set up in it,
and the percentiles they print.

A bench runs as `.venv/bin/python bench/bench_x.py`, so this folder is first on sys.path and `import benchkit`
finds this file; importing it puts the repository there too, for `bookings`, `core` and the rest.

Each bench works in a PostgreSQL database of its own on 127.0.0.1:5432 (created here and dropped afterwards),
never in the development or test ones:

    with benchkit.bench_database("slotbot_bench_x", SOME_SETTING="1"):
        ...  # Django is set up and migrated in slotbot_bench_x
"""

import os
import re
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SERVER = "postgres://postgres@127.0.0.1:5432"

# What every bench's Django runs with: production settings (DEBUG off), a key and a token of its own.
BASE_ENVIRONMENT = {
    "DJANGO_SETTINGS_MODULE": "core.settings",
    "SECRET_KEY": "bench-only-secret-key",
    "TIME_ZONE": "Europe/Berlin",
    "TELEGRAM_BOT_TOKEN": "123456:slotbot-bench-token",
    "LOG_LEVEL": "WARNING",
}


def procfile_pool_environment(process_type):
    """DATABASE_POOL_MIN_SIZE / _MAX_SIZE as the Procfile sets them for `process_type` (web, bot, worker, beat):
    its `${WEB_DATABASE_POOL_MAX_SIZE:-50}`-style defaults, or this environment's value of that variable."""
    line = next(line for line in (REPO / "Procfile").read_text().splitlines() if line.startswith(f"{process_type}:"))
    found = {}
    for name, variable, default in re.findall(r"(DATABASE_POOL_M(?:IN|AX)_SIZE)=\$\{(\w+):-(\d+)\}", line):
        found[name] = os.environ.get(variable, default)
    return found


def admin_execute(*statements):
    """Run `statements` on the server's postgres database, outside any transaction (CREATE/DROP DATABASE)."""
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        for sql in statements:
            admin.execute(sql)


def recreate_database(name):
    admin_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")


def drop_database(name):
    admin_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def set_up_django(database, *, quiet=("bookings_transitioned",), **environment):
    """Point Django at `database` with BASE_ENVIRONMENT plus `environment`, set it up and migrate.

    `quiet` names bookings.signals whose receivers are disconnected, so a bench measures bookings/ alone:
    notifications' outbox receivers are their own concern (and bench_notifications').
    """
    os.environ.update(BASE_ENVIRONMENT, DATABASE_URL=f"{SERVER}/{database}", **environment)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from bookings import signals

    for name in quiet:
        getattr(signals, name).receivers.clear()


def set_up_stack_django(database, *, redis_url, sandbox, token):
    """Django for a bench that runs the whole delivery stack: production settings on `database` and `redis_url`
    (flushed), talking to `sandbox` as bot `token`; migrated. The worker it starts inherits this environment."""
    os.environ.update(
        BASE_ENVIRONMENT,
        DATABASE_URL=f"{SERVER}/{database}",
        REDIS_URL=redis_url,
        TELEGRAM_BOT_TOKEN=token,
        TELEGRAM_BASE_URL=sandbox.base_url,
        CELERY_SKIP_CHECKS="1",
    )
    import django

    django.setup()
    import redis
    from django.core.management import call_command

    redis.Redis.from_url(redis_url).flushdb()
    call_command("migrate", verbosity=0, skip_checks=True)


def print_server(database):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        print(f"PostgreSQL {cursor.fetchone()[0]}, {os.cpu_count()} CPUs, database {database}")


@contextmanager
def bench_database(database, *, quiet=("bookings_transitioned",), **environment):
    """`database` made afresh with Django set up and migrated in it (see set_up_django), the server's version
    printed; the connections are closed and the database dropped afterwards, whatever happens."""
    recreate_database(database)
    try:
        set_up_django(database, quiet=quiet, **environment)
        print_server(database)
        yield
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        drop_database(database)


def percentile(values, fraction):
    """The value at `fraction` (0.95 for p95) of the sorted `values`, by the nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def p50_p95(values):
    return statistics.median(values), percentile(values, 0.95)


def timed(calls):
    """Run each zero-argument call; return (p50, p95) of their times in milliseconds."""
    took = []
    for call in calls:
        started = time.perf_counter()
        call()
        took.append((time.perf_counter() - started) * 1000)
    return p50_p95(took)
