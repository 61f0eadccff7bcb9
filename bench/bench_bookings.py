"""Benchmarks of the booking domain on PostgreSQL: prints figures, asserts nothing.

    .venv/bin/python bench/bench_bookings.py                  # sizes 10k and 1M (~3 min on 2 cores)
    .venv/bin/python bench/bench_bookings.py --quick          # sizes 10k and 100k, fewer rows
    .venv/bin/python bench/bench_bookings.py --sizes 10000,1000000 --create 2000 --samples 300

1. Creation: bookings/s through services.booking_create versus a raw SQL
   INSERT of the same rows into the same table, each in its own transaction
   on one connection, and the ratio.
2. Reads: p50/p95 latency of a resource's free intervals for a day
   (selectors.resource_free_intervals) and of availability first
   (selectors.resources_free_between) with 10 thousand and 1 million
   bookings in the table, and the ratio between sizes (near 1 means the
   queries follow the live bookings through partial indexes, not the table).
   Then EXPLAIN ANALYZE of both queries at the largest size.

It works in its own database (slotbot_bench on 127.0.0.1:5432, created and
dropped here; --keep leaves it), never in the development or test ones.
"""

import argparse
import os
import statistics
import time
from datetime import timedelta

import benchkit

DATABASE = "slotbot_bench"
RESOURCES = 50
LIVE_DAYS = 30  # live bookings: one a day per resource for the next 30 days, the same at every size
PAST_YEARS = 5


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,1000000", help="table sizes to measure reads at (ascending)")
    parser.add_argument("--create", type=int, default=2000, help="bookings per creation variant")
    parser.add_argument("--samples", type=int, default=300, help="calls per read latency figure")
    parser.add_argument("--quick", action="store_true", help="sizes 10k,100k; 300 creations; 100 samples")
    parser.add_argument("--keep", action="store_true", help=f"keep the {DATABASE} database afterwards")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.create, args.samples = "10000,100000", 300, 100
    args.sizes = sorted(int(s) for s in args.sizes.split(","))
    return args


def heading(text):
    print(f"\n== {text}")


# --- 1. creation ------------------------------------------------------------------


def bench_creation(count):
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from bookings import rules, services
    from bookings.models import Resource, ResourceKind

    heading(f"Creation: {count} bookings through the service vs {count} raw INSERTs (one transaction each)")
    user = get_user_model().objects.create_user(username="bench-creator", telegram_id=10**9)
    make = dict(kind=ResourceKind.SPACE, max_advance_days=366, max_duration_minutes=60)
    via_service = Resource.objects.create(name="Bench: service", **make)  # no opening hours: open all day
    via_sql = Resource.objects.create(name="Bench: raw SQL", **make)
    now = timezone.now()
    first = rules.round_up_to_grid(via_service, now + timedelta(hours=1))
    slots = [(first + timedelta(hours=i), first + timedelta(hours=i, minutes=30)) for i in range(count)]

    started = time.perf_counter()
    for start, end in slots:
        services.booking_create(user=user, resource=via_service, start=start, end=end, now=now)
    service_seconds = time.perf_counter() - started

    insert = """
        INSERT INTO bookings_booking
            (resource_id, user_id, start, "end", blocked_until, status, note, created_at, updated_at)
        VALUES (%s, %s, %s, %s, %s, 'confirmed', '', now(), now())
    """
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for start, end in slots:
            with transaction.atomic():
                cursor.execute(insert, [via_sql.pk, user.pk, start, end, end])
    sql_seconds = time.perf_counter() - started

    service_rate, sql_rate = count / service_seconds, count / sql_seconds
    print(f"service  booking_create : {service_rate:8.0f} bookings/s  ({service_seconds * 1000 / count:.2f} ms each)")
    print(f"raw SQL  INSERT         : {sql_rate:8.0f} bookings/s  ({sql_seconds * 1000 / count:.2f} ms each)")
    print(f"ratio raw / service     : {sql_rate / service_rate:8.1f}x")
    print("(the service validates the rules, checks overlap, inserts the booking and its history row)")
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE bookings_bookingevent, bookings_booking RESTART IDENTITY CASCADE")
    Resource.objects.filter(pk__in=[via_service.pk, via_sql.pk]).delete()
    return service_rate, sql_rate


