"""Benchmark of extend and move (bookings.reschedule) on PostgreSQL: prints figures, asserts nothing.

    .venv/bin/python bench/bench_reschedule.py              # 300 calls each
    .venv/bin/python bench/bench_reschedule.py --calls 1000

p50/p95 latency (ms) of booking_create, booking_extend (+30 min), booking_move
(a day later) and the Extend buttons' selector (booking_extensions_possible),
each in its own transaction on one connection; booking_rescheduled's outbox
receiver is connected as in production (the creations' receipts are not). It works in its own database
(slotbot_bench_reschedule on 127.0.0.1:5432, created and dropped here).
"""

import argparse
from datetime import timedelta

import benchkit

DATABASE = "slotbot_bench_reschedule"


def bench(count):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from bookings import reschedule, rules, services
    from bookings.models import Resource, ResourceKind

    user = get_user_model().objects.create_user(username="bench-rescheduler", telegram_id=10**9)
    resource = Resource.objects.create(
        name="Bench: reschedule", kind=ResourceKind.SPACE, max_advance_days=366, max_duration_minutes=240
    )
    now = timezone.now()
    first = rules.round_up_to_grid(resource, now + timedelta(hours=1))
    # Every other hour, so each booking has room for +30 min and the move lands in a free hour.
    slots = [(first + timedelta(hours=2 * i), first + timedelta(hours=2 * i, minutes=30)) for i in range(count)]
    made = []

    def create(start, end):
        made.append(services.booking_create(user=user, resource=resource, start=start, end=end, now=now))

    figures = {"booking_create": benchkit.timed([lambda s=s, e=e: create(s, e) for s, e in slots])}
    figures["booking_extensions_possible"] = benchkit.timed(
        [lambda b=b: reschedule.booking_extensions_possible(b, now) for b in made]
    )
    figures["booking_extend +30 min"] = benchkit.timed(
        [lambda b=b: reschedule.booking_extend(booking=b, by=user, minutes=30, now=now) for b in made]
    )
    figures["booking_move +1 h"] = benchkit.timed(
        [
            lambda b=b: reschedule.booking_move(
                booking=b, by=user, start=b.start + timedelta(hours=1), end=b.end + timedelta(hours=1), now=now
            )
            for b in made
        ]
    )
    print(f"{count} calls each, p50 / p95 in ms")
    for name, (p50, p95) in figures.items():
        print(f"  {name:30s} {p50:7.2f} / {p95:7.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    # The receipts of the bookings made to be rescheduled are notifications' concern (and bench);
    # booking_rescheduled keeps its receiver (reminders superseded, as in production).
    with benchkit.bench_database(DATABASE):
        bench(args.calls)


if __name__ == "__main__":
    main()
