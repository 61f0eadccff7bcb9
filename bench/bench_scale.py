"""Availability and booking at institution scale (issue 13): prints figures, asserts nothing.

    .venv/bin/python bench/bench_scale.py                                   # build (~1 min) + measure
    .venv/bin/python bench/bench_scale.py --reuse                           # measure on the kept database
    .venv/bin/python bench/bench_scale.py --save bench/results/scale_before.json
    .venv/bin/python bench/bench_scale.py --reuse --before bench/results/scale_before.json

1. Reads with 50, 500 and 2,000 active resources and 1 million bookings in
   the table: p50/p95 of availability first as the API and the bot answer it
   (selectors.resources_free_page: a page of 50 with the total, for a user), of
   every free resource at once (selectors.resources_free_between, every
   resource free for a one-hour range) and of a day's free intervals
   (selectors.resource_free_intervals of one resource; and of every active
   resource at once, availability.free_intervals_of_many), and how each grows
   with the resource count. Then EXPLAIN ANALYZE of availability first at 2,000.
2. Creation, in one run on one database: booking_create (one committed
   transaction per booking, with its history row and one quota rule that
   binds the user) versus a raw single-row INSERT of the same booking row per
   committed transaction over psycopg; both rates, the ratio and the queries
   booking_create sends (CaptureQueriesContext).

`--save FILE` writes the figures as JSON; `--before FILE` prints them next to
this run's (the recorded baseline is bench/results/scale_before.json, taken
on the code before issue 13). It works in its own database,
slotbot_bench_scale, built with INSERT … SELECT generate_series; `--reuse`
keeps and reuses it (the build is skipped when it is already there).
"""

import argparse
import json
import os
import random
import statistics
import time
from datetime import timedelta
from pathlib import Path

import benchkit

SERVER = benchkit.SERVER
DATABASE = os.environ.get("BENCH_SCALE_DATABASE", "slotbot_bench_scale")
COUNTS = (50, 500, 2000)
TOTAL_BOOKINGS = 1_000_000
LIVE_DAYS = 30
PAST_YEARS = 3
USERS = 500


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=200, help="calls per read latency figure")
    parser.add_argument("--create", type=int, default=1000, help="bookings per creation variant")
    parser.add_argument("--reuse", action="store_true", help=f"keep {DATABASE} and reuse it if it is built")
    parser.add_argument("--save", help="write this run's figures to FILE (JSON)")
    parser.add_argument("--before", help="print the figures of FILE (JSON) next to this run's")
    parser.add_argument("--skip-create", action="store_true", help="reads only")
    parser.add_argument("--skip-reads", action="store_true", help="creation only")
    return parser.parse_args()


def database_ready():
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            return False
    with psycopg.connect(f"{SERVER}/{DATABASE}", autocommit=True) as conn:
        try:
            (rows,) = conn.execute("SELECT count(*) FROM bookings_booking").fetchone()
        except psycopg.Error:
            return False
    return rows >= TOTAL_BOOKINGS


def heading(text):
    print(f"\n== {text}", flush=True)


# --- the data ------------------------------------------------------------------------


