"""The booking rules of a resource, in one place.

Services validate a requested booking with `validate_booking_times`; the
selectors build free slots from the same functions (`opening_intervals`,
`earliest_start`, `last_bookable_day`, `durations`), so a rule such as
"max 4 h" or "on a 30-minute grid" is written exactly once.
"""

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import ngettext

from bookings import errors
from bookings.models import Resource

MAX_NOTE_LENGTH = 500
# Outside these years, date arithmetic (time zones, buffers, local midnights)
# would overflow; no booking lives there, so such input is simply invalid.
FIRST_YEAR, LAST_YEAR = 1900, 8999


def site_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def today_in(zone: tzinfo | None = None, *, now: datetime | None = None) -> date:
    """Today's date in `zone` (the site's zone by default) at `now` (the present by default)."""
    return (now or timezone.now()).astimezone(zone or site_zone()).date()


def format_minutes(minutes: float) -> str:
    """'45 min', '2 h', '1 h 30 min' — how rules read in messages; each count through ngettext."""
    hours, rest = divmod(int(minutes), 60)
    parts = []
    if hours:
        parts.append(ngettext("%(h)s h", "%(h)s h", hours) % {"h": hours})
    if rest or not hours:
        parts.append(ngettext("%(m)s min", "%(m)s min", rest) % {"m": rest})
    return " ".join(parts)


def local_datetime(day: date, clock: time, *, zone: tzinfo | None = None) -> datetime:
    """The aware datetime of a local date and time in `zone` (the site's by default).

    A local time that a clock change skips (spring) or repeats (autumn) has
    two readings an hour apart; guessing one would move a booking by an hour,
    so it is refused with UnclearLocalTime, in every interface alike.
    """
    zone = zone or site_zone()
    naive = datetime.combine(day, clock.replace(tzinfo=None))
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        raise errors.UnclearLocalTime(zone=str(zone))
    return first


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=site_zone())


def opening_intervals(resource: Resource, day: date, *, opening_hours=None) -> list[tuple[datetime, datetime]]:
    """The resource's open intervals on a local date, as aware datetimes.

    No opening-hours rows at all means open around the clock; rows for other
    weekdays only mean closed on this one. Uses a prefetched
    `opening_hours` when the caller loaded it, or the rows it passes.
    """
    rows = list(resource.opening_hours.all() if opening_hours is None else opening_hours)
    midnight = local_midnight(day)
    if not rows:
        return [(midnight, local_midnight(day + timedelta(days=1)))]
    zone = site_zone()
    return [
        (datetime.combine(day, row.opens, tzinfo=zone), datetime.combine(day, row.closes, tzinfo=zone))
        for row in sorted(rows, key=lambda r: r.opens)
        if row.weekday == day.weekday()
    ]


def minutes_since_local_midnight(moment: datetime) -> tuple[int, int]:
    local = moment.astimezone(site_zone())
    return local.hour * 60 + local.minute, local.second or local.microsecond


def is_on_grid(resource: Resource, moment: datetime) -> bool:
    minutes, leftover = minutes_since_local_midnight(moment)
    return not leftover and minutes % resource.slot_minutes == 0


