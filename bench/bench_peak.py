"""Benchmark: more messages due at once than Telegram allows; do the deadlines still make it?

    .venv/bin/python bench/bench_peak.py [--bookings 3000] [--no-lookahead]

One school, production settings (PostgreSQL, Redis, DEBUG off, the Procfile's
worker with 4 processes and beat). --bookings users each have two bookings of
rooms that need check-in: one ending at T − 150 s (its "is over, thank you" is
informational) and one starting at T (its check-in reminder is urgent, useless
after T). The reminder window is 1 minute here (NOTIFICATION_REMINDER_MINUTES=1,
so the bench takes minutes, not a quarter of an hour; the lookahead margin is
15 s): 3,000 reminders need 100 s at 30/s, more than the window, so without the
lookahead (--no-lookahead) those late in the queue arrive after T and are
skipped. Prints: reminders that arrived before T (goal: all), when the first
and the last arrived, the lag of the informational messages behind their due
time, the delivery rate while the backlog lasted, 429s, lost and duplicates (in
the sandbox's transcripts), and what the delivery cost: CPU seconds of the worker
and beat processes (all their children) and the PostgreSQL connections they opened.

Own database (slotbot_bench_peak), Redis DB 11.
"""

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path
from resource import RUSAGE_CHILDREN, getrusage

sys.path.insert(0, str(Path(__file__).resolve().parent))
from production_stack import distribution, make_users, procfile_processes, production_stack

DB_NAME = "slotbot_bench_peak"
REDIS_URL = "redis://127.0.0.1:6379/11"
INFO_BEFORE = 150  # the informational flood falls due this many seconds before T
LEAD = 25  # seconds from the set-up to the first due moment


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=3000)
    parser.add_argument("--no-lookahead", action="store_true", help="NOTIFICATION_LOOKAHEAD_MAX_MINUTES=0")
    parser.add_argument("--info-before", type=int, default=INFO_BEFORE, help="seconds before T the flood is due")
    args = parser.parse_args()
    env = {
        "NOTIFICATION_REMINDER_MINUTES": "1",
        "NOTIFICATION_LOOKAHEAD_MARGIN_SECONDS": "15",
        "NOTIFICATION_LOOKAHEAD_MAX_MINUTES": "0" if args.no_lookahead else "10",
    }
    with production_stack(db_name=DB_NAME, redis_url=REDIS_URL, env=env) as sandbox:
        print(f"creating {args.bookings} users with two bookings each…", flush=True)
        users = make_users(sandbox, args.bookings)
        peak = make_bookings(users, args.bookings, args.info_before)
        sessions, cpu = sessions_opened(), children_cpu()
        with procfile_processes():
            wait_until_settled(peak, timeout=max(600, 2 * args.bookings * 2 / 30))
        # The processes have exited (and were waited for), so their CPU time is counted.
        cost = {"sessions": sessions_opened() - sessions, "cpu": children_cpu() - cpu}
        report(sandbox, peak, args, cost)


