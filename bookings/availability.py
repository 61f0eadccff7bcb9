"""The availability engine: what is free when, computed from the booking rules.

Free intervals of a day, the grid starts and the lengths that fit there, the
dates that hold one, availability first (which resources are free for a
range) and the nearest alternatives after "slot taken". Free time follows the
same rules the services enforce (bookings.rules), so what is offered,
booking_create accepts; the overlap query here is the one booking_create
checks too. Callers outside the package use the selectors in
bookings.selectors, which delegate here.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from django.db import connection
from django.db.models import BooleanField, Count, Q, QuerySet, Window
from django.db.models.expressions import RawSQL
from django.utils import timezone

from bookings import errors, policies, rules
from bookings.models import LIVE_STATUSES, Booking, BookingStatus, Resource


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime

    @property
    def length(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class FreeStart:
    """A start time one may book, with the lengths (real elapsed time) that fit there."""

    start: datetime
    durations: tuple[timedelta, ...]

    def end_after(self, duration: timedelta) -> datetime:
        """The end of a booking of `duration` from this start (right on DST days too)."""
        return rules.add_elapsed(self.start, duration)


def live_bookings_meeting(*, resource_ids: Iterable[int], start: datetime, end: datetime) -> QuerySet[Booking]:
    """Live bookings of these resources whose held time (buffer included, see held_until) meets [start, end)."""
    return Booking.objects.filter(
        Q(blocked_until__gt=start) | Q(status=BookingStatus.OVERDUE),
        Q(resource_id__in=resource_ids),
        status__in=LIVE_STATUSES,
        start__lt=end,
    ).order_by("start")


# "Until the item is back": later than any booking, with room for arithmetic.
NOT_BACK = datetime(9000, 1, 1, tzinfo=UTC)


def held_until(booking):
    """Until when `booking` keeps its resource from new bookings: its blocked_until, or, overdue, for as long
    as the item is not back (nobody can be promised it). Bookings made before it went overdue keep their time;
    the exclusion constraint still keeps every live [start, blocked_until) apart."""
    return NOT_BACK if booking.status == BookingStatus.OVERDUE else booking.blocked_until


def free_intervals(
    *,
    resource: Resource,
    day: date,
    now: datetime | None = None,
    overnight: bool = False,
    ignoring: int | None = None,
) -> list[Interval]:
    """The free intervals of a local date (see selectors.resource_free_intervals); with `overnight`,
    a resource open around the clock stays open past midnight for as long as a booking may last.
    `ignoring`: a booking id whose time counts as free (the booking being moved: bookings.reschedule)."""
    return _free_intervals(resource, day, now=now or timezone.now(), overnight=overnight, ignoring=ignoring)


def free_intervals_of_many(*, resources, day, now=None):
    """{resource id: free intervals of `day`} for many resources (a pool's units) in two queries
    (live bookings, closures) besides the resources' opening hours, which the caller prefetches."""
    now = now or timezone.now()
    resources = list(resources)
    if not resources:
        return {}
    # Wide enough for any window free_intervals looks at: the local day, its buffers and clock changes.
    around = _midnight(day, rules.site_zone())
    window = (around - timedelta(days=1), around + timedelta(days=2))
    ids = [r.pk for r in resources]
    live = {pk: [] for pk in ids}
    for b in live_bookings_meeting(resource_ids=ids, start=window[0], end=window[1]):
        live[b.resource_id].append(b)
    closed = policies.closures_between(resource_ids=ids, start=window[0], end=window[1])
    return {r.pk: _free_intervals(r, day, now=now, live=live[r.pk], closed=closed.get(r.pk, ())) for r in resources}


def _free_intervals(resource, day, *, now, overnight=False, live=None, closed=None, ignoring=None):
    """free_intervals' work; `live` and `closed`, when given, are this resource's live bookings and
    closures around the day (already fetched), filtered here to the day's window."""
    if not resource.is_active or day > rules.last_bookable_day(resource, now):
        return []
    earliest = rules.earliest_start(resource, now)
    opening = rules.opening_intervals(resource, day)
    if overnight and not resource.opening_hours.all():
        longest = timedelta(minutes=resource.max_duration_minutes)
        opening = [(opening[0][0], rules.add_elapsed(opening[0][1], longest))]
    open_intervals = [Interval(max(opens, earliest), closes) for opens, closes in opening if closes > earliest]
    if not open_intervals:
        return []
    window_start = open_intervals[0].start
    window_end = open_intervals[-1].end
    if live is None:
        live = live_bookings_meeting(resource_ids=[resource.pk], start=window_start - resource.buffer, end=window_end)
    taken = [
        Interval(b.start - resource.buffer, held_until(b))
        for b in live
        if b.start < window_end and held_until(b) > window_start - resource.buffer and b.pk != ignoring
    ]
    # Closed time is not free: a booking may not meet a closure (its buffer may).
    if closed is None:
        closed = policies.closures_between(resource_ids=[resource.pk], start=window_start, end=window_end).get(
            resource.pk, ()
        )
    taken += [Interval(c.start, c.end) for c in closed if c.start < window_end and c.end > window_start]
    minimum = timedelta(minutes=resource.min_duration_minutes)
    free = []
    for interval in _subtract(open_intervals, taken):
        start = rules.round_up_to_grid(resource, interval.start)
        end = rules.round_down_to_grid(resource, interval.end)
        if rules.length_of(start, end) >= minimum:
            free.append(Interval(start, end))
    return free


def free_starts(
    *,
    resource: Resource,
    day: date,
    zone: tzinfo | None = None,
    now: datetime | None = None,
    ignoring: int | None = None,
) -> list[FreeStart]:
    """Each grid start on `day` (a date in `zone`) where some allowed length fits, with those lengths
    (`ignoring`: a booking whose own time counts as free, see free_intervals)."""
    zone = zone or rules.site_zone()
    lengths = rules.durations(resource)
    starts = []
    window = (_midnight(day, zone), _midnight(day + timedelta(days=1), zone))
    for moment, limit in _grid_starts(resource, *window, now, ignoring=ignoring):
        fitting = tuple(d for d in lengths if _fits(resource, moment, d, limit))
        if fitting:
            starts.append(FreeStart(moment, fitting))
    return starts


def free_days(
    *,
    resource: Resource,
    first: date,
    last: date,
    zone: tzinfo | None = None,
    now: datetime | None = None,
    ignoring: int | None = None,
) -> set[date]:
    """The dates from `first` to `last` (in `zone`) that hold a free start (`ignoring`: see free_intervals)."""
    zone = zone or rules.site_zone()
    lengths = rules.durations(resource)
    days = set()
    window = (_midnight(first, zone), _midnight(last + timedelta(days=1), zone))
    for moment, limit in _grid_starts(resource, *window, now, ignoring=ignoring):
        day = moment.astimezone(zone).date()
        # One start per date settles it; the calendar need not know every length that fits.
        if day not in days and any(_fits(resource, moment, d, limit) for d in lengths):
            days.add(day)
    return days


def bookable_dates(*, resource: Resource, zone: tzinfo | None = None, now: datetime | None = None) -> tuple[date, date]:
    """(today, the last date one may book on) as dates in `zone` (see selectors.resource_bookable_dates)."""
    now = now or timezone.now()
    zone = zone or rules.site_zone()
    horizon = rules.local_midnight(rules.last_bookable_day(resource, now) + timedelta(days=1))
    return rules.today_in(zone, now=now), (horizon - timedelta(microseconds=1)).astimezone(zone).date()


def _midnight(day, zone):
    return datetime.combine(day, time.min, tzinfo=zone)


def _grid_starts(resource, start, end, now, ignoring=None):
    """(grid start, end of its free interval) from `start` (inclusive) to `end` (exclusive)
    where the shortest length fits, over each of the site's days the range spans."""
    now = now or timezone.now()
    site_day = start.astimezone(rules.site_zone()).date()
    last_site_day = (end - timedelta(microseconds=1)).astimezone(rules.site_zone()).date()
    start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    # The range's live bookings and closures in one query each, not one a day: each day keeps those meeting
    # its own window (its site day, an overnight stretch of the longest booking, the buffer before it).
    reach = timedelta(days=2, minutes=resource.max_duration_minutes) + resource.buffer
    around = (start - reach, end + reach)
    live = list(live_bookings_meeting(resource_ids=[resource.pk], start=around[0], end=around[1]))
    closed = policies.closures_between(resource_ids=[resource.pk], start=around[0], end=around[1]).get(resource.pk, ())
    while site_day <= last_site_day:
        for moment, limit in _grid_starts_of_site_day(resource, site_day, now, ignoring, live=live, closed=closed):
            if start_utc <= moment < end_utc:
                yield moment, limit
        site_day += timedelta(days=1)


def _grid_starts_of_site_day(resource, day, now, ignoring, *, live, closed):
    lengths = rules.durations(resource)
    if not lengths:
        return
    day_end = rules.local_midnight(day + timedelta(days=1))
    free = _free_intervals(resource, day, now=now, overnight=True, live=live, closed=closed, ignoring=ignoring)
    for interval in free:
        moment = interval.start
        while moment < day_end and _fits(resource, moment, lengths[0], interval.end, on_grid=False):
            yield moment, interval.end
            # The next grid point in real time (local + timedelta drops `fold`, which would step back an
            # hour in the repeated autumn hour); on the spring day this skips the hour that does not exist.
            moment = rules.round_up_to_grid(resource, rules.add_elapsed(moment, timedelta(seconds=1)))


def _fits(resource, start, duration, limit, *, on_grid=True):
    """A booking of `duration` (real time) from `start` ends by `limit` (and on the grid)."""
    end = rules.add_elapsed(start, duration)
    # Compared in UTC: within one zone Python compares wall-clock times, wrong in the autumn fold.
    return end.astimezone(UTC) <= limit.astimezone(UTC) and (not on_grid or rules.is_on_grid(resource, end))


def durations_at(
    *, resource: Resource, start: datetime, now: datetime | None = None, ignoring: int | None = None
) -> tuple[timedelta, ...]:
    """The allowed lengths of a booking starting at `start` (empty if none fits)."""
    day = start.astimezone(rules.site_zone()).date()
    for free_start in free_starts(resource=resource, day=day, now=now, ignoring=ignoring):
        if free_start.start == start:
            return free_start.durations
    return ()


def free_among(
    *, candidates: list[Resource], start: datetime, end: datetime, now: datetime | None = None
) -> list[Resource]:
    """Those of `candidates` that a booking from start to end would be accepted for: one query
    for the live bookings and one for the closures that meet the range, whatever the number of
    candidates."""
    now = now or timezone.now()
    if not candidates:
        return []
    max_buffer = max(r.buffer for r in candidates)
    busy = {}
    for b in live_bookings_meeting(
        resource_ids=[r.pk for r in candidates], start=start - max_buffer, end=end + max_buffer
    ):
        busy.setdefault(b.resource_id, []).append(b)
    closed = policies.closures_between(resource_ids=[r.pk for r in candidates], start=start, end=end)
    free = []
    for resource in candidates:
        if resource.pk in closed:
            continue
        if any(b.start < end + resource.buffer and held_until(b) > start for b in busy.get(resource.pk, ())):
            continue
        try:
            rules.validate_booking_times(resource, start, end, now=now)
        except errors.BookingError:
            continue
        free.append(resource)
    return free


def free_resources(*, resources: QuerySet[Resource], start: datetime, end: datetime, now: datetime | None = None):
    """Availability first: those of `resources` (a queryset) that a booking from start to end would be
    accepted for, in the queryset's order. On PostgreSQL one query decides for every resource at once
    (FREE_RESOURCES_SQL: the booking rules, the live bookings, the closures); elsewhere, and on a day
    the clocks change (local-time rules are then computed by free_among's Python), free_among."""
    now = now or timezone.now()
    free = _free_in_sql(start, end, now)
    if free is None:
        return free_among(candidates=list(resources), start=start, end=end, now=now)
    if free is NOTHING_FREE:
        return []
    return list(resources.prefetch_related(None).filter(free))


@dataclass(frozen=True)
class Page:
    """One page of a longer answer: its items, and how many there are in all."""

    items: list
    total: int


def free_resources_page(
    *, resources: QuerySet[Resource], start: datetime, end: datetime, offset: int, limit: int, now=None
) -> Page:
    """free_resources cut to `limit` of them from `offset`, with their total: on PostgreSQL one query,
    which builds only the page's rows (an institution's catalogue may have thousands free at once)."""
    now = now or timezone.now()
    free = _free_in_sql(start, end, now)
    if free is None:
        every = free_among(candidates=list(resources), start=start, end=end, now=now)
        return Page(every[offset : offset + limit], len(every))
    if free is NOTHING_FREE:
        return Page([], 0)
    found = resources.prefetch_related(None).filter(free)
    rows = list(found.annotate(free_total=Window(Count("pk")))[offset : offset + limit])
    # Past the last page the window has no row to ride on: then the total is counted on its own.
    return Page(rows, rows[0].free_total if rows else (found.count() if offset else 0))


NOTHING_FREE = RawSQL("false", [], output_field=BooleanField())


def _free_in_sql(start, end, now):
    """FREE_RESOURCES_SQL bound for start..end as a WHERE clause on resources; NOTHING_FREE when every
    resource refuses the range; None when free_among's Python must decide (not PostgreSQL, or a DST day)."""
    site = rules.site_zone()
    start_local, end_local = rules.normalised(start), rules.normalised(end)
    day = start_local.date()
    if connection.vendor != "postgresql" or _clock_changes_on(day, site):
        return None
    start_minutes, start_leftover = rules.minutes_since_local_midnight(start)
    end_minutes, end_leftover = rules.minutes_since_local_midnight(end)
    if end <= start or start < now or start_leftover or end_leftover:
        return NOTHING_FREE  # every resource refuses these (invalid range, in the past, off every grid)
    params = {
        "start": start.astimezone(UTC),
        "end": end.astimezone(UTC),
        "now": now.astimezone(UTC),
        "live": list(LIVE_STATUSES),
        "overdue": BookingStatus.OVERDUE.value,
        "start_minutes": start_minutes,
        "end_minutes": end_minutes,
        "length_minutes": rules.length_of(start, end).total_seconds() / 60,
        "start_day": day,
        "today": rules.today_in(now=now),
        "weekday": day.weekday(),
        "start_clock": start_local.time(),
        "end_clock": end_local.time(),
        "end_same_day": end_local.date() == day,
    }
    sql, values = _named_to_positional(FREE_RESOURCES_SQL, params)
    # A constant statement with bound parameters. Prefetches of the candidates (opening hours) are not needed.
    return RawSQL(f"({sql})", values, output_field=BooleanField())  # noqa: S611


# Availability first for every resource in one statement (PostgreSQL), the same rules as free_among:
# rules.validate_booking_times (grid, length, notice, how far ahead, opening hours — as local wall-clock
# times, exact on a day without a clock change), no closure meets the range, and no live booking meets
# [start, end + the resource's buffer) (an overdue one holds its item until it is back). The bookings
# that meet the range are found once through the exclusion constraint's GiST index (whatever the
# resource), not once per resource.
FREE_RESOURCES_SQL = """
"bookings_resource"."is_active" AND "bookings_resource"."out_of_service_since" IS NULL
AND %(start_minutes)s %% "bookings_resource"."slot_minutes" = 0
AND %(end_minutes)s %% "bookings_resource"."slot_minutes" = 0
AND "bookings_resource"."min_duration_minutes" <= %(length_minutes)s
AND %(length_minutes)s <= "bookings_resource"."max_duration_minutes"
AND %(start)s::timestamptz >= %(now)s::timestamptz + make_interval(mins => "bookings_resource"."min_notice_minutes")
AND %(start_day)s::date - %(today)s::date <= "bookings_resource"."max_advance_days"
AND (
    "bookings_resource"."id" NOT IN (SELECT h.resource_id FROM bookings_openinghours h)
    OR "bookings_resource"."id" IN (
        SELECT h.resource_id FROM bookings_openinghours h
        WHERE h.weekday = %(weekday)s
          AND h.opens <= %(start_clock)s::time AND %(end_same_day)s AND %(end_clock)s::time <= h.closes
    )
)
AND NOT EXISTS (
    SELECT 1 FROM bookings_closure c
    WHERE c.start < %(end)s AND c."end" > %(start)s
      AND (c.resource_id = "bookings_resource"."id"
           OR (c.resource_id IS NULL AND (c.category = '' OR c.category = "bookings_resource"."category")))
)
AND "bookings_resource"."id" NOT IN (
    SELECT b.resource_id FROM bookings_booking b, bookings_resource br
    WHERE b.status = ANY(%(live)s)
      AND tstzrange(b.start, b.blocked_until, '[)') && tstzrange(%(start)s, %(end)s::timestamptz
          + make_interval(mins => (SELECT coalesce(max(buffer_minutes), 0) FROM bookings_resource)), '[)')
      AND br.id = b.resource_id AND b.start < %(end)s::timestamptz + make_interval(mins => br.buffer_minutes)
    UNION ALL
    SELECT b.resource_id FROM bookings_booking b, bookings_resource br
    WHERE b.status = ANY(%(live)s) AND b.status = %(overdue)s
      AND br.id = b.resource_id AND b.start < %(end)s::timestamptz + make_interval(mins => br.buffer_minutes)
)
"""


def _named_to_positional(sql, params):
    """(sql with %s, values) from %(name)s placeholders: RawSQL takes positional parameters."""
    values = []

    def take(match):
        values.append(params[match.group(1)])
        return "%s"

    return re.sub(r"%\((\w+)\)s", take, sql), values


def _clock_changes_on(day, zone):
    """Whether the UTC offset of `zone` changes during local `day` (a DST day)."""
    first = datetime.combine(day, time.min, tzinfo=zone)
    after = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return first.utcoffset() != after.utcoffset()


def nearest_free_starts(
    *, resource: Resource, start: datetime, end: datetime, now: datetime | None = None, limit: int = 3
) -> list[datetime]:
    """After "slot taken": the same length on this resource at the nearest free starts,
    that day and the next bookable days, in time order."""
    now = now or timezone.now()
    length = rules.length_of(start, end)
    same_resource = []
    day = start.astimezone(rules.site_zone()).date()
    for offset in range(8):
        starts = [
            s.start
            for s in free_starts(resource=resource, day=day + timedelta(days=offset), now=now)
            if length in s.durations
        ]
        same_resource.extend(starts)
        if len(same_resource) >= limit * 2 or (offset and same_resource):
            break
    same_resource.sort(key=lambda s: abs(s - start))
    return sorted(same_resource[:limit])


def _subtract(intervals, taken):
    """The parts of sorted `intervals` not covered by any of `taken`."""
    result = []
    for interval in intervals:
        pieces = [interval]
        for block in taken:
            next_pieces = []
            for piece in pieces:
                if block.end <= piece.start or block.start >= piece.end:
                    next_pieces.append(piece)
                    continue
                if block.start > piece.start:
                    next_pieces.append(Interval(piece.start, block.start))
                if block.end < piece.end:
                    next_pieces.append(Interval(block.end, piece.end))
            pieces = next_pieces
        result.extend(pieces)
    return result
