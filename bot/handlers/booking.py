"""Booking a resource: day (calendar) → start → length → confirm → result, and typed /book.

Every step re-reads availability from bookings.selectors, so a button from
a stale screen shows what is free now; the final press goes through
bookings.services.booking_create, which decides (and a lost race becomes
"taken" with the nearest alternatives). A resource the user may not book
shows no calendar, and booking it anyway (a stale button, typed /book) gets
the domain's not_permitted answer with a Request access button.
"""

from datetime import timedelta

from django.utils import timezone

from bookings import errors, policies, rules, selectors, services
from bookings.models import BookingStatus
from bot import callbacks as cb
from bot import keyboards, texts
from bot.calendar import first_and_last_day, month_keyboard, month_of
from bot.handlers import access, browse, series, waitlist
from bot.handlers.base import Expired, Screen, paginate, reply, view_only
from bot.handlers.my import action_buttons
from bot.parsing import MAX_DURATION, BookSyntaxError, parse_book, parse_series

STARTS_PER_PAGE = 24
TYPED_MATCHES_SHOWN = 8


def calendar(actor, resource_id, year_month):
    resource = _resource(resource_id)
    access.require_bookable(actor, resource)
    now = timezone.now()
    first_day, last_day = selectors.resource_bookable_dates(resource=resource, zone=actor.zone, now=now)
    first_month, last_month = month_of(first_day), month_of(last_day)
    year_month = min(max(year_month, first_month), last_month)
    month_first, month_last = first_and_last_day(year_month)
    first, last = max(first_day, month_first), min(last_day, month_last)
    bookable = selectors.resource_free_days(resource=resource, first=first, last=last, zone=actor.zone, now=now)
    closed = selectors.resource_closed_days(resource=resource, first=first, last=last, zone=actor.zone)
    rows = month_keyboard(
        year_month,
        (first_month, last_month),
        bookable,
        day_button=lambda day: cb.button(str(day.day), cb.STARTS, resource.pk, day, 0),
        month_button=lambda ym, label: cb.button(label, cb.CALENDAR, resource.pk, ym),
        closed_days=closed,
    )
    rows.append(keyboards.back(cb.RESOURCE, resource.pk))
    text = texts.choose_day(resource.name)
    if closed:
        text += "\n\n" + texts.closed_days_legend(closed)
    return Screen(text, rows)


def starts(actor, resource_id, day, page):
    resource = _resource(resource_id)
    access.require_bookable(actor, resource)
    free = selectors.resource_free_starts(resource=resource, day=day, zone=actor.zone)
    closures = selectors.resource_closures_on(resource=resource, day=day, zone=actor.zone)
    closed = "".join("\n" + texts.closed_part_of_day(c, actor.zone) for c in closures)
    back = keyboards.back(cb.CALENDAR, resource.pk, month_of(day))
    if not free:
        return Screen(texts.no_free_starts(resource.name, day) + closed, [back])
    shown, page, pages = paginate(free, page, STARTS_PER_PAGE)
    buttons = [cb.button(texts.clock(s.start, actor.zone), cb.DURATIONS, resource.pk, s.start) for s in shown]
    rows = keyboards.grid(buttons, 4) + keyboards.pager(page, pages, cb.STARTS, resource.pk, day) + [back]
    return Screen(texts.choose_start(resource.name, day, actor.user.time_zone) + closed, rows)


def durations(actor, resource_id, start):
    resource = _resource(resource_id)
    access.require_bookable(actor, resource)
    lengths = selectors.resource_durations_at(resource=resource, start=start)
    day = start.astimezone(actor.zone).date()
    if not lengths:
        screen = starts(actor, resource_id, day, 0)
        screen.notice = str(errors.SlotTaken.default_message)
        return screen
    choose = [cb.button(texts.length(d), cb.CONFIRM, resource.pk, start, _minutes(d)) for d in lengths]
    return length_choice(actor, resource.name, start, choose, keyboards.back(cb.STARTS, resource.pk, day, 0))


def length_choice(actor, name, start, choose, back):
    """The length step of a picker (booking, move): the `choose` buttons in rows of three, then `back`."""
    day = start.astimezone(actor.zone).date()
    start_text = f"{texts.day_label(day)} {texts.clock(start, actor.zone)}"
    return Screen(texts.choose_length(name, start_text), keyboards.grid(choose, 3) + [back])


def confirm(actor, resource_id, start, minutes):
    resource = _resource(resource_id)
    access.require_bookable(actor, resource)
    end = rules.add_elapsed(start, timedelta(minutes=minutes))
    rules.validate_booking_times(resource, start, end)
    # The domain answers both: the user's room under each quota, and whether it would refuse this booking.
    quotas = [usage.describe() for usage in policies.user_quota_usage(user=actor.user, resource=resource)]
    refusal = selectors.booking_policy_refusal(user=actor.user, resource=resource, start=start, end=end)
    rows = [] if refusal else [[cb.button(texts.CONFIRM, cb.BOOK, resource.pk, start, minutes)]]
    if not refusal:
        rows.append(series.repeat_button(resource, start, minutes))
    rows.append(keyboards.back(cb.DURATIONS, resource.pk, start))
    text = texts.confirm_booking(
        resource,
        texts.when(start, end, actor.zone),
        resource.requires_approval,
        quota_lines=quotas,
        refusal=refusal.message if refusal else "",
    )
    return Screen(text, rows)


