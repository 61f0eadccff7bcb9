"""The day timeline: what one local day looks like for a set of resources, and its version.

`day_timeline` is the read: per resource, the day (a local date in the viewer's
zone) cut into segments — free, booked, the viewer's own, pending approval,
held (the waitlist's hold; any booking whose status is "held"), closed (a
closure, or out of service) and outside opening hours. The picture of it is
drawn elsewhere (bot.timeline_picture); this module knows nothing of pixels.

`ResourceDayVersion` counts the booking changes of a resource on a site-zone
day: every status change, new booking, move, extension and unit swap bumps the
days it touches when its transaction commits (`timeline_versions_bump`, one upsert).
`day_timeline_fingerprint` names everything a day's picture shows — those
counters, the closures, the opening hours and names, the viewer's own
bookings, the "now" mark — so a cache keyed by it serves an unchanged day
without reading or drawing it again.
"""

import hashlib
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import partial

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from bookings import policies, rules
from bookings.models import (
    LIVE_STATUSES,
    REASON_RETURNED_EARLY,
    Booking,
    BookingStatus,
    Resource,
    ResourceDayVersion,
)

# A segment's state; the legend lists them in this order.
FREE = "free"
BOOKED = "booked"
OWN = "own"
PENDING = "pending"
HELD = "held"
CLOSED = "closed"
OUTSIDE = "outside"
STATES = (FREE, BOOKED, OWN, PENDING, HELD, CLOSED, OUTSIDE)

# The waitlist's hold on a slot (another change adds the status): read by its value, so it shows once it exists.
HELD_STATUS = "held"
SHOWN_STATUSES = (*LIVE_STATUSES, HELD_STATUS)

# Which state wins where several meet (a booking on a closed stretch is still a booking).
_PRIORITY = {OUTSIDE: 0, FREE: 1, CLOSED: 2, HELD: 3, PENDING: 4, BOOKED: 5, OWN: 6}

# The "now" mark moves in steps, so today's picture changes (and is redrawn) at most this often.
NOW_STEP = timedelta(minutes=10)
# Part of every fingerprint: bump it when what the timeline holds changes meaning.
TIMELINE_FORMAT = 1


@dataclass(frozen=True)
class Segment:
    start: datetime
    end: datetime
    state: str


@dataclass(frozen=True)
class Row:
    resource: Resource
    segments: tuple[Segment, ...]

    def state_at(self, moment: datetime) -> str | None:
        for segment in self.segments:
            if segment.start <= moment < segment.end:
                return segment.state
        return None


@dataclass(frozen=True)
class DayTimeline:
    """One local day in `zone`, from its midnight `start` to the next `end` (23 or 25 h on DST days)."""

    day: date
    zone: tzinfo
    start: datetime
    end: datetime
    rows: tuple[Row, ...]
    now: datetime | None  # the "now" mark (a NOW_STEP boundary) when it falls inside the day

    def hour_marks(self) -> list[tuple[datetime, str]]:
        """Each elapsed hour from midnight with its local clock label ("02" twice on the autumn night)."""
        marks, moment = [], self.start
        while moment < self.end:
            local = moment.astimezone(self.zone)
            marks.append((moment, f"{local:%H}" if not local.minute else f"{local:%H:%M}"))
            moment += timedelta(hours=1)
        return marks


