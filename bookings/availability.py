"""The availability engine: what is free when, computed from the booking rules.

Free intervals of a day, the grid starts and the lengths that fit there, the
dates that hold one, availability first (which resources are free for a
range) and the nearest alternatives after "slot taken". Free time follows the
same rules the services enforce (bookings.rules), so what is offered,
booking_create accepts; the overlap query here is the one booking_create
checks too. Callers outside the package use the selectors in
bookings.selectors, which delegate here.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from django.db.models import Q, QuerySet
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
    while site_day <= last_site_day:
        for moment, limit in _grid_starts_of_site_day(resource, site_day, now, ignoring=ignoring):
            if start_utc <= moment < end_utc:
                yield moment, limit
        site_day += timedelta(days=1)


def _grid_starts_of_site_day(resource, day, now, ignoring=None):
    lengths = rules.durations(resource)
    if not lengths:
        return
    day_end = rules.local_midnight(day + timedelta(days=1))
    for interval in free_intervals(resource=resource, day=day, now=now, overnight=True, ignoring=ignoring):
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
