"""Benchmark of recurring series on PostgreSQL: prints figures, asserts nothing.

    .venv/bin/python bench/bench_series.py                  # 52 occurrences, 30 samples of each
    .venv/bin/python bench/bench_series.py --samples 10 --occurrences 52

p50/p95 milliseconds of bookings.series.series_preview (every occurrence
booked in a savepoint, then rolled back) and of series_create in both modes
(all_or_nothing, skip_conflicts) for a weekly series of 52 occurrences, each
sample on a fresh resource open around the clock and bookable a year ahead,
with one quota rule in force (so every occurrence meets the policy checks). The same number of plain
booking_create calls, one transaction each, is measured alongside as the
reference, since absolute figures follow the machine's load.
Per occurrence figures are the totals divided by the number of occurrences.

It works in its own database (slotbot_bench_series on 127.0.0.1:5432, created
and dropped here), never in the development or test ones. The notification
receivers are disconnected: the outbox is measured by bench_notifications.
"""

import argparse
import time
from datetime import timedelta

import benchkit

DATABASE = "slotbot_bench_series"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=30, help="calls per figure")
    parser.add_argument("--occurrences", type=int, default=52, help="occurrences per series")
    return parser.parse_args()


def run(samples, occurrences):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from bookings import rules, series, services
    from bookings.models import QuotaRule, Resource, ResourceKind

    users = iter(get_user_model().objects.create_user(username=f"bench-series-{n}") for n in range(10**6))
    QuotaRule.objects.create(kind="bookings", period="week", limit=5)
    now = timezone.now()
    rule = f"FREQ=WEEKLY;COUNT={occurrences}"
    figures = {}

    def single_bookings(resource, start, end):
        # The reference: the same occurrences booked one by one, each booking_create in its own transaction.
        owner, length = next(users), end - start
        for week in range(occurrences):
            at = rules.add_elapsed(start, timedelta(weeks=week))
            services.booking_create(user=owner, resource=resource, start=at, end=at + length)
        return series.SeriesResult(series=None)

    for label, call in (
        (f"{occurrences} × booking_create", single_bookings),
        ("preview", lambda r, s, e: series.series_preview(user=next(users), resource=r, start=s, end=e, rrule=rule)),
        (
            "create all_or_nothing",
            lambda r, s, e: series.series_create(
                user=next(users), resource=r, start=s, end=e, rrule=rule, mode=series.ALL_OR_NOTHING
            ),
        ),
        (
            "create skip_conflicts",
            lambda r, s, e: series.series_create(
                user=next(users), resource=r, start=s, end=e, rrule=rule, mode=series.SKIP_CONFLICTS
            ),
        ),
    ):
        timings = []
        for n in range(samples):
            resource = Resource.objects.create(
                name=f"Bench {label} {n}", kind=ResourceKind.SPACE, max_advance_days=366, max_duration_minutes=60
            )
            start = rules.round_up_to_grid(resource, now + timedelta(days=1))
            started = time.perf_counter()
            result = call(resource, start, start + timedelta(hours=1))
            timings.append((time.perf_counter() - started) * 1000)
            assert all(o.ok for o in result.occurrences), [o.code for o in result.occurrences if not o.ok]
        figures[label] = timings
    print(f"\n== Series of {occurrences} weekly occurrences, {samples} samples each (PostgreSQL, 1 quota rule)")
    for label, timings in figures.items():
        p50, p95 = benchkit.p50_p95(timings)
        print(f"{label:22}: p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   ({p50 / occurrences:.2f} ms per occurrence at p50)")


def main():
    args = parse_args()
    with benchkit.bench_database(
        DATABASE,
        quiet=("bookings_transitioned", "series_changed"),
        SERIES_MAX_OCCURRENCES=str(max(args.occurrences, 52)),
    ):
        run(args.samples, args.occurrences)


if __name__ == "__main__":
    main()
