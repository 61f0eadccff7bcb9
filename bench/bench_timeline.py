"""Benchmark of the day timeline picture: prints figures, asserts nothing.

    .venv/bin/python bench/bench_timeline.py                 # 50 resources, 30 samples, 8 users in the session
    .venv/bin/python bench/bench_timeline.py --resources 20 --samples 10 --users 4

1. Rendering a day of N resources (each with opening hours, 6 bookings of
   mixed statuses, some closures): the selector (bookings.timeline.day_timeline),
   the drawing (bot.timeline_picture.render_png, Pillow), both together, and
   the fingerprint the cache is keyed by; p50 / p95 in ms, and the PNG's size.
2. The cache over a scripted session through the real bot and the sandbox:
   users open resource cards and pools, press 🖼 Day view, walk the days with
   ◀ ▶, and between the rounds some of them book (which bumps that day's
   version). Printed: pictures drawn and uploaded, pictures re-sent by file_id,
   and the hit ratio (re-sent / shown).

Its own database (slotbot_bench_timeline, created and dropped here); the
cache is Django's in-memory one (no Redis: no lock needed).
"""

import argparse
import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE = "slotbot_bench_timeline"
os.environ.update(
    DJANGO_SETTINGS_MODULE="core.settings",
    DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
    SECRET_KEY=os.environ.get("SECRET_KEY", "bench-only-secret-key"),
    TELEGRAM_BOT_TOKEN="123456:slotbot-bench-token",
    TIME_ZONE="Europe/Berlin",
    REDIS_URL="",
    LOG_LEVEL="CRITICAL",
)
TOKEN = os.environ["TELEGRAM_BOT_TOKEN"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=int, default=50, help="resources in the rendered day")
    parser.add_argument("--samples", type=int, default=30, help="renders per figure")
    parser.add_argument("--users", type=int, default=8, help="users in the scripted session")
    return parser.parse_args()


def admin_execute(sql):
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as connection:
        connection.execute(sql)


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def figures(name, seconds):
    ms = [s * 1000 for s in seconds]
    print(f"  {name:<34} p50 {statistics.median(ms):7.1f} ms   p95 {percentile(ms, 0.95):7.1f} ms")


def make_day(count, day):
    """`count` resources open 08:00–20:00 with 6 bookings each on `day` (mixed statuses) and a few closures."""
    from bookings.models import Booking, BookingStatus, Closure, ClosureReason, OpeningHours, Resource, ResourceKind
    from bookings.rules import site_zone
    from core.models import User

    zone = site_zone()
    users = [User.objects.create_user(username=f"bench{n}", password="x") for n in range(5)]
    resources = []
    statuses = [BookingStatus.CONFIRMED, BookingStatus.PENDING, BookingStatus.ACTIVE, BookingStatus.CONFIRMED]
    for n in range(count):
        resource = Resource.objects.create(name=f"Bench resource {n:03d}", kind=ResourceKind.EQUIPMENT)
        OpeningHours.objects.bulk_create(
            OpeningHours(resource=resource, weekday=w, opens=clock(8), closes=clock(20)) for w in range(7)
        )
        rows = []
        for i in range(6):
            start = datetime.combine(day, clock(8 + 2 * i, 30 * (n % 2)), tzinfo=zone)
            end = start + timedelta(minutes=60 + 30 * (i % 2))
            status = statuses[(n + i) % len(statuses)]
            rows.append(
                Booking(
                    resource=resource, user=users[(n + i) % 5], start=start, end=end, blocked_until=end, status=status
                )
            )
        Booking.objects.bulk_create(rows)
        if n % 7 == 0:
            Closure.objects.create(
                resource=resource,
                start=datetime.combine(day, clock(18), tzinfo=zone),
                end=datetime.combine(day, clock(20), tzinfo=zone),
                reason_kind=ClosureReason.MAINTENANCE,
            )
        resources.append(resource)
    return users, resources