# --- 2. reads at growing table sizes -------------------------------------------------------


def make_catalogue():
    """50 resources (rooms open 8–20 on weekdays, equipment around the clock, various buffers) and 200 users."""
    from django.contrib.auth import get_user_model

    from bookings.models import OpeningHours, Resource, ResourceKind

    User = get_user_model()
    User.objects.bulk_create(User(username=f"bench-user-{i}", telegram_id=i + 1) for i in range(200))
    resources = []
    for i in range(RESOURCES):
        room = i % 2 == 0
        resources.append(
            Resource.objects.create(
                name=f"Bench {'room' if room else 'device'} {i:02d}",
                kind=ResourceKind.SPACE if room else ResourceKind.EQUIPMENT,
                category="Rooms" if room else "Devices",
                buffer_minutes=(0, 15, 30)[i % 3],
                max_advance_days=60,
            )
        )
        if room:
            OpeningHours.objects.bulk_create(
                OpeningHours(resource=resources[-1], weekday=d, opens="08:00", closes="20:00") for d in range(5)
            )
    return resources


def insert_live_bookings():
    """One live booking per resource a day, 10:00–11:00 local, for the next LIVE_DAYS days."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH u AS (SELECT array_agg(id ORDER BY id) AS ids FROM core_user)
            INSERT INTO bookings_booking
                (resource_id, user_id, start, "end", blocked_until, status, note, created_at, updated_at)
            SELECT r.id, u.ids[1 + (r.id + d) %% cardinality(u.ids)], s.start, s.start + interval '1 hour',
                   s.start + interval '1 hour' + make_interval(mins => r.buffer_minutes),
                   CASE WHEN d %% 5 = 0 THEN 'pending' ELSE 'confirmed' END, '', now(), now()
            FROM u, bookings_resource r
            CROSS JOIN generate_series(1, %s) AS d
            CROSS JOIN LATERAL (
                SELECT ((current_date + d) + time '10:00') AT TIME ZONE 'Europe/Berlin' AS start
            ) s
            """,
            [LIVE_DAYS],
        )
        return cursor.rowcount


def insert_past_bookings(count, first_index):
    """`count` finished bookings spread over PAST_YEARS years, on all resources, fast (one statement)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH r AS (SELECT array_agg(id ORDER BY id) AS ids FROM bookings_resource),
                 u AS (SELECT array_agg(id ORDER BY id) AS ids FROM core_user)
            INSERT INTO bookings_booking
                (resource_id, user_id, start, "end", blocked_until, status, note, created_at, updated_at)
            SELECT r.ids[1 + i %% cardinality(r.ids)], u.ids[1 + (i * 7) %% cardinality(u.ids)],
                   t.start, t.start + interval '1 hour', t.start + interval '1 hour',
                   CASE WHEN i %% 20 < 16 THEN 'completed' WHEN i %% 20 < 18 THEN 'cancelled'
                        WHEN i %% 20 < 19 THEN 'expired' ELSE 'rejected' END,
                   '', t.start - interval '1 day', t.start + interval '1 hour'
            FROM r, u, generate_series(%s::bigint, %s::bigint) AS i
            CROSS JOIN LATERAL (
                SELECT date_trunc('hour', now() - interval '1 day'
                       - make_interval(hours => ((i::bigint * 7919) %% (%s * 365 * 24))::int)) AS start
            ) t
            """,
            [first_index, first_index + count - 1, PAST_YEARS],
        )
        cursor.execute("ANALYZE bookings_booking")


def percentiles(samples):
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000