def sessions_opened():
    """Connections ever opened to the bench's database, as PostgreSQL counts them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def children_cpu():
    """User + system CPU seconds of this process's exited children and theirs (the worker's pool, beat)."""
    usage = getrusage(RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def make_bookings(users, count, info_before):
    """Per user: a room booking ending at T − info_before, another starting at T (check-in needed)."""
    from django.utils import timezone

    from bookings.models import Booking, BookingStatus, Resource

    now = timezone.now()
    t_start = (now + timedelta(seconds=LEAD + info_before)).replace(microsecond=0)
    ended_at = t_start - timedelta(seconds=info_before)
    resources = Resource.objects.bulk_create(
        [
            Resource(
                name=f"Room {i}",
                kind="space",
                slot_minutes=5,
                min_duration_minutes=5,
                requires_check_in=True,
                check_in_grace_minutes=60,  # no expiries during the bench
            )
            for i in range(count)
        ],
        batch_size=2000,
    )
    before, after = [], []
    for resource, user in zip(resources, users):
        before.append(
            Booking(
                resource=resource,
                user=user,
                start=now - timedelta(hours=1),
                end=ended_at,
                blocked_until=ended_at,
                status=BookingStatus.ACTIVE,
            )
        )
        after.append(
            Booking(
                resource=resource,
                user=user,
                start=t_start,
                end=t_start + timedelta(hours=2),
                blocked_until=t_start + timedelta(hours=2),
                status=BookingStatus.CONFIRMED,
                check_in_deadline=t_start + timedelta(minutes=60),
            )
        )
    # Made well before: a booking made inside the reminder window gets no reminder.
    Booking.objects.bulk_create(before + after, batch_size=2000)
    Booking.objects.update(created_at=now - timedelta(days=1))
    print(f"T = {t_start:%H:%M:%S}; informational flood due at {ended_at:%H:%M:%S}", flush=True)
    return {"t": t_start, "ended_at": ended_at, "ending": [b.pk for b in before], "starting": [b.pk for b in after]}


def wait_until_settled(peak, *, timeout):
    """Until every owed message is sent or skipped, and T has passed."""
    from django.utils import timezone

    from notifications.models import Notification

    expected = len(peak["ending"]) + len(peak["starting"])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = Notification.objects.filter(booking_id__in=peak["ending"] + peak["starting"])
        done = rows.exclude(status__in=("pending", "sending")).count()
        if timezone.now() > peak["t"] and done >= expected:
            return
        time.sleep(2)
    print("timed out", flush=True)


def report(sandbox, peak, args, cost):
    from notifications.models import Notification, NotificationKind, NotificationStatus

    t = peak["t"]
    reminders = list(Notification.objects.filter(booking_id__in=peak["starting"], kind=NotificationKind.REMINDER_START))
    on_time = [r for r in reminders if r.status == NotificationStatus.SENT and r.sent_at < t]
    late = [r for r in reminders if r.status == NotificationStatus.SENT and r.sent_at >= t]
    skipped = [r for r in reminders if r.status == NotificationStatus.SKIPPED]
    sent_reminders = sorted(r.sent_at for r in reminders if r.sent_at)
    info = list(Notification.objects.filter(booking_id__in=peak["ending"], status=NotificationStatus.SENT))
    info_lags = [(r.sent_at - peak["ended_at"]).total_seconds() for r in info]
    every = sorted(r.sent_at for r in reminders + info if r.sent_at)
    rate = (len(every) - 1) / (every[-1] - every[0]).total_seconds() if len(every) > 1 else float("nan")
    chats = {r.chat_id for r in reminders + info}
    found = {chat_id: len(sandbox.bot_messages(chat_id)) for chat_id in chats}
    sent_rows = sum(1 for r in reminders + info if r.status == NotificationStatus.SENT)
    duplicates = sum(found.values()) - sent_rows
    lookahead = "off" if args.no_lookahead else "on"
    print(f"--- {args.bookings} bookings starting at T, check-in reminders, lookahead {lookahead}", flush=True)
    print(
        f"reminders before T: {len(on_time)}/{args.bookings} (after T: {len(late)}, skipped as too late: "
        f"{len(skipped)}, written: {len(reminders)})",
        flush=True,
    )
    if sent_reminders:
        print(
            f"first reminder arrived T{(sent_reminders[0] - t).total_seconds():+.1f} s, "
            f"last T{(sent_reminders[-1] - t).total_seconds():+.1f} s",
            flush=True,
        )
    print(f"informational 'is over' lag: {distribution(info_lags)}", flush=True)
    print(
        f"delivery: {len(every)} messages at {rate:.1f} messages/s (first to last); "
        f"429s: {sandbox.stats()['flood_429']}; messages in the sandbox {sum(found.values())} for {sent_rows} sent "
        f"rows (duplicates {duplicates})",
        flush=True,
    )
    sent = max(sent_rows, 1)
    print(
        f"cost: worker + beat {cost['cpu']:.1f} CPU s ({1000 * cost['cpu'] / sent:.1f} ms per sent message), "
        f"{cost['sessions']} PostgreSQL connections opened",
        flush=True,
    )


if __name__ == "__main__":
    main()