def bench_render(options):
    from django.utils import translation

    from bookings import selectors, timeline
    from bookings.rules import site_zone
    from bot import texts
    from bot.timeline_picture import Words, render_png

    day = date.today() + timedelta(days=1)
    users, _ = make_day(options.resources, day)
    resources = list(selectors.resources_list())
    zone = site_zone()
    with translation.override("en"):
        words = Words(
            title=texts.timeline_title(str(texts.TIMELINE_ALL_RESOURCES), day),
            subtitle=texts.timeline_zone_line(str(zone)),
            legend={state: str(label) for state, label in texts.TIMELINE_LEGEND.items()},
            now=str(texts.TIMELINE_NOW),
        )
    select, draw, both, fingerprint = [], [], [], []
    size = 0
    for _ in range(options.samples):
        started = time.perf_counter()
        found = timeline.day_timeline(resources=resources, day=day, zone=zone, viewer=users[0])
        selected = time.perf_counter()
        png = render_png(found, words)
        drawn = time.perf_counter()
        timeline.day_timeline_fingerprint(resources=resources, day=day, zone=zone, viewer=users[0])
        printed = time.perf_counter()
        select.append(selected - started)
        draw.append(drawn - selected)
        both.append(drawn - started)
        fingerprint.append(printed - drawn)
        size = len(png)
    print(f"Rendering a day of {len(resources)} resources ({options.samples} samples), PNG {size / 1024:.0f} KiB:")
    figures("selector (day_timeline)", select)
    figures("drawing (Pillow render_png)", draw)
    figures("selector + drawing (a cache miss)", both)
    figures("fingerprint (what a hit costs)", fingerprint)


def bench_session(options):
    from bookings import pools as pool_domain
    from bookings import rules, services
    from bookings.models import Pool, Resource, ResourceKind
    from bot import callbacks as cb
    from bot.app import build_application
    from bot.flood import FloodGuard
    from bot.handlers import timeline as handlers
    from core.models import User
    from sandbox.testing import run_sandbox

    rooms = [Resource.objects.create(name=f"Session room {n}", kind=ResourceKind.SPACE) for n in range(3)]
    pool = Pool.objects.create(name="Session laptops")
    for n in range(4):
        Resource.objects.create(name=f"Session laptop {n}", kind=ResourceKind.EQUIPMENT, pool=pool)
    booker = User.objects.create_user(username="session-booker", password="x")
    units = pool_domain.pool_units(pool=pool)
    handlers.STATS.clear()
    presses = 0
    with run_sandbox(tokens=[TOKEN], flood_limits=False) as sandbox:
        users = [sandbox.user(f"User {n}", language_code="ru" if n % 4 == 3 else "en") for n in range(options.users)]
        application = build_application(
            token=TOKEN,
            base_url=sandbox.base_url,
            rate_limit=False,
            flood_guard=FloodGuard(limit=10_000, window_seconds=1),
        )
        with sandbox.polling(application, poll_timeout=0.5):
            menus = {}
            for user in users:
                user.send("/start")
                menus[user.id] = user.expect_message()["message_id"]
            today = rules.today_in()
            for round_ in range(3):
                for n, user in enumerate(users):
                    if n % 2:
                        first = cb.data(cb.TIMELINE_RESOURCE, rooms[(n + round_) % len(rooms)].pk, today)
                    else:
                        first = cb.data(cb.TIMELINE_POOL, pool.pk, today)
                    user.press(first, menus[user.id], forge=True).answer()
                    photo = user.expect_message()
                    presses += 1
                    for arrow in ("▶", "▶", "◀", "◀"):
                        user.press(arrow, photo["message_id"]).answer()
                        user.expect_message()
                        presses += 1
                # Between rounds someone books: that day (today or tomorrow) is drawn anew once per view.
                start = datetime.combine(
                    today + timedelta(days=round_ % 2), clock(9 + round_), tzinfo=rules.site_zone()
                )
                for resource in (rooms[round_ % len(rooms)], units[round_ % len(units)]):
                    services.booking_create(
                        user=booker,
                        resource=resource,
                        start=start,
                        end=start + timedelta(hours=1),
                        now=start - timedelta(days=1),
                    )
        application_stats = dict(handlers.STATS)
    drawn, reused = application_stats.get("drawn", 0), application_stats.get("reused", 0)
    print(
        f"Scripted session: {len(users)} users (a quarter in Russian), 3 rounds of Day view + ▶ ▶ ◀ ◀ on rooms and a pool, "
        f"2 bookings between rounds; {presses} pictures shown"
    )
    print(f"  drawn and uploaded {drawn}, re-sent by file_id {reused}, stale {application_stats.get('stale', 0)}")
    print(f"  cache hit ratio {reused / max(1, drawn + reused):.0%}")


def main():
    options = parse_args()
    admin_execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    admin_execute(f'CREATE DATABASE "{DATABASE}"')
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        bench_render(options)
        bench_session(options)
    finally:
        from django.db import connections

        connections.close_all()
        from bot.sync import close_db_threads

        close_db_threads()
        admin_execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


if __name__ == "__main__":
    main()