def bench_reads(resources, samples):
    """(p50, p95) in ms of free intervals for a day and of availability first, at random days and hours."""
    import random

    from django.utils import timezone

    from bookings import rules, selectors

    rng = random.Random(7)
    now = timezone.now()
    today = now.astimezone(rules.site_zone()).date()
    resource_ids = [r.pk for r in resources]

    day_times = []
    for _ in range(samples):
        resource = selectors.resource_get(resource_id=rng.choice(resource_ids))
        day = today + timedelta(days=rng.randint(1, LIVE_DAYS))
        started = time.perf_counter()
        selectors.resource_free_intervals(resource=resource, day=day, now=now)
        day_times.append(time.perf_counter() - started)

    range_times = []
    for _ in range(samples):
        day = today + timedelta(days=rng.randint(1, LIVE_DAYS))
        start = rules.local_midnight(day) + timedelta(hours=rng.randint(8, 17))
        started = time.perf_counter()
        selectors.resources_free_between(start=start, end=start + timedelta(hours=1), now=now)
        range_times.append(time.perf_counter() - started)
    return percentiles(day_times), percentiles(range_times)


def explain(resources):
    """EXPLAIN ANALYZE of the live-booking queries behind both selectors."""
    from django.db import connection
    from django.utils import timezone

    from bookings import availability, rules

    day = timezone.now().astimezone(rules.site_zone()).date() + timedelta(days=3)
    start, end = rules.local_midnight(day), rules.local_midnight(day + timedelta(days=1))
    queries = {
        "free intervals of one resource for a day": availability.live_bookings_meeting(
            resource_ids=[resources[0].pk], start=start, end=end
        ),
        "availability first (all resources, one hour)": availability.live_bookings_meeting(
            resource_ids=[r.pk for r in resources], start=start + timedelta(hours=10), end=start + timedelta(hours=11)
        ),
    }
    for title, queryset in queries.items():
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
            heading(f"EXPLAIN ANALYZE: {title}")
            for (line,) in cursor.fetchall():
                print("   ", line)


def bench_sizes(sizes, samples):
    from django.db import connection

    heading(f"Reads: {RESOURCES} resources; table sizes {', '.join(f'{s:,}' for s in sizes)}")
    resources = make_catalogue()
    live = insert_live_bookings()
    print(
        f"table = {live:,} live future bookings (the same at every size: one a day per resource for "
        f"{LIVE_DAYS} days, pending/confirmed)\n"
        f"        + past bookings over {PAST_YEARS} years (80% completed, 10% cancelled, 5% expired, 5% rejected)"
    )
    print(f"{samples} calls per figure, random resources, days and hours; ANALYZE after each fill\n")
    print(
        f"{'bookings':>10} | {'free intervals p50 / p95 (ms)':>30} | {'availability first p50 / p95 (ms)':>34} | fill (s)"
    )
    results = {}
    filled = live
    for size in sizes:
        started = time.perf_counter()
        insert_past_bookings(size - filled, first_index=filled)
        fill_seconds = time.perf_counter() - started
        filled = size
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM bookings_booking")
            (rows,) = cursor.fetchone()
        bench_reads(resources, max(samples // 10, 10))  # warm the caches
        day, between = bench_reads(resources, samples)
        results[size] = (day, between)
        print(
            f"{rows:>10,} | {day[0]:>14.2f} / {day[1]:<13.2f} | {between[0]:>16.2f} / {between[1]:<15.2f} | {fill_seconds:6.1f}"
        )
    smallest, largest = results[sizes[0]], results[sizes[-1]]
    print(
        f"\nratio {sizes[-1]:,} / {sizes[0]:,} (p50): free intervals {largest[0][0] / smallest[0][0]:.2f}x, "
        f"availability first {largest[1][0] / smallest[1][0]:.2f}x   (near 1 = indexes, not scans)"
    )
    explain(resources)


def main():
    args = parse_args()
    began = time.perf_counter()
    benchkit.recreate_database(DATABASE)
    try:
        benchkit.set_up_django(DATABASE)
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            print(f"PostgreSQL {cursor.fetchone()[0]}, {os.cpu_count()} CPUs, database {DATABASE}")
        bench_creation(args.create)
        bench_sizes(args.sizes, args.samples)
        connection.close()
    finally:
        if not args.keep:
            benchkit.drop_database(DATABASE)
    print(f"\ntotal {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