def day_bounds(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """[local midnight, next local midnight) of `day` in `zone`, in UTC."""
    start = datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return start, end


def now_mark(now: datetime) -> datetime:
    """`now` rounded down to a NOW_STEP boundary (in UTC)."""
    now = now.astimezone(UTC)
    step = int(NOW_STEP.total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // step * step, tz=UTC)


def _site_days(start: datetime, end: datetime) -> list[date]:
    """The site-zone dates that [start, end) meets."""
    zone = rules.site_zone()
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def day_timeline(
    *,
    resources: Iterable[Resource],
    day: date,
    zone: tzinfo | None = None,
    viewer=None,
    now: datetime | None = None,
) -> DayTimeline:
    """The segments of `day` (a date in `zone`, the site's by default) for each resource, in their order.

    Three queries whatever the number of resources (bookings, closures; opening hours when not prefetched).
    Bookings of `viewer` that hold time are OWN whatever their status; others are PENDING, HELD or BOOKED.
    """
    zone = zone or rules.site_zone()
    resources = list(resources)
    start, end = day_bounds(day, zone)
    mark = now_mark(now or timezone.now())
    ids = [r.pk for r in resources]
    bookings = {pk: [] for pk in ids}
    if ids:
        shown = Booking.objects.filter(
            Q(end__gt=start) | Q(status=BookingStatus.OVERDUE),
            resource_id__in=ids,
            status__in=SHOWN_STATUSES,
            start__lt=end,
        ).only("id", "resource_id", "user_id", "start", "end", "status")
        for booking in shown:
            bookings[booking.resource_id].append(booking)
    closures = policies.closures_between(resource_ids=ids, start=start, end=end) if ids else {}
    viewer_id = getattr(viewer, "pk", None)
    rows = tuple(
        Row(
            resource=r,
            segments=_segments(r, start, end, bookings[r.pk], closures.get(r.pk, ()), viewer_id, mark),
        )
        for r in resources
    )
    return DayTimeline(day=day, zone=zone, start=start, end=end, rows=rows, now=mark if start <= mark < end else None)


def _booking_state(booking, viewer_id):
    if viewer_id is not None and booking.user_id == viewer_id:
        return OWN
    if booking.status == BookingStatus.PENDING:
        return PENDING
    if booking.status == HELD_STATUS:
        return HELD
    return BOOKED


def _segments(resource, start, end, bookings, closures, viewer_id, now):
    layers = [(start, end, OUTSIDE)]
    if not resource.is_active or resource.out_of_service:
        layers.append((start, end, CLOSED))
    else:
        for site_day in _site_days(start, end):
            layers += [(opens, closes, FREE) for opens, closes in rules.opening_intervals(resource, site_day)]
    layers += [(c.start, c.end, CLOSED) for c in closures]
    for booking in bookings:
        # An overdue item is out until it is back: its booking runs on to now.
        until = max(booking.end, now) if booking.status == BookingStatus.OVERDUE else booking.end
        layers.append((booking.start, until, _booking_state(booking, viewer_id)))
    clipped = [(max(s, start), min(e, end), state) for s, e, state in layers]
    clipped = [(s.astimezone(UTC), e.astimezone(UTC), state) for s, e, state in clipped if s < e]
    cuts = sorted({moment for s, e, _ in clipped for moment in (s, e)})
    segments = []
    for left, right in itertools.pairwise(cuts):
        state = max((st for s, e, st in clipped if s <= left and e >= right), key=_PRIORITY.__getitem__)
        if segments and segments[-1].state == state:
            segments[-1] = Segment(segments[-1].start, right, state)
        else:
            segments.append(Segment(left, right, state))
    return tuple(segments)


# --- Versions -----------------------------------------------------------------------


def timeline_versions(*, resource_ids: Iterable[int], start: datetime, end: datetime) -> dict:
    """{(resource id, site day): version} for the site days [start, end) meets (absent: never changed)."""
    days = _site_days(start, end)
    rows = ResourceDayVersion.objects.filter(resource_id__in=list(resource_ids), day__in=days)
    return {(r.resource_id, r.day): r.version for r in rows}


def timeline_versions_bump(*, resource_ids: Iterable[int], start: datetime, end: datetime) -> None:
    """Count a booking change of these resources over [start, end): one upsert per (resource, site day)."""
    _bump([(pk, start, end) for pk in resource_ids])


_BUMP_CHUNK = 400  # rows per statement (SQLite takes at most 999 parameters in older builds)


def _bump(spans):
    """Bump the days the spans meet once the caller's transaction commits (at once without one).

    After the commit, not inside it: the change's transaction takes no row locks on the counters (a sweep
    over many resources and a closure cancelling bookings in another order could otherwise deadlock on
    them), and a counter that fails to move is logged, never a booking that fails. A picture drawn between
    the commit and the bump shows the new bookings under the old number, and the bump retires that
    number at once.
    """
    spans = list(spans)
    if spans:
        transaction.on_commit(partial(_bump_now, spans), robust=True)


def _bump_now(spans):
    """Upsert version + 1 for every (resource, site day) the spans meet, in (resource, day) order."""
    pairs = sorted({(int(pk), day) for pk, start, end in spans for day in _site_days(start, max(end, start))})
    table = connection.ops.quote_name(ResourceDayVersion._meta.db_table)
    for first in range(0, len(pairs), _BUMP_CHUNK):
        chunk = pairs[first : first + _BUMP_CHUNK]
        values = ", ".join(["(%s, %s, 1)"] * len(chunk))
        # Only placeholders and our own table's name go into the text.
        sql = (
            f"INSERT INTO {table} (resource_id, day, version) VALUES {values} "  # noqa: S608
            f"ON CONFLICT (resource_id, day) DO UPDATE SET version = {table}.version + 1"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [value for pair in chunk for value in pair])


def day_timeline_fingerprint(
    *,
    resources: Iterable[Resource],
    day: date,
    zone: tzinfo | None = None,
    viewer=None,
    now: datetime | None = None,
) -> str:
    """A name for what `day_timeline(...)` with these arguments shows, from three small queries.

    It changes when a booking of the day changes (the day counters), a closure meeting it is made, edited
    or lifted, a resource's name, state or opening hours change, the viewer's own bookings there change,
    or (today) the "now" mark moves on.
    """
    zone = zone or rules.site_zone()
    resources = list(resources)
    start, end = day_bounds(day, zone)
    mark = now_mark(now or timezone.now())
    ids = [r.pk for r in resources]
    versions = sorted(timeline_versions(resource_ids=ids, start=start, end=end).items()) if ids else []
    closures = policies.closures_between(resource_ids=ids, start=start, end=end) if ids else {}
    closed = sorted((pk, c.pk, c.start.isoformat(), c.end.isoformat()) for pk, cs in closures.items() for c in cs)
    own = []
    if viewer is not None and ids:
        own = sorted(
            Booking.objects.filter(user=viewer, resource_id__in=ids, status__in=SHOWN_STATUSES, start__lt=end)
            .filter(Q(end__gt=start) | Q(status=BookingStatus.OVERDUE))
            .values_list("pk", flat=True)
        )
    described = [
        (
            r.pk,
            r.name,
            r.is_active,
            r.out_of_service,
            tuple((h.weekday, h.opens.isoformat(), h.closes.isoformat()) for h in r.opening_hours.all()),
        )
        for r in resources
    ]
    parts = [
        TIMELINE_FORMAT,
        day.isoformat(),
        str(zone),
        str(rules.site_zone()),
        described,
        versions,
        closed,
        own,
        mark.isoformat() if start <= mark < end else None,
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:40]


# --- Receivers: every booking change bumps the days it touches --------------------


def _touched(booking):
    """The span a booking's change may alter on the picture (an early return shortened it: its old end
    is gone, so every day it could have reached is counted)."""
    end = max(booking.end, booking.blocked_until)
    return booking.start, end


def on_bookings_transitioned(sender, *, bookings, reason="", **kwargs):
    spans = []
    for booking in bookings:
        start, end = _touched(booking)
        if reason == REASON_RETURNED_EARLY:
            end = max(end, booking.start + timedelta(minutes=booking.resource.max_duration_minutes))
        spans.append((booking.resource_id, start, end))
    _bump(spans)


def on_booking_rescheduled(sender, *, booking, old_start, old_end, **kwargs):
    start, end = _touched(booking)
    # The old time and the new, each on its own days (a move may jump weeks).
    _bump([(booking.resource_id, start, end), (booking.resource_id, old_start, max(old_end, old_start))])


def connect():
    from bookings.signals import booking_rescheduled, bookings_transitioned

    bookings_transitioned.connect(on_bookings_transitioned, dispatch_uid="bookings.timeline.transitions")
    booking_rescheduled.connect(on_booking_rescheduled, dispatch_uid="bookings.timeline.reschedules")
