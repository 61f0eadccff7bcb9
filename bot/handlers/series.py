"""Recurring series in the bot: typed `/book … every tue 14:00 2h until …`, 🔁 Repeat… on the
confirm screen, the preview, cancelling from /my and Extend series.

The preview is one message: every occurrence with ✓ or the domain's reason
(bookings.series.series_preview), and **Book the N free ones** (skip
conflicts) / **Book all or none** / **Cancel**. The rule rides in the button
data as five small numbers (bot.callbacks.RULE), so a press re-runs the
preview or the booking with exactly what was shown; the domain decides again.
A booked or extended series' reply is its receipt: the held summary message
is dropped once the reply arrives (Screen.series_receipt_of).
"""

from datetime import datetime, timedelta

from django.utils import timezone

from bookings import errors, rules, selectors
from bookings import series as booking_series
from bookings.models import BookingStatus
from bookings.selectors import Action
from bot import callbacks as cb
from bot import keyboards, texts
from bot.calendar import first_and_last_day, month_keyboard, month_of
from bot.handlers import access, browse
from bot.handlers.base import Expired, Screen, view_only
from core.callbacks import SERIES_EXTEND

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY")
SKIP, ALL = 0, 1
MODES = {SKIP: booking_series.SKIP_CONFLICTS, ALL: booking_series.ALL_OR_NOTHING}
WORKDAY_MASK = 0b0011111
TYPED_MATCHES_SHOWN = 8


# --- The rule in button data ---------------------------------------------------------


def _mask(weekdays):
    return sum(1 << d for d in weekdays)


def _weekdays(mask):
    return tuple(d for d in range(7) if mask & (1 << d))


def _rule(start, frequency, mask, interval, until_days, count, zone):
    """(RRULE text, the phrase people read) of a rule from its button numbers."""
    if frequency >= len(FREQUENCIES):
        raise Expired()
    first_day = start.astimezone(rules.site_zone()).date()
    until = first_day + timedelta(days=until_days) if until_days else None
    weekdays = _weekdays(mask)
    text = booking_series.rule_text(
        frequency=FREQUENCIES[frequency], weekdays=weekdays, interval=interval or 1, until=until, count=count or None
    )
    shown_until = start.astimezone(zone).date() + timedelta(days=until_days) if until_days else None
    phrase = texts.series_rule(FREQUENCIES[frequency], weekdays, interval or 1, shown_until, count or None)
    return text, phrase


def _resource(resource_id):
    resource = selectors.resource_get(resource_id=resource_id)
    if resource is None:
        raise Expired()
    return resource


# --- Preview and book ------------------------------------------------------------------


def preview(actor, resource_id, start, minutes, frequency, mask, interval, until_days, count, notice=""):
    resource = _resource(resource_id)
    access.require_bookable(actor, resource)
    end = rules.add_elapsed(start, timedelta(minutes=minutes))
    rule, phrase = _rule(start, frequency, mask, interval, until_days, count, actor.zone)
    back = [cb.button(texts.SERIES_CANCEL_PREVIEW, cb.RESOURCE, resource.pk)]
    try:
        result = booking_series.series_preview(user=actor.user, resource=resource, start=start, end=end, rrule=rule)
    except errors.BookingError as error:
        return Screen(texts.could_not_book(error.message), [back])
    occurrences = result.occurrences
    free = sum(1 for o in occurrences if o.ok)
    lines = _occurrence_lines(actor, occurrences)
    shown = (resource.pk, start, minutes, frequency, mask, interval, until_days, count)
    rows = []
    if free:
        rows.append([cb.button(texts.series_book_free(free), cb.SERIES_BOOK, *shown, SKIP)])
        rows.append([cb.button(texts.SERIES_BOOK_ALL, cb.SERIES_BOOK, *shown, ALL)])
    rows.append(back)
    text = texts.series_preview(resource.name, phrase, lines, free, len(occurrences))
    return Screen(text, rows, notice=str(notice))


def book(actor, resource_id, start, minutes, frequency, mask, interval, until_days, count, mode):
    resource = _resource(resource_id)
    access.require_bookable(actor, resource)
    if mode not in MODES:
        raise Expired()
    end = rules.add_elapsed(start, timedelta(minutes=minutes))
    rule, phrase = _rule(start, frequency, mask, interval, until_days, count, actor.zone)
    try:
        result = booking_series.series_create(
            user=actor.user, resource=resource, start=start, end=end, rrule=rule, mode=MODES[mode], receipt=False
        )
    except (errors.SeriesConflict, errors.SeriesNothingFree) as error:
        # Something changed since the preview: show it again as it is now, with why.
        return preview(actor, resource_id, start, minutes, frequency, mask, interval, until_days, count, error.message)
    except errors.BookingError as error:
        return Screen(texts.could_not_book(error.message), [[cb.button(texts.BACK, cb.RESOURCE, resource.pk)]])
    booked = [o.booking for o in result.booked]
    lines = _result_lines(actor, result)
    pending = any(b.status == BookingStatus.PENDING for b in booked)
    rows = [[cb.button(texts.MENU_MY, cb.MY, 0)], keyboards.to_menu()]
    return Screen(
        texts.series_booked(resource.name, phrase, lines, pending), rows, series_receipt_of=(result.series, "booked")
    )


