"""Recurring series: "bench 3 every Tuesday 14:00 until the end of term" — its reads and writes.

A series is a BookingSeries (an RFC 5545 RRULE, the first start and a length)
plus ordinary bookings, one per occurrence, each made by
services.booking_create: the same rules, policies, quotas and exclusion
constraint as any booking, and the same sweeps and messages afterwards.

The rule is expanded on the site's wall clock (python-dateutil's rrule over
naive local datetimes), so a weekly 09:00 stays 09:00 local across a clock
change; an occurrence whose local time the change skips or repeats is refused
as unclear_local_time, like any typed time.

`series_preview` runs booking_create for every occurrence inside a
transaction that is rolled back (a savepoint per occurrence), so its answer
uses exactly the rules a real booking meets, later occurrences counting the
earlier ones against a quota. `series_create` books: all or nothing in one
transaction (one refusal refuses the series), or only the occurrences that
can be booked. The user gets one summary message per series event (booked,
cancelled, ending) instead of one per occurrence (series_changed signal).
"""

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from dateutil import rrule as du
from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Prefetch, Q, QuerySet
from django.utils import timezone

from bookings import errors, formats, policies, rules, services
from bookings.actions import Action, refusal
from bookings.models import LIVE_STATUSES, Booking, BookingSeries, Resource
from bookings.signals import series_changed, series_receipt_resolved

PREVIEW = "preview"
ALL_OR_NOTHING = "all_or_nothing"
SKIP_CONFLICTS = "skip_conflicts"
MODES = (PREVIEW, ALL_OR_NOTHING, SKIP_CONFLICTS)

FREQUENCIES = {"DAILY": du.DAILY, "WEEKLY": du.WEEKLY, "MONTHLY": du.MONTHLY}
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_ALLOWED_PARTS = {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "UNTIL", "COUNT", "WKST"}
MAX_INTERVAL = 52


@dataclass
class Occurrence:
    """One occurrence of a series: its time and outcome (`code` None: bookable / booked)."""

    start: datetime
    end: datetime
    code: str | None = None
    message: str = ""
    booking: Booking | None = None

    @property
    def ok(self) -> bool:
        return self.code is None


@dataclass
class SeriesResult:
    """What series_create or series_extend did: the series (None for a preview) and every occurrence."""

    series: BookingSeries | None
    occurrences: list[Occurrence] = field(default_factory=list)

    @property
    def booked(self) -> list[Occurrence]:
        return [o for o in self.occurrences if o.ok and o.booking is not None]


# --- Rules ------------------------------------------------------------------------


def rule_text(
    *,
    frequency: str,
    weekdays: tuple[int, ...] = (),
    interval: int = 1,
    until: date | None = None,
    count: int | None = None,
) -> str:
    """The RRULE text of a rule the bot builds: FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20270131T235959."""
    parts = [f"FREQ={frequency}"]
    if interval != 1:
        parts.append(f"INTERVAL={interval}")
    if weekdays:
        parts.append("BYDAY=" + ",".join(WEEKDAY_CODES[d] for d in sorted(set(weekdays))))
    if until is not None:
        parts.append(f"UNTIL={until:%Y%m%d}T235959")
    if count is not None:
        parts.append(f"COUNT={count}")
    return ";".join(parts)


