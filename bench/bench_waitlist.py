"""Benchmark: a slot is freed; how long until the first waiter's offer is in their chat?

    flock /tmp/slotbot-redis.lock .venv/bin/python bench/bench_waitlist.py [--events 100] [--workers 2]

Each freeing event is a cancel of a booking that someone waits for. The clock
runs from just before the cancel's commit to the moment the offer message
(Take it / No thanks) is in the waiter's chat in the sandbox: the on-commit
offer task on the `waitlist` queue, the held booking, its outbox row, the
delivery task on `notifications` and the send through the shared rate limiter.
Prints p50 / p95 / max over --events events, one after the other.

Uses its own PostgreSQL database (slotbot_bench_waitlist, created and dropped
here), Redis DB 12, an in-process sandbox and a real Celery worker (queues
waitlist and notifications). Run it under the Redis flock.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import benchkit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB_NAME = "slotbot_bench_waitlist"
REDIS_URL = "redis://127.0.0.1:6379/12"
TOKEN = "123456:slotbot-bench-token"
OFFER_TIMEOUT = 30.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="worker pool processes")
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
        events = make_events(sandbox, args.events)
        worker = start_worker(args.workers)
        try:
            wait_for_worker()
            latencies = [free_and_time(sandbox, *event) for event in events]
        finally:
            worker.terminate()
            worker.wait(30)
        report(latencies, args)


def make_events(sandbox, count):
    """For each event: a resource, its owner's booking (to be cancelled), a waiter (a sandbox user) in line."""
    from django.utils import timezone

    from bookings import services, waitlist
    from bookings.models import Resource
    from core.models import User

    print(f"setting up {count} taken slots, each with a waiter…", flush=True)
    owner = User.objects.create(username="bench-owner")
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=3)
    events = []
    for i in range(count):
        resource = Resource.objects.create(name=f"Bench {i}", kind="equipment")
        booking = services.booking_create(user=owner, resource=resource, start=start, end=start + timedelta(hours=1))
        person = sandbox.user(f"W{i}", started=True)
        waiter = User.objects.create(username=f"waiter{i}", telegram_id=person.id, telegram_chat_id=person.id)
        waitlist.waitlist_join(user=waiter, resource=resource, start=booking.start, end=booking.end)
        events.append((booking, owner, person.id))
    return events


def start_worker(workers):
    celery = str(Path(sys.executable).with_name("celery"))
    return subprocess.Popen(
        [
            celery,
            "-A",
            "core",
            "worker",
            "-Q",
            "waitlist,notifications",
            f"-c{workers}",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            "--loglevel=WARNING",
            f"--hostname=bench-waitlist-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        start_new_session=True,
    )


def wait_for_worker():
    from core.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if app.control.ping(timeout=1.0):
            return
    raise SystemExit("the Celery worker did not start")


def free_and_time(sandbox, booking, owner, chat_id):
    from bookings import services

    began = time.perf_counter()
    services.booking_cancel(booking=booking, by=owner)  # commits; the offer task is queued on commit
    while time.perf_counter() - began < OFFER_TIMEOUT:
        if any("Free now" in (m.get("text") or "") for m in sandbox.bot_messages(chat_id)):
            return time.perf_counter() - began
        time.sleep(0.01)
    return float("inf")


def report(latencies, args):
    arrived = sorted(x for x in latencies if x != float("inf"))
    missing = len(latencies) - len(arrived)
    if not arrived:
        raise SystemExit("no offer arrived")
    p50 = statistics.median(arrived)
    p95 = arrived[min(len(arrived) - 1, round(0.95 * len(arrived)) - 1)]
    print(
        f"freed slot → offer message in the waiter's sandbox chat, {len(latencies)} freeing events, "
        f"{args.workers} worker processes: p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"max {arrived[-1] * 1000:.0f} ms; not arrived within {OFFER_TIMEOUT:.0f} s: {missing}",
        flush=True,
    )


if __name__ == "__main__":
    main()
