"""Benchmark: how long after a booking's start, end or check-in deadline does its message reach the chat?

    .venv/bin/python bench/bench_status_lag.py [--bookings 200] [--spread 180] [--sweep-interval N]

Production settings (PostgreSQL, Redis, DEBUG off, the Procfile's worker and
beat as processes, sweeps at SWEEP_INTERVAL_SECONDS — 1 s now, 15 s before;
--sweep-interval 15 shows the old figure). 200 bookings, each on its own
resource and in its own chat, with their times staggered over --spread
seconds: a third start (no check-in: "has started"), a third end ("is over"),
a third expire (check-in needed, nobody checks in: "expired"). The lag of a
message is its row's sent_at (stamped when the sandbox answered sendMessage)
minus the moment it was due; printed as p50/p95/p99/max per kind, with the
number of messages found in the sandbox's transcripts (lost, duplicates).
Then the idle cost of one round of beat's every-second tasks.

Own database (slotbot_bench_status_lag), Redis DB 12.
"""

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from production_stack import distribution, make_users, procfile_processes, production_stack

DB_NAME = "slotbot_bench_status_lag"
REDIS_URL = "redis://127.0.0.1:6379/12"
LEAD = 20  # seconds between the set-up and the first due time (the worker and beat start meanwhile)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=200)
    parser.add_argument("--spread", type=float, default=180.0, help="seconds over which the due times are spread")
    parser.add_argument("--sweep-interval", type=int, default=None, help="SWEEP_INTERVAL_SECONDS (default: settings')")
    args = parser.parse_args()
    env = {} if args.sweep_interval is None else {"SWEEP_INTERVAL_SECONDS": str(args.sweep_interval)}
    with production_stack(db_name=DB_NAME, redis_url=REDIS_URL, env=env) as sandbox:
        from django.conf import settings

        print(f"sweep interval: {settings.SWEEP_INTERVAL_SECONDS} s; DEBUG={settings.DEBUG}", flush=True)
        users = make_users(sandbox, args.bookings)
        due = make_bookings(users, args.spread)
        with procfile_processes():
            wait_until_sent(len(due), timeout=LEAD + args.spread + 120)
        report(sandbox, due)
        idle_cost()


def make_bookings(users, spread):
    """Bookings whose start, end or check-in deadline falls at staggered moments; {booking id: (kind, due)}."""
    from django.utils import timezone

    from bookings.models import Booking, BookingStatus, Resource

    now = timezone.now()
    first = now + timedelta(seconds=LEAD)
    step = spread / max(1, len(users) - 1)
    plans = []
    for i, user in enumerate(users):
        at = first + timedelta(seconds=i * step)
        kind = ("start", "end", "expiry")[i % 3]
        plans.append((user, kind, at))
    resources = Resource.objects.bulk_create(
        [
            Resource(
                name=f"Room {i}",
                kind="space",
                slot_minutes=5,
                min_duration_minutes=5,
                requires_check_in=kind == "expiry",
                check_in_grace_minutes=5,
            )
            for i, (_u, kind, _at) in enumerate(plans)
        ]
    )
    bookings = []
    for resource, (user, kind, at) in zip(resources, plans):
        if kind == "start":
            start, end, status, deadline = at, at + timedelta(hours=1), BookingStatus.CONFIRMED, None
        elif kind == "end":
            start, end, status, deadline = now - timedelta(hours=1), at, BookingStatus.ACTIVE, None
        else:  # nobody checks in by start + grace
            start, end, status, deadline = (
                at - timedelta(minutes=5),
                at + timedelta(hours=1),
                BookingStatus.CONFIRMED,
                at,
            )
        bookings.append(
            Booking(
                resource=resource,
                user=user,
                start=start,
                end=end,
                blocked_until=end,
                status=status,
                check_in_deadline=deadline,
            )
        )
    Booking.objects.bulk_create(bookings)
    return {b.pk: (kind, at) for b, (_u, kind, at) in zip(bookings, plans)}


def wait_until_sent(expected, *, timeout):
    from notifications.models import Notification, NotificationStatus

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = Notification.objects.filter(status=NotificationStatus.SENT).count()
        if sent >= expected and not Notification.objects.filter(status__in=("pending", "sending")).exists():
            return
        time.sleep(1)
    print(f"timed out waiting for {expected} messages", flush=True)


def report(sandbox, due):
    from notifications.models import Notification, NotificationStatus

    lags = {"start": [], "end": [], "expiry": []}
    rows = Notification.objects.filter(booking_id__in=due.keys())
    for row in rows.filter(status=NotificationStatus.SENT):
        kind, at = due[row.booking_id]
        lags[kind].append((row.sent_at - at).total_seconds())
    chats = {row.chat_id for row in rows}
    found = {chat_id: len(sandbox.bot_messages(chat_id)) for chat_id in chats}
    lost = len(due) - sum(min(n, 1) for n in found.values())
    duplicates = sum(n - 1 for n in found.values() if n > 1)
    for kind, label in (("start", "starts (has started)"), ("end", "ends (is over)"), ("expiry", "expiries")):
        print(f"{label:<22} lag {distribution(lags[kind])}", flush=True)
    every = [lag for values in lags.values() for lag in values]
    print(f"{'all':<22} lag {distribution(every)}", flush=True)
    print(
        f"messages in the sandbox: {sum(found.values())} for {len(due)} bookings; lost {lost}, duplicates "
        f"{duplicates}; 429s: {sandbox.stats()['flood_429']}",
        flush=True,
    )


def idle_cost(rounds=50):
    """One round of the tasks beat runs every SWEEP_INTERVAL_SECONDS, with nothing due: median of `rounds`."""
    from bookings import services
    from notifications import outbox

    tasks = [
        services.bookings_start_due,
        services.bookings_complete_ended,
        services.bookings_expire_no_shows,
        services.bookings_expire_unapproved,
        services.bookings_mark_overdue,
        outbox.notifications_create_reminders,
        outbox.notifications_create_overdue_reminders,
    ]
    per_task = []
    for task in tasks:
        timings = []
        for _ in range(rounds):
            began = time.perf_counter()
            task()
            timings.append(time.perf_counter() - began)
        per_task.append(sorted(timings)[len(timings) // 2])
    names = ", ".join(f"{t.__name__} {s * 1000:.2f}" for t, s in zip(tasks, per_task))
    print(f"idle round of beat's {len(tasks)} sweeps: {sum(per_task) * 1000:.2f} ms in all ({names} ms)", flush=True)


if __name__ == "__main__":
    main()