def _parts(text: str) -> dict[str, str]:
    """The RRULE's parts, checked against the subset a series supports; UNTIL as a local wall clock."""
    text = (text or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:") :]
    if not text or "\n" in text or len(text) > BookingSeries._meta.get_field("rrule").max_length:
        raise errors.SeriesInvalidRule(detail="RRULE")
    parts = {}
    for piece in text.split(";"):
        key, sep, value = piece.partition("=")
        key, value = key.strip().upper(), value.strip().upper()
        if not sep or not value or key not in _ALLOWED_PARTS or key in parts:
            raise errors.SeriesInvalidRule(detail=piece or ";")
        parts[key] = value
    if parts.get("FREQ") not in FREQUENCIES:
        raise errors.SeriesInvalidRule(detail="FREQ=DAILY, WEEKLY or MONTHLY")
    if "UNTIL" not in parts and "COUNT" not in parts:
        raise errors.SeriesInvalidRule(detail="UNTIL or COUNT")
    if "UNTIL" in parts:
        parts["UNTIL"] = _local_until(parts["UNTIL"])
    for key, highest in (("INTERVAL", MAX_INTERVAL), ("COUNT", 10**6)):
        if key in parts and not (parts[key].isdigit() and 1 <= int(parts[key]) <= highest):
            raise errors.SeriesInvalidRule(detail=f"{key}={parts[key]}")
    return parts


def _local_until(value):
    """UNTIL as local wall-clock text: a date means the whole day; a UTC time (…Z) is read in the site's zone."""
    try:
        if len(value) == 8:
            return datetime.strptime(value, "%Y%m%d").strftime("%Y%m%dT235959")
        if value.endswith("Z"):
            moment = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            return moment.astimezone(rules.site_zone()).strftime("%Y%m%dT%H%M%S")
        return datetime.strptime(value, "%Y%m%dT%H%M%S").strftime("%Y%m%dT%H%M%S")
    except ValueError:
        raise errors.SeriesInvalidRule(detail=f"UNTIL={value}") from None


def _recurrence(text: str, first: datetime, *, unbounded: bool = False):
    """The dateutil rrule of `text` from the local wall clock of `first` (naive, site zone)."""
    parts = _parts(text)
    if unbounded:
        parts.pop("UNTIL", None)
        parts.pop("COUNT", None)
        parts["COUNT"] = str(10**6)
    naive = first.astimezone(rules.site_zone()).replace(tzinfo=None)
    try:
        return du.rrulestr(";".join(f"{k}={v}" for k, v in parts.items()), dtstart=naive)
    except (ValueError, TypeError) as exc:
        raise errors.SeriesInvalidRule(detail=str(exc) or text) from None


def rule_normalised(text: str) -> str:
    """The rule as stored: its parts upper-cased, UNTIL as a local wall clock (raises SeriesInvalidRule)."""
    return ";".join(f"{k}={v}" for k, v in _parts(text).items())


def series_occurrences(
    *, resource: Resource, start: datetime, end: datetime, rrule: str, now: datetime | None = None
) -> list[Occurrence]:
    """Every occurrence of the rule from `start` (each as long as start→end), not yet checked against bookings.

    Refuses the whole series (a BookingError) when the rule cannot be read or
    gives no occurrence, more than SERIES_MAX_OCCURRENCES, or one past the
    resource's booking horizon. An occurrence whose local time a clock change
    skips or repeats comes back with code unclear_local_time.
    """
    now = now or timezone.now()
    if end <= start:
        raise errors.InvalidTimeRange()
    limit = settings.SERIES_MAX_OCCURRENCES
    naive = list(itertools.islice(_recurrence(rrule, start), limit + 1))
    if not naive:
        raise errors.SeriesEmpty()
    if len(naive) > limit:
        raise errors.SeriesTooMany(limit=limit)
    last_day = rules.last_bookable_day(resource, now)
    if naive[-1].date() > last_day:
        raise errors.SeriesBeyondHorizon(last=formats.day_label(last_day))
    return _occurrences_at(naive, rules.length_of(start, end))


def _occurrences_at(naive_starts, length):
    found = []
    for moment in naive_starts:
        try:
            start = rules.local_datetime(moment.date(), moment.time())
        except errors.UnclearLocalTime as error:
            start = moment.replace(tzinfo=rules.site_zone())
            found.append(Occurrence(start, start + length, error.code, error.message))
            continue
        found.append(Occurrence(start, rules.add_elapsed(start, length)))
    return found


# --- Writes -----------------------------------------------------------------------


def series_preview(
    *,
    user,
    resource: Resource,
    start: datetime,
    end: datetime,
    rrule: str,
    note: str = "",
    now: datetime | None = None,
) -> SeriesResult:
    """Every occurrence with ✓ or the error code that would refuse it; nothing is booked.

    Each occurrence is booked by booking_create in a savepoint of a transaction
    that is then rolled back: the answer is what booking would do now, quotas
    counting the earlier occurrences of the same series.
    """
    now = now or timezone.now()
    occurrences = series_occurrences(resource=resource, start=start, end=end, rrule=rrule, now=now)
    rules.validate_note(note)
    chat_ids = policies.user_chat_memberships(user=user, resources=[resource])  # may ask Telegram: no lock held
    with transaction.atomic():
        _book_each(occurrences, user=user, resource=resource, note=note, now=now, chat_ids=chat_ids, series=None)
        transaction.set_rollback(True)
    for occurrence in occurrences:
        occurrence.booking = None  # rolled back: never saved
    return SeriesResult(series=None, occurrences=occurrences)


def series_create(
    *,
    user,
    resource: Resource,
    start: datetime,
    end: datetime,
    rrule: str,
    mode: str = ALL_OR_NOTHING,
    note: str = "",
    now: datetime | None = None,
    receipt: bool = True,
) -> SeriesResult:
    """Book the series: `all_or_nothing` (one refused occurrence refuses all: SeriesConflict, which
    carries the occurrences) or `skip_conflicts` (the bookable ones; none: SeriesNothingFree).

    One transaction holding the user's row lock, so two series of one user
    cannot both pass a quota. `mode="preview"` is series_preview.
    `receipt=False`: the interface shows the result itself (the bot), so the
    summary message is held until series_receipt_shown / _owed.
    """
    if mode not in MODES:
        raise errors.SeriesInvalidMode()
    if mode == PREVIEW:
        return series_preview(user=user, resource=resource, start=start, end=end, rrule=rrule, note=note, now=now)
    now = now or timezone.now()
    occurrences = series_occurrences(resource=resource, start=start, end=end, rrule=rrule, now=now)
    rules.validate_note(note)
    chat_ids = policies.user_chat_memberships(user=user, resources=[resource])
    with transaction.atomic():
        services.lock_user(user)
        series = BookingSeries.objects.create(
            resource=resource,
            user=user,
            rrule=rule_normalised(rrule),
            dtstart=start.astimezone(UTC),
            duration_minutes=int(rules.length_of(start, end).total_seconds() // 60),
            note=note or "",
        )
        _book_each(occurrences, user=user, resource=resource, note=note, now=now, chat_ids=chat_ids, series=series)
        _finish(series, occurrences, mode=mode, event="booked", by=user, now=now, receipt=receipt)
    return SeriesResult(series=series, occurrences=occurrences)


def series_extend(
    *, series: BookingSeries, by, count: int | None = None, now: datetime | None = None, receipt: bool = True
) -> SeriesResult:
    """Add the rule's next occurrences after the series' last one (the free ones: skip_conflicts).

    At most `count` (default: as many as the series first had, within
    SERIES_MAX_OCCURRENCES), and only those within the booking horizon; none
    fits → SeriesNothingToExtend. The owner or staff may extend a series that
    is not cancelled.
    """
    now = now or timezone.now()
    if by.pk != series.user_id and not by.is_staff:
        raise errors.NotAllowed()
    if series.cancelled_at is not None:
        raise errors.SeriesNothingToExtend()
    resource, limit = series.resource, settings.SERIES_MAX_OCCURRENCES
    existing = series.bookings.count()
    count = min(count or existing or limit, limit)
    last_start = series.bookings.aggregate(last=Max("start"))["last"] or series.dtstart
    last_local = last_start.astimezone(rules.site_zone()).replace(tzinfo=None)
    last_day = rules.last_bookable_day(resource, now)
    naive = []
    for moment in _recurrence(series.rrule, series.dtstart, unbounded=True):
        if moment <= last_local:
            continue
        if moment.date() > last_day or len(naive) >= count:
            break
        naive.append(moment)
    if not naive:
        raise errors.SeriesNothingToExtend()
    occurrences = _occurrences_at(naive, series.duration)
    chat_ids = policies.user_chat_memberships(user=series.user, resources=[resource])
    with transaction.atomic():
        services.lock_user(series.user)
        kwargs = dict(user=series.user, resource=resource, note=series.note, now=now, chat_ids=chat_ids)
        _book_each(occurrences, series=series, **kwargs)
        _finish(series, occurrences, mode=SKIP_CONFLICTS, event="extended", by=by, now=now, receipt=receipt)
        # The rule now runs until the new last occurrence: what the admin and the API show.
        parts = _parts(series.rrule)
        parts.pop("COUNT", None)
        parts["UNTIL"] = f"{naive[-1]:%Y%m%d}T235959"
        series.rrule = ";".join(f"{k}={v}" for k, v in parts.items())
        series.save(update_fields=["rrule"])
    return SeriesResult(series=series, occurrences=occurrences)


def series_cancel(
    *, series: BookingSeries, by, start_from: datetime | None = None, reason: str = "", now: datetime | None = None
) -> list[Booking]:
    """Cancel the occurrences from `start_from` on (this and all following), or all when None.

    Each occurrence goes through booking_cancel (the owner or staff, before
    its start); those that may no longer be cancelled are left as they are.
    None may → SeriesNothingToCancel. The user gets one summary message
    (unless they cancelled it themselves: the interface answered them).
    Cancelling all also marks the series cancelled.
    """
    now = now or timezone.now()
    rules.validate_note(reason)
    bookings = series.bookings.select_related("resource", "user").order_by("start", "pk")
    if start_from is not None:
        bookings = bookings.filter(start__gte=start_from.astimezone(UTC))
    with transaction.atomic():
        services.lock_user(series.user)
        allowed = [b for b in bookings if refusal(Action.CANCEL, booking=b, user=by, now=now) is None]
        if not allowed:
            raise errors.SeriesNothingToCancel()
        cancelled = [
            services.booking_cancel(booking=b, by=by, reason=reason, now=now, summarised=True) for b in allowed
        ]
        if start_from is None or not series.bookings.filter(status__in=LIVE_STATUSES, start__gt=now).exists():
            BookingSeries.objects.filter(pk=series.pk, cancelled_at__isnull=True).update(cancelled_at=now)
            series.refresh_from_db(fields=["cancelled_at"])
        series_changed.send(
            sender=BookingSeries,
            series=series,
            event="cancelled",
            bookings=cancelled,
            by=by,
            at=now,
            receipt=True,
            reason=reason,
        )
    return cancelled


def series_receipt_shown(*, series: BookingSeries, event: str = "booked") -> None:
    """The interface showed the series' result itself: its held summary message is not sent."""
    series_receipt_resolved.send(sender=BookingSeries, series=series, event=event, shown=True)


def series_receipt_owed(*, series: BookingSeries, event: str = "booked") -> None:
    """The interface could not show the series' result: the held summary goes out now."""
    series_receipt_resolved.send(sender=BookingSeries, series=series, event=event, shown=False)


def _book_each(occurrences, *, user, resource, note, now, chat_ids, series):
    """booking_create for each occurrence not refused yet, each in its own savepoint; records outcomes."""
    for occurrence in occurrences:
        if not occurrence.ok:
            continue
        try:
            # booking_create's own atomic block is this occurrence's savepoint: a refusal rolls back only it.
            occurrence.booking = services.booking_create(
                user=user,
                resource=resource,
                start=occurrence.start,
                end=occurrence.end,
                note=note,
                now=now,
                receipt=False,  # one summary for the series, not a receipt per occurrence
                chat_ids=chat_ids,
                series=series,
            )
        except errors.AlreadyBooked as error:
            occurrence.code, occurrence.message = error.code, error.message
        except errors.BookingError as error:
            occurrence.code, occurrence.message = error.code, error.message


def _finish(series, occurrences, *, mode, event, by, now, receipt):
    """Refuse as the mode says, or drop the per-occurrence receipts and send the series' summary."""
    refused = [o for o in occurrences if not o.ok]
    booked = [o.booking for o in occurrences if o.ok and o.booking is not None]
    if mode == ALL_OR_NOTHING and refused:
        raise _with_occurrences(errors.SeriesConflict(refused=len(refused)), occurrences)
    if not booked:
        raise _with_occurrences(errors.SeriesNothingFree(), occurrences)
    for booking in booked:
        services.booking_receipt_shown(booking=booking)  # the summary says it, once
    series_changed.send(
        sender=BookingSeries, series=series, event=event, bookings=booked, by=by, at=now, receipt=receipt, reason=""
    )


def _with_occurrences(error, occurrences):
    """The refusal carries every occurrence's outcome, so each interface can show which were refused."""
    for occurrence in occurrences:
        occurrence.booking = None  # rolled back with the series
    error.occurrences = occurrences
    return error


# --- Reads ------------------------------------------------------------------------


def series_visible_to(*, user=None) -> QuerySet[BookingSeries]:
    """The user's series (staff, or no user: everyone's), newest first, with their occurrences."""
    qs = BookingSeries.objects.select_related("resource", "user").prefetch_related(
        Prefetch("bookings", queryset=Booking.objects.select_related("resource", "user").order_by("start", "pk"))
    )
    return qs if user is None or user.is_staff else qs.filter(user=user)


def series_get(*, series_id: int, user=None) -> BookingSeries | None:
    """The series with its occurrences; restricted to `user`'s own unless user is staff or None."""
    return series_visible_to(user=user).filter(pk=series_id).first()


def series_ending_within(*, now: datetime | None = None, days: int | None = None) -> QuerySet[BookingSeries]:
    """Series not cancelled whose last live occurrence starts within `days` (SERIES_ENDING_NOTICE_DAYS)
    from now, and that existed `days` before it, annotated with `last_start`: their users are told it ends."""
    now = now or timezone.now()
    days = settings.SERIES_ENDING_NOTICE_DAYS if days is None else days
    return (
        BookingSeries.objects.filter(cancelled_at__isnull=True)
        .annotate(last_start=Max("bookings__start", filter=Q(bookings__status__in=LIVE_STATUSES)))
        .filter(last_start__gt=now, last_start__lte=now + timedelta(days=days))
        # A series made inside its own notice window (three days in a row) needs no "it ends" reminder.
        .filter(created_at__lte=F("last_start") - timedelta(days=days))
        .select_related("resource", "user")
    )


def series_last_live(*, series: BookingSeries) -> Booking | None:
    """The series' last live occurrence (the one the ending notice is about)."""
    return (
        series.bookings.filter(status__in=LIVE_STATUSES).select_related("resource", "user").order_by("-start").first()
    )


def series_live_count(*, series: BookingSeries, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return series.bookings.filter(status__in=LIVE_STATUSES, end__gt=now).count()