def book(actor, resource_id, start, minutes):
    return _book(actor, _resource(resource_id), start, rules.add_elapsed(start, timedelta(minutes=minutes)))


def typed_book(actor, words):
    """/book <resource> <date> <time> <length>: book at once, or say what could not be read.

    `/book <resource> every tue 14:00 2h until …` (a repetition) previews a series (bot.handlers.series)."""
    today = rules.today_in(actor.zone)
    try:
        repetition = parse_series(words, today=today)
        if repetition is not None:
            return series.typed(actor, repetition)
        request = parse_book(words, today=today)
    except BookSyntaxError as error:
        usage = texts.book_usage()
        if error.part == "arguments":
            return Screen(usage)
        if error.part in ("date_range", "duration_range"):
            problem = texts.out_of_range(
                error.part,
                error.value,
                first_year=rules.FIRST_YEAR,
                last_year=rules.LAST_YEAR,
                max_days=MAX_DURATION.days,
            )
            return Screen(problem + "\n\n" + usage)
        return Screen(texts.unreadable(error.part, error.value) + "\n\n" + usage)
    matches = selectors.resources_matching(text=request.resource, limit=TYPED_MATCHES_SHOWN)
    if not matches:
        return Screen(texts.no_resource_named(request.resource))
    if len(matches) > 1:
        rows = browse.resource_buttons(actor, matches[:TYPED_MATCHES_SHOWN])
        return Screen(texts.several_resources(request.resource), rows)
    try:
        start = rules.local_datetime(request.day, request.time, zone=actor.zone)
    except errors.UnclearLocalTime as error:
        return Screen(texts.could_not_book(error.message))
    # Real elapsed time: on a DST day 01:00 + 2h ends at 04:00 local, not 03:00.
    return _book(actor, matches[0], start, rules.add_elapsed(start, request.duration))


def _book(actor, resource, start, end):
    """Book, and answer with the result and its buttons: this reply is the booking's receipt."""
    try:
        booking = services.booking_create(user=actor.user, resource=resource, start=start, end=end, receipt=False)
    except errors.AlreadyBooked as already:
        # A double-tapped Confirm: show the receipt of the booking the first press made.
        booking = already.booking
    except errors.SlotTaken:
        return alternatives(actor, resource, start, end)
    except errors.NotPermitted as error:
        rows = [[access.request_button(resource)], keyboards.back(cb.RESOURCE, resource.pk)]
        return Screen(texts.could_not_book(error.message), rows)
    except errors.BookingError as error:
        back = keyboards.back(cb.CALENDAR, resource.pk, month_of(start.astimezone(actor.zone).date()))
        return Screen(texts.could_not_book(error.message), [back])
    when_text = texts.when(booking.start, booking.end, actor.zone)
    if booking.status == BookingStatus.PENDING:
        text = texts.requested(resource.name, when_text)
    else:
        text = texts.booked(resource.name, when_text)
        if booking.check_in_deadline:
            text += "\n" + texts.check_in_by(texts.clock(booking.check_in_deadline, actor.zone))
    rows = keyboards.grid(action_buttons(booking, actor.user), 2) + keyboards.add_to_calendar(booking)
    rows += [[cb.button(texts.MENU_MY, cb.MY, 0)], keyboards.to_menu()]
    return Screen(text, rows, receipt_of=booking)


def alternatives(actor, resource, start, end):
    """The slot was taken: offer the same length at the nearest free starts, and similar resources."""
    same, others = selectors.nearest_free_alternatives(resource=resource, start=start, end=end)
    length = rules.length_of(start, end)
    minutes = _minutes(length)
    rows = [
        [
            cb.button(
                f"{resource.name}: {texts.when(s, rules.add_elapsed(s, length), actor.zone)}",
                cb.CONFIRM,
                resource.pk,
                s,
                minutes,
            )
        ]
        for s in same
    ]
    # Other resources only where this user may book them: an alternative is a start they can take.
    others = policies.resources_only_bookable(user=actor.user, resources=others)
    rows += [
        [cb.button(f"{other.name}: {texts.when(start, end, actor.zone)}", cb.CONFIRM, other.pk, start, minutes)]
        for other in others
    ]
    # Or wait for this very time: the waitlist offers it when it is free again.
    rows.append([waitlist.join_button(resource, start, end)])
    rows.append(keyboards.back(cb.CALENDAR, resource.pk, month_of(start.astimezone(actor.zone).date())))
    return Screen(texts.slot_taken(bool(same or others)), rows, notice=str(errors.SlotTaken.default_message))


def _resource(resource_id):
    resource = selectors.resource_get(resource_id=resource_id)
    if resource is None:
        raise Expired()
    return resource


def _minutes(duration):
    return int(duration.total_seconds() // 60)


async def book_command(update, context):
    await reply(update, context, typed_book, list(context.args or []))


COMMANDS = {"book": book_command}
PRESSES = {
    cb.CALENDAR: view_only(calendar),
    cb.STARTS: view_only(starts),
    cb.DURATIONS: view_only(durations),
    cb.CONFIRM: view_only(confirm),
    cb.BOOK: view_only(book),
}