def _result_lines(actor, result):
    """✓ for each occurrence booked, then ✗ for each refused, with the reasons."""
    booked = [o for o in result.occurrences if o.ok and o.booking is not None]
    return _occurrence_lines(actor, booked + [o for o in result.occurrences if not o.ok])


def _occurrence_lines(actor, occurrences):
    """One line per occurrence, ✓ or ✗ [n]; each distinct reason once below, as [n] reason.

    52 dates each with its reason spelt out would not fit in one message (4,096 characters).
    """
    reasons = list(dict.fromkeys(o.message for o in occurrences if not o.ok))
    lines = [
        texts.series_line(o.ok, texts.when(o.start, o.end, actor.zone), "" if o.ok else reasons.index(o.message) + 1)
        for o in occurrences
    ]
    return lines + [texts.series_reason(n, reason) for n, reason in enumerate(reasons, start=1)]


def typed(actor, request):
    """A typed series (bot.parsing.SeriesRequest): find the resource, start at the first such time ahead, preview."""
    matches = selectors.resources_matching(text=request.resource, limit=TYPED_MATCHES_SHOWN)
    if not matches:
        return Screen(texts.no_resource_named(request.resource))
    if len(matches) > 1:
        return Screen(texts.several_resources(request.resource), browse.resource_buttons(actor, matches))
    resource = matches[0]
    today = rules.today_in(actor.zone)
    day = today
    try:
        start = rules.local_datetime(day, request.time, zone=actor.zone)
        if start <= timezone.now():
            day = today + timedelta(days=1)
            start = rules.local_datetime(day, request.time, zone=actor.zone)
    except errors.UnclearLocalTime as error:
        return Screen(texts.could_not_book(error.message))
    until_days = (request.until - day).days if request.until else 0
    if request.until and until_days < 0:
        return Screen(texts.could_not_book(errors.SeriesEmpty().message))
    if until_days > cb.INDEX.highest or (request.count or 0) > cb.INDEX.highest:
        last = rules.last_bookable_day(resource, timezone.now())
        return Screen(texts.could_not_book(errors.SeriesBeyondHorizon(last=texts.day_label(last)).message))
    frequency = FREQUENCIES.index(request.frequency)
    minutes = int(request.duration.total_seconds() // 60)
    values = (frequency, _mask(request.weekdays), request.interval, until_days, request.count or 0)
    return preview(actor, resource.pk, start, minutes, *values)


# --- 🔁 Repeat… from the confirm screen -----------------------------------------------


def repeat_button(resource, start, minutes):
    return [cb.button(texts.REPEAT, cb.SERIES_REPEAT, resource.pk, start, minutes)]


def repeat(actor, resource_id, start, minutes):
    resource = _resource(resource_id)
    access.require_bookable(actor, resource)
    end = rules.add_elapsed(start, timedelta(minutes=minutes))
    month = month_of(start.astimezone(actor.zone).date())
    weekday = start.astimezone(rules.site_zone()).weekday()
    choices = (
        (texts.REPEAT_WEEKLY, 1, 1 << weekday),
        (texts.REPEAT_WORKDAYS, 1, WORKDAY_MASK),
        (texts.REPEAT_DAILY, 0, 0),
    )
    rows = [[cb.button(label, cb.SERIES_UNTIL, resource.pk, start, minutes, f, m, month)] for label, f, m in choices]
    rows.append(keyboards.back(cb.CONFIRM, resource.pk, start, minutes))
    return Screen(texts.repeat_choose(resource.name, texts.when(start, end, actor.zone)), rows)


def until(actor, resource_id, start, minutes, frequency, mask, year_month):
    """Until which day: a calendar from the day after the first occurrence to the booking horizon."""
    resource = _resource(resource_id)
    access.require_bookable(actor, resource)
    first_day = start.astimezone(actor.zone).date()
    last_day = rules.last_bookable_day(resource, timezone.now())
    if last_day <= first_day:
        return Screen(texts.could_not_book(errors.SeriesNothingToExtend().message))
    first_month, last_month = month_of(first_day + timedelta(days=1)), month_of(last_day)
    year_month = min(max(year_month, first_month), last_month)
    month_first, month_last = first_and_last_day(year_month)
    days = {
        month_first + timedelta(days=n)
        for n in range((month_last - month_first).days + 1)
        if first_day < month_first + timedelta(days=n) <= last_day
    }
    rows = month_keyboard(
        year_month,
        (first_month, last_month),
        days,
        day_button=lambda day: cb.button(
            str(day.day), cb.SERIES_PREVIEW, resource.pk, start, minutes, frequency, mask, 1, (day - first_day).days, 0
        ),
        month_button=lambda ym, label: cb.button(
            label, cb.SERIES_UNTIL, resource.pk, start, minutes, frequency, mask, ym
        ),
    )
    rows.append(keyboards.back(cb.SERIES_REPEAT, resource.pk, start, minutes))
    _text, phrase = _rule(start, frequency, mask, 1, 0, 0, actor.zone)
    return Screen(texts.repeat_until(resource.name, phrase), rows)


# --- /my: a series occurrence, cancel this and following / all; Extend series -------------


def card_extra(actor, booking):
    """(lines, rows) the booking card adds for an occurrence of a series."""
    if booking.series_id is None:
        return [], []
    found = booking.series
    lines = [texts.series_of_booking(_phrase_of(found, actor.zone))]
    if Action.CANCEL not in selectors.booking_actions(booking=booking, user=actor.user):
        return lines, []
    rows = [
        [
            cb.button(texts.SERIES_CANCEL_FOLLOWING, cb.SERIES_CANCEL_ASK, booking.pk, 0),
            cb.button(texts.SERIES_CANCEL_ALL, cb.SERIES_CANCEL_ASK, booking.pk, 1),
        ]
    ]
    return lines, rows


def _phrase_of(found, zone):
    """The series' stored rule as people read it (its parts, as the bot writes rules)."""
    parts = dict(part.split("=", 1) for part in found.rrule.split(";"))
    weekdays = tuple(booking_series.WEEKDAY_CODES.index(d[-2:]) for d in parts.get("BYDAY", "").split(",") if d)
    until = None
    if "UNTIL" in parts:
        until = datetime.strptime(parts["UNTIL"][:8], "%Y%m%d").date()
    count = int(parts["COUNT"]) if "COUNT" in parts else None
    return texts.series_rule(parts.get("FREQ", ""), weekdays, int(parts.get("INTERVAL", 1)), until, count)


def _cancellable(actor, booking, scope):
    found = booking.series
    occurrences = found.bookings.select_related("resource", "user").order_by("start")
    if scope == 0:
        occurrences = occurrences.filter(start__gte=booking.start)
    return [b for b in occurrences if Action.CANCEL in selectors.booking_actions(booking=b, user=actor.user)]


def ask_cancel(actor, booking_id, scope):
    booking = _own_occurrence(actor, booking_id)
    count = len(_cancellable(actor, booking, scope))
    if not count:
        raise errors.SeriesNothingToCancel()
    rows = [
        [
            cb.button(texts.YES_CANCEL, cb.SERIES_CANCEL, booking.pk, scope),
            cb.button(texts.NO_KEEP, cb.MY_BOOKING, booking.pk),
        ]
    ]
    return Screen(texts.series_confirm_cancel(booking.resource.name, count, following=scope == 0), rows)


def cancel(actor, booking_id, scope):
    from bot.handlers import my  # my imports this module for the booking card

    booking = _own_occurrence(actor, booking_id)
    start_from = booking.start if scope == 0 else None
    cancelled = booking_series.series_cancel(series=booking.series, by=actor.user, start_from=start_from)
    return my.booking_card(actor, booking.pk, notice=texts.series_cancelled(len(cancelled)))


def extend(actor, series_id):
    found = booking_series.series_get(series_id=series_id, user=actor.user)
    if found is None or found.user_id != actor.user.pk:
        raise Expired()
    result = booking_series.series_extend(series=found, by=actor.user, receipt=False)
    lines = _result_lines(actor, result)
    rows = [[cb.button(texts.MENU_MY, cb.MY, 0)], keyboards.to_menu()]
    return Screen(texts.series_extended(found.resource.name, lines), rows, series_receipt_of=(found, "extended"))


def _own_occurrence(actor, booking_id):
    booking = selectors.booking_get(booking_id=booking_id)
    if booking is None or booking.user_id != actor.user.pk or booking.series_id is None:
        raise Expired()
    return booking


PRESSES = {
    cb.SERIES_REPEAT: view_only(repeat),
    cb.SERIES_UNTIL: view_only(until),
    cb.SERIES_PREVIEW: view_only(preview),
    cb.SERIES_BOOK: view_only(book),
    cb.SERIES_CANCEL_ASK: view_only(ask_cancel),
    cb.SERIES_CANCEL: view_only(cancel),
    SERIES_EXTEND: view_only(extend),
}