def build():
    """2,000 resources (rooms open 8–20 on weekdays, devices around the clock, buffers 0/15/30 min),
    USERS users, one live booking a day per resource for LIVE_DAYS days, finished ones up to 1M."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from bookings.models import OpeningHours, Resource, ResourceKind

    started = time.perf_counter()
    User = get_user_model()
    User.objects.bulk_create(User(username=f"scale-user-{i}", telegram_id=i + 1) for i in range(USERS))
    resources = Resource.objects.bulk_create(
        Resource(
            name=f"Scale {'room' if i % 2 == 0 else 'device'} {i:04d}",
            kind=ResourceKind.SPACE if i % 2 == 0 else ResourceKind.EQUIPMENT,
            category=f"{'Rooms' if i % 2 == 0 else 'Devices'} {i % 20:02d}",
            buffer_minutes=(0, 15, 30)[i % 3],
            max_advance_days=60,
        )
        for i in range(max(COUNTS))
    )
    OpeningHours.objects.bulk_create(
        OpeningHours(resource=r, weekday=d, opens="08:00", closes="20:00")
        for i, r in enumerate(resources)
        if i % 2 == 0
        for d in range(5)
    )
    with connection.cursor() as cursor:
        # Live: one a day per resource at a varying hour (8..17 local), pending or confirmed.
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
                SELECT ((current_date + d) + make_time((8 + (r.id + d) %% 10)::int, 0, 0)) AT TIME ZONE 'Europe/Berlin'
                       AS start
            ) s
            """,
            [LIVE_DAYS],
        )
        live = cursor.rowcount
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
            FROM r, u, generate_series(1::bigint, %s::bigint) AS i
            CROSS JOIN LATERAL (
                SELECT date_trunc('hour', now() - interval '1 day'
                       - make_interval(hours => ((i * 7919) %% (%s * 365 * 24))::int)) AS start
            ) t
            """,
            [TOTAL_BOOKINGS - live, PAST_YEARS],
        )
        cursor.execute("VACUUM ANALYZE")
    print(
        f"built in {time.perf_counter() - started:.0f} s: {max(COUNTS):,} resources, {USERS} users, "
        f"{live:,} live bookings (one a day per resource for {LIVE_DAYS} days) + {TOTAL_BOOKINGS - live:,} "
        f"finished over {PAST_YEARS} years"
    )


def activate(count):
    """Make the first `count` resources the active catalogue (the others inactive: not offered)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE bookings_resource SET is_active = NOT is_active "
            "WHERE is_active <> (id <= (SELECT min(id) FROM bookings_resource) + %s - 1)",
            [count],
        )
        cursor.execute("VACUUM ANALYZE bookings_resource")


# --- 1. reads ----------------------------------------------------------------------------


def percentiles(samples):
    ordered = sorted(samples)
    return round(statistics.median(ordered) * 1000, 2), round(ordered[max(int(len(ordered) * 0.95) - 1, 0)] * 1000, 2)


def timed(calls):
    times = []
    for call in calls:
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return percentiles(times)


