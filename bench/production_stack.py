"""Shared by bench_status_lag.py and bench_peak.py: Slotbot in production settings, against the sandbox.

PostgreSQL (a database of the bench's own, created and dropped), Redis (one DB
of the bench's own, flushed), DEBUG off, and the Procfile's worker and beat as
subprocesses; the sandbox runs in a thread of the bench process with
Telegram's limits on. Rows are bulk-inserted: the benches measure sweeps and
delivery, not booking creation.
"""

import math
import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import benchkit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TOKEN = "123456:slotbot-bench-token"
QUEUES = "default,active,completed,expired,overdue,notifications"  # as in the Procfile


def psql(sql):
    subprocess.run(
        ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-c", sql], check=True, stdout=subprocess.DEVNULL
    )


@contextmanager
def production_stack(*, db_name, redis_url, env=None):
    """Yields the sandbox client; Django is set up on the bench's database, migrated, Redis flushed."""
    from sandbox.testing import run_sandbox

    psql(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
    psql(f"CREATE DATABASE {db_name}")
    var_dir = tempfile.mkdtemp(prefix="slotbot-bench-")
    try:
        with run_sandbox(tokens=[TOKEN]) as sandbox:
            os.environ.pop("DEBUG", None)
            os.environ.update(
                DJANGO_SETTINGS_MODULE="core.settings",
                SECRET_KEY="bench",
                DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{db_name}",
                REDIS_URL=redis_url,
                TELEGRAM_BOT_TOKEN=TOKEN,
                TELEGRAM_BASE_URL=sandbox.base_url,
                CELERY_SKIP_CHECKS="1",
                TIME_ZONE="Europe/Berlin",
                SLOTBOT_VAR_DIR=var_dir,
                **(env or {}),
            )
            import django

            django.setup()
            import redis
            from django.core.management import call_command

            redis.Redis.from_url(redis_url).flushdb()
            call_command("migrate", verbosity=0, skip_checks=True)
            yield sandbox
    finally:
        from django.db import connections

        connections.close_all()
        psql(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")


@contextmanager
def procfile_processes(*, concurrency=4, beat=True):
    """The Procfile's worker (every queue) and beat, as subprocesses of the bench."""
    celery = str(Path(sys.executable).with_name("celery"))
    var_dir = os.environ["SLOTBOT_VAR_DIR"]
    commands = [
        [
            "worker",
            celery,
            "-A",
            "core",
            "worker",
            "-Q",
            QUEUES,
            f"--concurrency={concurrency}",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=WARNING",
            f"--hostname=bench-{os.getpid()}@%h",
        ]
    ]
    if beat:
        commands.append(
            ["beat", celery, "-A", "core", "beat", "--loglevel=WARNING", "-s", f"{var_dir}/celerybeat-schedule"]
        )
    # Each with the Procfile's pool size (a worker child's 2, beat's 2).
    processes = [
        subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **benchkit.procfile_pool_environment(process_type)},
            start_new_session=True,
        )
        for process_type, *command in commands
    ]
    try:
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def make_users(sandbox, count, prefix="B"):
    """`count` sandbox users who pressed Start, and their Slotbot users (ordered by id)."""
    from core.models import User

    ids = [sandbox.user(f"{prefix}{i}", started=True).id for i in range(count)]
    User.objects.bulk_create(
        [User(username=f"{prefix.lower()}{i}", telegram_id=tid, telegram_chat_id=tid) for i, tid in enumerate(ids)],
        batch_size=2000,
    )
    return list(User.objects.order_by("id"))


def percentile(values, fraction):
    """The nearest-rank percentile of `values` (fraction 0–1); nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return ordered[rank]


def distribution(values):
    return (
        f"p50 {percentile(values, 0.50):.2f} s, p95 {percentile(values, 0.95):.2f} s, "
        f"p99 {percentile(values, 0.99):.2f} s, max {max(values) if values else float('nan'):.2f} s (n={len(values)})"
    )
