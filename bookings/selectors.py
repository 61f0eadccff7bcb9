"""Reads of the booking domain: free slots, what is free when, a user's bookings.

Free time is computed from the same rules the services enforce
(bookings.rules), so what a selector offers, booking_create accepts.
Queries touch only live bookings through partial indexes, so their cost
follows the number of current bookings, not the size of the table.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.db.models import OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from bookings import errors, rules

# "What may this user do with this booking now" is a read; its rule lives in bookings.actions.
from bookings.actions import ANY_STAFF as ANY_STAFF
from bookings.actions import Action as Action
from bookings.actions import booking_actions as booking_actions
from bookings.models import LIVE_STATUSES, Booking, BookingEvent, BookingStatus, OpeningHours, Resource


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime

    @property
    def length(self):
        return self.end - self.start


@dataclass(frozen=True)
class FreeStart:
    """A start time one may book, with the lengths (real elapsed time) that fit there."""

    start: datetime
    durations: tuple

    def end_after(self, duration):
        """The end of a booking of `duration` from this start (right on DST days too)."""
        return rules.add_elapsed(self.start, duration)


def resources_list(*, kind=None, category=None, include_inactive=False):
    qs = Resource.objects.prefetch_related(_hours_prefetch())
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if kind:
        qs = qs.filter(kind=kind)
    if category:
        qs = qs.filter(category__iexact=category)
    return qs


def resource_get(*, resource_id, include_inactive=False):
    """The resource with its opening hours loaded, or None."""
    return resources_list(include_inactive=include_inactive).filter(pk=resource_id).first()


def resources_matching(*, text, limit=10):
    """Active resources a typed name means: the one whose name is exactly `text`,
    else those whose name or a word of it starts with `text` (case-insensitive),
    so "orion" finds "Meeting room Orion"."""
    text = " ".join(text.split())
    if not text:
        return []
    matching = resources_list().filter(Q(name__istartswith=text) | Q(name__icontains=" " + text))
    exact = list(matching.filter(name__iexact=text)[:1])
    return exact or list(matching.order_by("name")[:limit])


def resource_categories(*, kind=None):
    qs = Resource.objects.filter(is_active=True)
    if kind:
        qs = qs.filter(kind=kind)
    return sorted(set(qs.values_list("category", flat=True)) - {""})


def resource_free_intervals(*, resource, day, now=None):
    """The free intervals of a local date: every booking inside one is accepted.

    Clipped to opening hours, the minimum notice and how far ahead one may
    book, aligned to the slot grid, and at least the minimum duration long.
    Another booking blocks [its start - this resource's buffer, its end +
    its buffer), since a new booking needs its own buffer before the next.
    """
    return _free_intervals(resource, day, now or timezone.now(), overnight=False)


def _free_intervals(resource, day, now, *, overnight):
    """resource_free_intervals; with `overnight`, a resource open around the clock
    stays open past midnight for as long as a booking may last."""
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
    taken = [
        Interval(b.start - resource.buffer, b.blocked_until)
        for b in _live_bookings(resource_ids=[resource.pk], start=window_start - resource.buffer, end=window_end)
    ]
    minimum = timedelta(minutes=resource.min_duration_minutes)
    free = []
    for interval in _subtract(open_intervals, taken):
        start = rules.round_up_to_grid(resource, interval.start)
        end = rules.round_down_to_grid(resource, interval.end)
        if rules.length_of(start, end) >= minimum:
            free.append(Interval(start, end))
    return free


def resource_free_starts(*, resource, day, zone=None, now=None):
    """Each grid start on `day` where some allowed length fits, with those lengths.

    `day` is a date in `zone` (the site's zone by default): someone in another
    zone is offered the starts that fall on their own date, which may span
    two of the site's days. On a resource open around the clock a late start
    may run past midnight.
    """
    zone = zone or rules.site_zone()
    lengths = rules.durations(resource)
    starts = []
    for moment, limit in _grid_starts(resource, _midnight(day, zone), _midnight(day + timedelta(days=1), zone), now):
        fitting = tuple(d for d in lengths if _fits(resource, moment, d, limit))
        if fitting:
            starts.append(FreeStart(moment, fitting))
    return starts


def resource_free_days(*, resource, first, last, zone=None, now=None):
    """The dates from `first` to `last` (in `zone`, the site's by default) that hold a free start."""
    zone = zone or rules.site_zone()
    lengths = rules.durations(resource)
    days = set()
    for moment, limit in _grid_starts(resource, _midnight(first, zone), _midnight(last + timedelta(days=1), zone), now):
        day = moment.astimezone(zone).date()
        # One start per date settles it; the calendar need not know every length that fits.
        if day not in days and any(_fits(resource, moment, d, limit) for d in lengths):
            days.add(day)
    return days


def resource_bookable_dates(*, resource, zone=None, now=None):
    """(today, the last date one may book on) as dates in `zone` (the site's by default).

    How far ahead one may book is counted in the site's days; its last
    moment may fall on the next date in a zone east of the site's.
    """
    now = now or timezone.now()
    zone = zone or rules.site_zone()
    horizon = rules.local_midnight(rules.last_bookable_day(resource, now) + timedelta(days=1))
    return now.astimezone(zone).date(), (horizon - timedelta(microseconds=1)).astimezone(zone).date()


def _midnight(day, zone):
    return datetime.combine(day, time.min, tzinfo=zone)


def _grid_starts(resource, start, end, now):
    """(grid start, end of its free interval) from `start` (inclusive) to `end` (exclusive)
    where the shortest length fits, over each of the site's days the range spans."""
    now = now or timezone.now()
    site_day = start.astimezone(rules.site_zone()).date()
    last_site_day = (end - timedelta(microseconds=1)).astimezone(rules.site_zone()).date()
    start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    while site_day <= last_site_day:
        for moment, limit in _grid_starts_of_site_day(resource, site_day, now):
            if start_utc <= moment < end_utc:
                yield moment, limit
        site_day += timedelta(days=1)


def _grid_starts_of_site_day(resource, day, now):
    lengths = rules.durations(resource)
    if not lengths:
        return
    day_end = rules.local_midnight(day + timedelta(days=1))
    for interval in _free_intervals(resource, day, now, overnight=True):
        moment = interval.start
        while moment < day_end and _fits(resource, moment, lengths[0], interval.end, on_grid=False):
            yield moment, interval.end
            # The next wall-clock grid point; on a DST day this skips the hour that does not exist.
            moment = rules.round_up_to_grid(resource, moment + timedelta(seconds=1))


def _fits(resource, start, duration, limit, *, on_grid=True):
    """A booking of `duration` (real time) from `start` ends by `limit` (and on the grid)."""
    end = rules.add_elapsed(start, duration)
    # Compared in UTC: within one zone Python compares wall-clock times, wrong in the autumn fold.
    return end.astimezone(UTC) <= limit.astimezone(UTC) and (not on_grid or rules.is_on_grid(resource, end))


def resource_durations_at(*, resource, start, now=None):
    """The allowed lengths of a booking starting at `start` (empty if none fits)."""
    day = start.astimezone(rules.site_zone()).date()
    for free_start in resource_free_starts(resource=resource, day=day, now=now):
        if free_start.start == start:
            return free_start.durations
    return ()


def resources_free_between(*, start, end, kind=None, category=None, now=None):
    """Availability first: the resources a booking from start to end would be accepted for.

    Two queries whatever the catalogue size: the candidate resources, and the
    live bookings that meet the range.
    """
    now = now or timezone.now()
    candidates = list(resources_list(kind=kind, category=category))
    if not candidates:
        return []
    max_buffer = max(r.buffer for r in candidates)
    busy = {}
    for b in _live_bookings(resource_ids=[r.pk for r in candidates], start=start - max_buffer, end=end + max_buffer):
        busy.setdefault(b.resource_id, []).append(b)
    free = []
    for resource in candidates:
        if any(b.start < end + resource.buffer and b.blocked_until > start for b in busy.get(resource.pk, ())):
            continue
        try:
            rules.validate_booking_times(resource, start, end, now=now)
        except errors.BookingError:
            continue
        free.append(resource)
    return free


def nearest_free_alternatives(*, resource, start, end, now=None, limit=3):
    """After "slot taken": the same length on this resource at the nearest free
    starts (that day and the next bookable days), and other resources of the
    same kind free at the asked time."""
    now = now or timezone.now()
    length = rules.length_of(start, end)
    same_resource = []
    day = start.astimezone(rules.site_zone()).date()
    for offset in range(8):
        starts = [
            s.start
            for s in resource_free_starts(resource=resource, day=day + timedelta(days=offset), now=now)
            if length in s.durations
        ]
        same_resource.extend(starts)
        if len(same_resource) >= limit * 2 or (offset and same_resource):
            break
    same_resource.sort(key=lambda s: abs(s - start))
    others = [
        r for r in resources_free_between(start=start, end=end, kind=resource.kind, now=now) if r.pk != resource.pk
    ]
    return sorted(same_resource[:limit]), others[:limit]


def booking_get(*, booking_id, user=None):
    """The booking, restricted to `user`'s own unless user is staff or None."""
    qs = Booking.objects.select_related("resource", "user")
    if user is not None and not user.is_staff:
        qs = qs.filter(user=user)
    return qs.filter(pk=booking_id).first()


def bookings_visible_to(*, user, status=None, resource_id=None):
    qs = Booking.objects.select_related("resource", "user").order_by("-start", "-id")
    if not user.is_staff:
        qs = qs.filter(user=user)
    if status:
        qs = qs.filter(status=status)
    if resource_id:
        qs = qs.filter(resource_id=resource_id)
    return qs


def user_upcoming_bookings(*, user, now=None):
    """Live bookings that have not ended yet, soonest first."""
    now = now or timezone.now()
    return list(
        Booking.objects.filter(user=user, status__in=LIVE_STATUSES, end__gt=now)
        .select_related("resource")
        .order_by("start", "id")
    )


def user_booking_history(*, user, limit=10):
    """Finished bookings (completed, expired, cancelled, rejected), newest first.

    Each carries `rejection_reason`: what the admin wrote when rejecting it
    ("" for any other booking), read in the same query.
    """
    rejection = BookingEvent.objects.filter(booking=OuterRef("pk"), to_status=BookingStatus.REJECTED).order_by("-at")
    return list(
        Booking.objects.filter(user=user)
        .exclude(status__in=LIVE_STATUSES)
        .select_related("resource")
        .annotate(rejection_reason=Coalesce(Subquery(rejection.values("reason")[:1]), Value("")))
        .order_by("-start", "-id")[:limit]
    )


def bookings_pending_approval(*, limit=None):
    qs = Booking.objects.filter(status=BookingStatus.PENDING).select_related("resource", "user").order_by("start")
    return list(qs[:limit] if limit else qs)


def bookings_on_day(*, day):
    """Live and finished bookings that meet a local date, by resource then start."""
    day_start = rules.local_midnight(day)
    day_end = rules.local_midnight(day + timedelta(days=1))
    return list(
        Booking.objects.filter(start__lt=day_end, end__gt=day_start)
        .exclude(status__in=(BookingStatus.CANCELLED, BookingStatus.REJECTED))
        .select_related("resource", "user")
        .order_by("resource__name", "start")
    )


# --- helpers ------------------------------------------------------------------


def _hours_prefetch():
    return Prefetch("opening_hours", queryset=OpeningHours.objects.order_by("weekday", "opens"))


def _live_bookings(*, resource_ids, start, end):
    """Live bookings of these resources whose held time meets [start, end)."""
    return Booking.objects.filter(
        Q(resource_id__in=resource_ids),
        status__in=LIVE_STATUSES,
        start__lt=end,
        blocked_until__gt=start,
    ).order_by("start")


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