def bench_reads(count, samples):
    from django.utils import timezone

    from bookings import availability, rules, selectors

    rng = random.Random(count)
    now = timezone.now()
    today = now.astimezone(rules.site_zone()).date()
    active = list(selectors.resources_list())
    ids = [r.pk for r in active]

    def between():
        day = today + timedelta(days=rng.randint(1, LIVE_DAYS))
        start = rules.local_midnight(day) + timedelta(hours=rng.randint(8, 17))
        return lambda: selectors.resources_free_between(start=start, end=start + timedelta(hours=1), now=now)

    from django.contrib.auth import get_user_model

    viewer = get_user_model().objects.filter(is_staff=False).order_by("pk").first()

    def first_page():
        # What the API answers (its page of 50, with the total) and the bot shows (a page of 8).
        day = today + timedelta(days=rng.randint(1, LIVE_DAYS))
        start = rules.local_midnight(day) + timedelta(hours=rng.randint(8, 17))
        return lambda: selectors.resources_free_page(
            user=viewer, start=start, end=start + timedelta(hours=1), offset=0, limit=50, now=now
        )

    def between_by_resource():
        # The path before issue 13, still the engine's fallback: the rules in Python, resource by resource.
        day = today + timedelta(days=rng.randint(1, LIVE_DAYS))
        start = rules.local_midnight(day) + timedelta(hours=rng.randint(8, 17))
        return lambda: availability.free_among(
            candidates=list(selectors.resources_list()), start=start, end=start + timedelta(hours=1), now=now
        )

    def one_day():
        resource = selectors.resource_get(resource_id=rng.choice(ids))
        day = today + timedelta(days=rng.randint(1, LIVE_DAYS))
        return lambda: selectors.resource_free_intervals(resource=resource, day=day, now=now)

    def all_day():
        day = today + timedelta(days=rng.randint(1, LIVE_DAYS))
        return lambda: availability.free_intervals_of_many(resources=selectors.resources_list(), day=day, now=now)

    figures = {}
    for name, make, n in (
        ("availability_first_page", first_page, samples),
        ("availability_first", between, samples),
        ("availability_first_by_resource", between_by_resource, max(samples // 2, 10)),
        ("free_intervals_one", one_day, samples),
        ("free_intervals_all", all_day, max(samples // 4, 10)),
    ):
        timed([make() for _ in range(max(n // 10, 3))])  # warm the caches
        figures[name] = timed([make() for _ in range(n)])
    start = rules.local_midnight(today + timedelta(days=3)) + timedelta(hours=10)
    figures["free_count"] = len(selectors.resources_free_between(start=start, end=start + timedelta(hours=1), now=now))
    return figures


def explain_availability():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from bookings import rules, selectors

    now = timezone.now()
    start = rules.local_midnight(now.astimezone(rules.site_zone()).date() + timedelta(days=3)) + timedelta(hours=10)
    with CaptureQueriesContext(connection) as captured:
        selectors.resources_free_between(start=start, end=start + timedelta(hours=1), now=now)
    heading(f"EXPLAIN ANALYZE of the {len(captured.captured_queries)} queries of availability first (2,000 resources)")
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            print("   ", query["sql"][:160].replace("\n", " ") + ("…" if len(query["sql"]) > 160 else ""))
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + query["sql"])
            for (line,) in cursor.fetchall():
                print("       ", line[:200] + ("…" if len(line) > 200 else ""))


# --- 2. creation ---------------------------------------------------------------------------


def bench_creation(count):
    import psycopg
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from bookings import rules, services
    from bookings.models import QuotaKind, QuotaPeriod, QuotaRule, Resource, ResourceKind

    user = get_user_model().objects.create_user(username="scale-creator", telegram_id=10**9)
    make = dict(kind=ResourceKind.SPACE, max_advance_days=366, max_duration_minutes=60)
    via_service = Resource.objects.create(name="Scale bench: service", **make)
    via_sql = Resource.objects.create(name="Scale bench: raw SQL", **make)
    via_floor = Resource.objects.create(name="Scale bench: its statements alone", **make)
    rule = QuotaRule.objects.create(kind=QuotaKind.BOOKINGS, period=QuotaPeriod.DAY, limit=1000)
    now = timezone.now()
    first = rules.round_up_to_grid(via_service, now + timedelta(hours=1))
    slots = [(first + timedelta(hours=i), first + timedelta(hours=i, minutes=30)) for i in range(2 * count + 1)]

    # Queries of one booking_create (the first slot), then the timed run over the others.
    statements = []

    def keep_statement(execute, sql, params, many, context):
        statements.append((sql, dict(params)))
        return execute(sql, params, many, context)

    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(keep_statement):
        services.booking_create(user=user, resource=via_service, start=slots[0][0], end=slots[0][1], now=now)
    queries = [q["sql"] for q in captured.captured_queries]

    in_queries = [0.0]

    def timed_query(execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            in_queries[0] += time.perf_counter() - began

    # Timed bare; the time in its queries is measured on a further run of the same length, since the
    # wrapper that measures it is Python of its own.
    started = time.perf_counter()
    for start, end in slots[1 : count + 1]:
        services.booking_create(user=user, resource=via_service, start=start, end=end, now=now)
    service_seconds = time.perf_counter() - started
    with connection.execute_wrapper(timed_query):
        for start, end in slots[count + 1 :]:
            services.booking_create(user=user, resource=via_service, start=start, end=end, now=now)

    insert = """
        INSERT INTO bookings_booking
            (resource_id, user_id, start, "end", blocked_until, status, note, created_at, updated_at)
        VALUES (%s, %s, %s, %s, %s, 'confirmed', '', now(), now())
    """
    with psycopg.connect(f"{SERVER}/{DATABASE}") as raw:
        started = time.perf_counter()
        for start, end in slots[1 : count + 1]:
            raw.execute(insert, [via_sql.pk, user.pk, start, end, end])
            raw.commit()
        sql_seconds = time.perf_counter() - started

        # booking_create's own statements (BEGIN, the lock, the reading statement, COMMIT) sent by bare
        # psycopg, prepared, for a third resource: its floor with no Django and no checks in Python.
        started = time.perf_counter()
        for start, end in slots[1 : count + 1]:
            for sql, params in statements:
                params.update(resource=via_floor.pk, resource_id=via_floor.pk, start=start, end=end)
                params.update(blocked_until=end, check_in_deadline=None)
                raw.execute(sql, params, prepare=True)
            raw.commit()
        floor_seconds = time.perf_counter() - started

    service_rate, sql_rate = count / service_seconds, count / sql_seconds
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM bookings_bookingevent WHERE booking_id IN "
            "(SELECT id FROM bookings_booking WHERE resource_id IN (%s, %s, %s))",
            [via_service.pk, via_sql.pk, via_floor.pk],
        )
        cursor.execute(
            "DELETE FROM bookings_booking WHERE resource_id IN (%s, %s, %s)", [via_service.pk, via_sql.pk, via_floor.pk]
        )
    rule.delete()
    Resource.objects.filter(pk__in=[via_service.pk, via_sql.pk, via_floor.pk]).delete()
    user.delete()
    return {
        "service_rate": round(service_rate),
        "service_ms": round(service_seconds * 1000 / count, 3),
        "raw_rate": round(sql_rate),
        "raw_ms": round(sql_seconds * 1000 / count, 3),
        "ratio": round(service_rate / sql_rate, 3),
        "floor_ms": round(floor_seconds * 1000 / count, 3),
        "floor_ratio": round(sql_seconds / floor_seconds, 3),
        "queries": len(queries),
        "in_queries_ms": round(in_queries[0] * 1000 / count, 3),
        "query_list": queries,
    }


# --- report -----------------------------------------------------------------------------------


READ_ROWS = (
    ("availability_first_page", "availability first, a page of 50 + total"),
    ("availability_first", "  every free one (all free for 1 h)"),
    ("availability_first_by_resource", "  the same, resource by resource (before)"),
    ("free_intervals_one", "a day's free intervals, one resource"),
    ("free_intervals_all", "a day's free intervals, every resource"),
)


def print_reads(reads):
    print(f"\n{'':40} | " + " | ".join(f"{c:>5,} res p50 / p95 ms" for c in COUNTS) + " | growth 50→2,000 (p50)")
    for key, title in READ_ROWS:
        cells = [reads[str(c)][key] for c in COUNTS]
        growth = cells[-1][0] / cells[0][0] if cells[0][0] else 0
        print(f"{title:40} | " + " | ".join(f"{p50:>9.2f} / {p95:<9.2f}" for p50, p95 in cells) + f" | {growth:.1f}x")
    print("free resources at 10:00–11:00 on day 3: " + ", ".join(f"{reads[str(c)]['free_count']}" for c in COUNTS))


def print_creation(c):
    print(f"booking_create : {c['service_rate']:6} bookings/s ({c['service_ms']:.2f} ms each, {c['queries']} queries)")
    print(f"raw INSERT     : {c['raw_rate']:6} bookings/s ({c['raw_ms']:.2f} ms each, 1 query + commit)")
    print(f"ratio booking_create / raw INSERT: {c['ratio']:.2f}x")
    if "floor_ms" in c:
        print(
            f"its statements alone (bare psycopg): {c['floor_ms']:.2f} ms each, {c['floor_ratio']:.2f}x the raw INSERT "
            f"rate; Django and the checks add {c['service_ms'] - c['floor_ms']:.2f} ms"
        )
    if "in_queries_ms" in c:
        per_query = c["in_queries_ms"] / max(c["queries"] - 2, 1)
        print(
            f"of booking_create's {c['service_ms']:.2f} ms: {c['in_queries_ms']:.2f} ms in its queries "
            f"(~{per_query:.2f} ms per query; BEGIN/COMMIT not counted), the rest is Python"
        )
    for i, sql in enumerate(c["query_list"], 1):
        sql = sql or "(a prepared statement: psycopg does not give its text back)"
        print(f"   {i:2}. {sql[:130]}" + ("…" if len(sql) > 130 else ""))


def print_before_after(before, after):
    heading("Before / after (p95 ms unless said; before = " + before.get("label", "baseline") + ")")
    print(f"{'figure':58} | {'before':>10} | {'after':>10}")
    for count in COUNTS:
        for key, title in READ_ROWS:
            b, a = before["reads"].get(str(count), {}).get(key), after["reads"].get(str(count), {}).get(key)
            if key == "availability_first_by_resource":
                continue  # the before path measured in this run: printed below
            if b and a:
                print(f"{title + f', {count:,} res, p95':58} | {b[1]:>10.2f} | {a[1]:>10.2f}")
    for count in COUNTS:
        b = before["reads"].get(str(count), {}).get("availability_first")
        a = after["reads"].get(str(count), {}).get("availability_first_page")
        if b and a:  # what the API and the bot answer: every free resource before, a page (+ total) now
            print(
                f"{f'availability first as answered (a page of 50), {count:,} res, p95':58} | {b[1]:>10.2f} | {a[1]:>10.2f}"
            )
    print("in this run, availability first p95, resource by resource (the code before) → one query:")
    for count in COUNTS:
        cells = after["reads"].get(str(count), {})
        if "availability_first_by_resource" in cells:
            b, a = cells["availability_first_by_resource"][1], cells["availability_first"][1]
            print(f"    {count:>5,} resources: {b:8.2f} → {a:8.2f} ms ({b / a:.1f}x faster)")
    if before.get("creation") and after.get("creation"):
        b, a = before["creation"], after["creation"]
        print(f"{'booking_create / raw INSERT (ratio)':58} | {b['ratio']:>10.2f} | {a['ratio']:>10.2f}")
        print(f"{'booking_create bookings/s':58} | {b['service_rate']:>10} | {a['service_rate']:>10}")
        print(f"{'raw INSERT bookings/s (same run)':58} | {b['raw_rate']:>10} | {a['raw_rate']:>10}")
        print(f"{'booking_create queries':58} | {b['queries']:>10} | {a['queries']:>10}")


def main():
    args = parse_args()
    began = time.perf_counter()
    fresh = not (args.reuse and database_ready())
    if fresh:
        benchkit.recreate_database(DATABASE)
    try:
        benchkit.set_up_django(DATABASE, DATABASE_STATEMENT_TIMEOUT_MS="0")
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            print(f"PostgreSQL {cursor.fetchone()[0]}, {os.cpu_count()} CPUs, database {DATABASE}")
        print("load average (1, 5, 15 min) at the start: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
        if fresh:
            build()
        results = {"label": args.save or "this run", "reads": {}}
        if not args.skip_reads:
            heading(f"Reads with 1M bookings; {args.samples} calls per figure, random days and hours")
            for count in COUNTS:
                activate(count)
                results["reads"][str(count)] = bench_reads(count, args.samples)
                print(f"  {count:>5,} resources: {results['reads'][str(count)]}", flush=True)
            print_reads(results["reads"])
            explain_availability()
        if not args.skip_create:
            heading(f"Creation: {args.create} bookings through booking_create vs raw INSERTs (one commit each)")
            results["creation"] = bench_creation(args.create)
            print_creation(results["creation"])
        activate(max(COUNTS))
        connection.close()
    finally:
        if not args.reuse:
            benchkit.drop_database(DATABASE)
    if args.save:
        Path(args.save).parent.mkdir(parents=True, exist_ok=True)
        Path(args.save).write_text(json.dumps(results, indent=1) + "\n")
    if args.before:
        print_before_after(json.loads(Path(args.before).read_text()), results)
    print(f"\ntotal {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
