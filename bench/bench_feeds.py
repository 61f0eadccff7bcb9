"""Benchmark of the calendar feeds: prints figures, asserts nothing.

    .venv/bin/python bench/bench_feeds.py                    # feeds of 10, 100 and 500 events, 100 samples
    .venv/bin/python bench/bench_feeds.py --events 10,100 --samples 30

For a user whose feed holds N events (live and recent bookings) in a table
that also holds 100,000 other bookings, the latency (p50/p95) of
`GET /calendar/<token>.ics` through Django's full request stack: a full
answer (200, the feed rendered with icalendar), and a conditional GET that
matches (304: the version comes from one aggregate query, nothing is
rendered); the size of the answer; the same for the resource's public feed;
and rendering the feed itself with icalendar, uncached (median and worst
of a few), which a 200 pays once per version of the feed.

It works in its own database (slotbot_bench_feeds on 127.0.0.1:5432,
created and dropped here), never in the development or test ones.
"""

import argparse
import statistics
import time
from datetime import timedelta

import benchkit

DATABASE = "slotbot_bench_feeds"
OTHER_BOOKINGS = 100_000


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", default="10,100,500", help="events per feed (comma-separated)")
    parser.add_argument("--samples", type=int, default=100, help="requests per figure")
    return parser.parse_args()


def bookings(user, resource, count, first):
    """`count` one-hour bookings from `first` on, one every 3 hours, some of each status."""
    from bookings.models import Booking, BookingStatus

    statuses = [BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.CANCELLED, BookingStatus.PENDING]
    rows = []
    for i in range(count):
        start = first + timedelta(hours=3 * i)
        end = start + timedelta(hours=1)
        rows.append(
            Booking(
                user=user,
                resource=resource,
                start=start,
                end=end,
                blocked_until=end,
                status=statuses[i % len(statuses)],
            )
        )
    Booking.objects.bulk_create(rows, batch_size=5000)


def measure(client, path, samples, **headers):
    times, size, status = [], 0, None
    for _ in range(samples):
        started = time.perf_counter()
        response = client.get(path, **headers)
        times.append((time.perf_counter() - started) * 1000)
        size, status = len(response.content), response.status_code
    return status, *benchkit.p50_p95(times), size


def main():
    args = parse_args()
    with benchkit.bench_database(
        DATABASE,
        quiet=(),
        TELEGRAM_BOT_USERNAME="slotbot_bench_bot",
        ALLOWED_HOSTS="testserver",
        CALENDAR_FEED_BURST="1000000",
        CALENDAR_FEED_RATE_PER_MINUTE="6000",
        REDIS_URL="",
    ):
        from django.contrib.auth import get_user_model
        from django.test import Client
        from django.utils import timezone

        from bookings import feeds
        from bookings.models import Resource, ResourceKind

        users = get_user_model()
        crowd = users.objects.create_user(username="crowd")
        past = timezone.now() - timedelta(days=3 * 365)
        for n in range(10):
            resource = Resource.objects.create(name=f"Crowd room {n}", kind=ResourceKind.SPACE)
            bookings(crowd, resource, OTHER_BOOKINGS // 10, past)
        print(f"{OTHER_BOOKINGS:,} other bookings in the table\n")
        client = Client()
        print("feed                         events  status   p50 ms   p95 ms   bytes")
        for count in [int(n) for n in args.events.split(",")]:
            user = users.objects.create_user(username=f"reader{count}", language_code="en")
            resource = Resource.objects.create(
                name=f"Studio {count}", kind=ResourceKind.SPACE, location="Building B", public_feed=True
            )
            feeds.resource_public_feed_prepare(resource)
            resource.save()
            # Half in the last days, half to come: all inside the feed's window.
            bookings(user, resource, count, timezone.now() - timedelta(hours=3 * (count // 2)))
            row = feeds.calendar_token_get_or_create(user=user)
            render = feeds.user_feed(row=row).render
            times = []
            for _ in range(max(3, args.samples // 10)):
                started = time.perf_counter()
                render()
                times.append((time.perf_counter() - started) * 1000)
            print(
                f"{'personal, render (uncached)':<28} {count:>6}  {'-':>6}  {statistics.median(times):7.2f}  {max(times):7.2f}"
            )
            for label, path in (
                ("personal", feeds.calendar_feed_url(row=row)),
                ("resource (public)", feeds.resource_feed_url(resource=resource)),
            ):
                path = path.removeprefix(feeds.settings.PUBLIC_BASE_URL)
                first = client.get(path)
                for kind, headers in (("200", {}), ("304", {"HTTP_IF_NONE_MATCH": first["ETag"]})):
                    status, p50, p95, size = measure(client, path, args.samples, **headers)
                    print(f"{label + ' ' + kind:<28} {count:>6}  {status:>6}  {p50:7.2f}  {p95:7.2f}  {size:>6}")


if __name__ == "__main__":
    main()
