"""Benchmark: 5,000 bookings fall due at once; how fast do the sweep and the messages go?

    .venv/bin/python bench/bench_notifications.py [--bookings 5000] [--workers 4] [--big 1000000]

Prints: the time of the start-due sweep (5,000 bookings → active, 5,000 outbox
rows); delivery into the sandbox with Telegram's limits on (messages/s, 429s
received, lost, duplicates, counted in the sandbox's transcripts); and the
cost of one sweep with 10 thousand vs --big bookings in the table.

Uses its own PostgreSQL database (slotbot_bench_notifications, created and
dropped here), Redis DB 13, an in-process sandbox and real Celery workers.
Setup rows are bulk-inserted (the bench measures sweeps and delivery, not
booking creation).
"""

import argparse
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import benchkit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB_NAME = "slotbot_bench_notifications"
REDIS_URL = "redis://127.0.0.1:6379/13"
TOKEN = "123456:slotbot-bench-token"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=4, help="worker pool processes")
    parser.add_argument("--big", type=int, default=1_000_000, help="table size for the sweep-cost comparison")
    args = parser.parse_args()
    benchkit.recreate_database(DB_NAME)
    try:
        run(args)
    finally:
        benchkit.drop_database(DB_NAME)


def run(args):
    from sandbox.testing import run_sandbox

    with run_sandbox(tokens=[TOKEN]) as sandbox:
        benchkit.set_up_stack_django(DB_NAME, redis_url=REDIS_URL, sandbox=sandbox, token=TOKEN)
        users = make_users(sandbox, args.bookings)
        make_due_bookings(users)
        sweep_seconds = time_sweep()
        delivery(sandbox, args)
        sweep_cost(args.big)
        print(f"start-due sweep, {args.bookings} bookings → active + outbox rows: {sweep_seconds:.2f} s")


def make_users(sandbox, count):
    from core.models import User

    print(f"creating {count} sandbox users and their Slotbot users…", flush=True)
    ids = [sandbox.user(f"B{i}", started=True).id for i in range(count)]
    User.objects.bulk_create(
        [User(username=f"bench{i}", telegram_id=tid, telegram_chat_id=tid) for i, tid in enumerate(ids)],
        batch_size=2000,
    )
    return list(User.objects.order_by("id"))


def make_due_bookings(users):
    from django.utils import timezone

    from bookings.models import Booking, BookingStatus, Resource

    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=1)
    resources = Resource.objects.bulk_create(
        [
            Resource(name=f"Bench {i}", kind="equipment", slot_minutes=5, min_duration_minutes=5)
            for i in range(len(users))
        ],
        batch_size=2000,
    )
    Booking.objects.bulk_create(
        [
            Booking(
                resource=r,
                user=u,
                start=start,
                end=start + timedelta(hours=1),
                blocked_until=start + timedelta(hours=1),
                status=BookingStatus.CONFIRMED,
            )
            for r, u in zip(resources, users)
        ],
        batch_size=2000,
    )


def time_sweep():
    from bookings import services

    began = time.perf_counter()
    moved = services.bookings_start_due()
    elapsed = time.perf_counter() - began
    print(f"sweep moved {moved} bookings in {elapsed:.2f} s (delivery tasks queued on commit)", flush=True)
    return elapsed


def delivery(sandbox, args):
    from notifications.models import Notification, NotificationStatus

    total = Notification.objects.count()
    celery = str(Path(sys.executable).with_name("celery"))
    worker = subprocess.Popen(
        [
            celery,
            "-A",
            "core",
            "worker",
            "-Q",
            "default,active,completed,expired,notifications",
            f"-c{args.workers}",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            "--loglevel=WARNING",
            f"--hostname=bench-notifications-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        start_new_session=True,
    )
    try:
        first = last = None
        while True:
            sent = Notification.objects.filter(status=NotificationStatus.SENT).count()
            now = time.perf_counter()
            if sent and first is None:
                first = now
            if not Notification.objects.filter(status__in=("pending", "sending")).exists():
                last = now
                break
            time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(30)
    stats = sandbox.stats()
    per_chat = {}
    for chat_id in Notification.objects.values_list("chat_id", flat=True):
        per_chat[chat_id] = len(sandbox.bot_messages(chat_id))
    lost = sum(1 for n in per_chat.values() if n == 0)
    duplicates = sum(n - 1 for n in per_chat.values() if n > 1)
    sent = Notification.objects.filter(status=NotificationStatus.SENT).count()
    rate = sent / (last - first) if last and first and last > first else float("nan")
    print(
        f"delivered {sent}/{total} messages into the sandbox with {args.workers} worker processes: "
        f"{rate:.1f} messages/s (Telegram's ceiling: 30/s); 429s received: {stats['flood_429']}; "
        f"lost: {lost}; duplicates: {duplicates}",
        flush=True,
    )


def sweep_cost(big):
    """One start-due sweep over 100 due bookings, with 10k and then `big` finished bookings in the table."""
    from django.db import connection

    from bookings import services
    from bookings.models import Booking

    def fill_to(size):
        missing = size - Booking.objects.count()
        if missing <= 0:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO bookings_booking (resource_id, user_id, start, "end", blocked_until, status, note,
                                              created_at, updated_at)
                SELECT r.id, u.id, now() - interval '30 days' - (g * interval '1 minute'),
                       now() - interval '30 days' - (g * interval '1 minute') + interval '30 minutes',
                       now() - interval '30 days' - (g * interval '1 minute') + interval '30 minutes',
                       'completed', '', now(), now()
                FROM generate_series(1, %s) g,
                     (SELECT min(id) id FROM bookings_resource) r, (SELECT min(id) id FROM core_user) u
                """,
                [missing],
            )
            cursor.execute("ANALYZE bookings_booking")

    def one_sweep():
        from django.utils import timezone

        from bookings.models import BookingStatus, Resource

        start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=1)
        Booking.objects.filter(status=BookingStatus.ACTIVE).update(status=BookingStatus.COMPLETED)
        user_id = Booking.objects.values_list("user_id", flat=True).first()
        Booking.objects.bulk_create(
            [
                Booking(
                    resource=r,
                    user_id=user_id,
                    start=start,
                    end=start + timedelta(hours=1),
                    blocked_until=start + timedelta(hours=1),
                    status=BookingStatus.CONFIRMED,
                )
                for r in Resource.objects.order_by("id")[:100]
            ]
        )
        timings = []
        for _ in range(3):
            began = time.perf_counter()
            services.bookings_start_due()  # 100 due the first time, then none: both are sweeps
            timings.append(time.perf_counter() - began)
        return timings[0], min(timings[1:])

    fill_to(10_000)
    small = one_sweep()
    fill_to(big)
    large = one_sweep()
    print(
        f"sweep with 100 due: 10k rows {small[0] * 1000:.1f} ms, {big // 1000}k rows {large[0] * 1000:.1f} ms "
        f"(ratio {large[0] / small[0]:.2f}); idle sweep: {small[1] * 1000:.2f} ms vs {large[1] * 1000:.2f} ms "
        f"(ratio {large[1] / small[1]:.2f})",
        flush=True,
    )


if __name__ == "__main__":
    main()