def round_up_to_grid(resource: Resource, moment: datetime) -> datetime:
    """The first grid point of the resource at or after `moment`, as an existing local time.

    The grid is wall-clock: aware datetimes sharing one zone subtract and add
    as wall-clock times in Python. A grid point inside the spring-forward gap
    (02:00 in Europe/Berlin) does not exist; normalising through UTC moves
    it to the same instant's real local time (03:00). A grid point in the
    repeated autumn hour exists twice: the earlier reading that is not before
    `moment` is the one.
    """
    midnight, elapsed, slot = _grid_position(resource, moment)
    steps = -(-elapsed // slot)  # ceiling division
    while True:
        for fold in (0, 1):
            point = _grid_point(midnight, steps * slot, fold)
            if point.astimezone(UTC) >= moment.astimezone(UTC) and is_on_grid(resource, point):
                return point
        steps += 1  # the point fell in the gap (off the grid once normalised): go on from there


def round_down_to_grid(resource: Resource, moment: datetime) -> datetime:
    """The last grid point of the resource at or before `moment`, as an existing local time."""
    midnight, elapsed, slot = _grid_position(resource, moment)
    steps = elapsed // slot
    while True:
        for fold in (1, 0):  # in the repeated hour the second reading is the later instant
            point = _grid_point(midnight, steps * slot, fold)
            if point.astimezone(UTC) <= moment.astimezone(UTC) and is_on_grid(resource, point):
                return point
        steps -= 1  # the point fell in the spring-forward gap, which maps later


def _grid_point(midnight, seconds, fold):
    """The grid point `seconds` of wall clock after `midnight`, read with `fold`, as a real local time."""
    return normalised((midnight + timedelta(seconds=seconds)).replace(fold=fold))


def _grid_position(resource, moment):
    """(local midnight, wall-clock seconds since it, slot seconds) of `moment`."""
    local = normalised(moment)
    midnight = local_midnight(local.date())
    return midnight, (local - midnight).total_seconds(), resource.slot_minutes * 60


def normalised(moment: datetime) -> datetime:
    """The same instant as a real local time of the site's zone."""
    return moment.astimezone(UTC).astimezone(site_zone())


def length_of(start: datetime, end: datetime) -> timedelta:
    """Elapsed time from start to end; real time even on a DST day, whatever zones they carry."""
    return end.astimezone(UTC) - start.astimezone(UTC)


def add_elapsed(moment: datetime, duration: timedelta) -> datetime:
    """`moment` plus real elapsed time (Python's aware + timedelta is wall-clock within one zone)."""
    return normalised(moment.astimezone(UTC) + duration)


def earliest_start(resource: Resource, now: datetime) -> datetime:
    """When the earliest booking may start: now plus minimum notice, on the grid."""
    return round_up_to_grid(resource, now + timedelta(minutes=resource.min_notice_minutes))


def last_bookable_day(resource: Resource, now: datetime) -> date:
    return today_in(now=now) + timedelta(days=resource.max_advance_days)


def durations(resource: Resource) -> list[timedelta]:
    """Every allowed length, on the grid, from the minimum to the maximum."""
    slot = resource.slot_minutes
    first = -(-resource.min_duration_minutes // slot) * slot
    return [timedelta(minutes=m) for m in range(first, resource.max_duration_minutes + 1, slot)]


def check_in_window(resource: Resource, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """(opens, closes) of the check-in window of a booking from start to end."""
    opens = start - timedelta(minutes=resource.check_in_opens_minutes)
    if resource.requires_check_in:
        return opens, min(start + timedelta(minutes=resource.check_in_grace_minutes), end)
    return opens, end


def check_in_deadline(resource: Resource, start: datetime, end: datetime) -> datetime | None:
    """When a booking that needs check-in expires unless checked in; None if none is needed."""
    return check_in_window(resource, start, end)[1] if resource.requires_check_in else None


def validate_booking_times(resource: Resource, start: datetime, end: datetime, *, now: datetime | None = None) -> None:
    """Raise the BookingError that a booking of `resource` from start to end breaks, if any.

    Overlap with other bookings is not checked here: that needs the
    database (services.booking_create and the exclusion constraint).
    """
    validate_booking_times_except_hours(resource, start, end, now=now)
    refuse_outside_opening_hours(resource, start, end)


def validate_booking_times_except_hours(
    resource: Resource, start: datetime, end: datetime, *, now: datetime | None = None
) -> None:
    """validate_booking_times but its last check, the opening hours (refuse_outside_opening_hours), which
    needs their rows: booking_create reads them with everything else it checks, then checks them first."""
    now = now or timezone.now()
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("validate_booking_times needs aware datetimes")
    # Compare instants: Python compares two datetimes of one zone by wall clock,
    # ignoring `fold`, which is wrong in the repeated hour of the autumn DST change.
    start, end, now = start.astimezone(UTC), end.astimezone(UTC), now.astimezone(UTC)
    if end <= start:
        raise errors.InvalidTimeRange()
    if not resource.is_active:
        raise errors.ResourceInactive()
    if resource.out_of_service:
        raise errors.OutOfService()
    if start < now:
        raise errors.InThePast()
    if not (is_on_grid(resource, start) and is_on_grid(resource, end)):
        raise errors.NotOnSlotGrid(minutes=resource.slot_minutes)
    _validate_length(resource, start, end)
    if start < now + timedelta(minutes=resource.min_notice_minutes):
        raise errors.TooLateToBook(limit=format_minutes(resource.min_notice_minutes))
    if start.astimezone(site_zone()).date() > last_bookable_day(resource, now):
        raise errors.TooFarAhead(days=resource.max_advance_days)


def _validate_length(resource, start, end):
    length = length_of(start, end).total_seconds() / 60
    if length < resource.min_duration_minutes:
        raise errors.TooShort(limit=format_minutes(resource.min_duration_minutes))
    if length > resource.max_duration_minutes:
        raise errors.TooLong(limit=format_minutes(resource.max_duration_minutes))


def validate_extension(resource: Resource, start: datetime, end: datetime) -> None:
    """Raise the BookingError that a booking from start, lengthened to `end`, breaks, if any.

    Its start passed validate_booking_times when it was booked (and may be past
    now: the booking is running), so only what an extension changes is checked:
    the resource still bookable, the new end on the grid, the length, the
    opening hours. Overlap, closures and quotas: bookings.reschedule.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("validate_extension needs aware datetimes")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        raise errors.InvalidTimeRange()
    if not resource.is_active:
        raise errors.ResourceInactive()
    if resource.out_of_service:
        raise errors.OutOfService()
    if not is_on_grid(resource, end):
        raise errors.NotOnSlotGrid(minutes=resource.slot_minutes)
    _validate_length(resource, start, end)
    refuse_outside_opening_hours(resource, start, end)


def refuse_outside_opening_hours(resource: Resource, start: datetime, end: datetime, *, opening_hours=None) -> None:
    """Raise OutsideOpeningHours unless start to end lies inside one opening interval (rows as fits_opening_hours)."""
    if not fits_opening_hours(resource, start, end, opening_hours=opening_hours):
        raise errors.OutsideOpeningHours()


def fits_opening_hours(resource: Resource, start: datetime, end: datetime, *, opening_hours=None) -> bool:
    rows = list(resource.opening_hours.all() if opening_hours is None else opening_hours)
    if not rows:
        # Open around the clock: a booking may run past midnight.
        return True
    day = start.astimezone(site_zone()).date()
    intervals = opening_intervals(resource, day, opening_hours=rows)
    return any(opens <= start and end <= closes for opens, closes in intervals)


def validate_note(note: str | None) -> None:
    if len(note or "") > MAX_NOTE_LENGTH:
        raise errors.NoteTooLong(limit=MAX_NOTE_LENGTH)
