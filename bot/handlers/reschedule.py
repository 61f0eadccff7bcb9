"""Extend and move a booking from the chat.

Extend +30 min / +1 h (core.callbacks.BOOKING_EXTEND) sits on the before-end
reminder (notifications) and on the booking's card in /my, offered only when
bookings.selectors.booking_extensions_possible says it would work; each press
goes through bookings.reschedule.booking_extend, which decides again, so a
stale button gets the domain's answer on the refreshed card.

Move walks the booking's own resource through the booking flow's steps —
day (bot.calendar) → start → length → a confirm screen saying from when to
when and, like the booking's confirm screen, why the domain would refuse it
— and ends in bookings.reschedule.booking_move. The picker counts the moved
booking's own time as free, so it may shift into it ("half an hour later").
"""

from datetime import timedelta

from django.utils import timezone

from bookings import errors, reschedule, rules, selectors
from bookings.actions import refusal, require
from bookings.models import BookingStatus
from bookings.selectors import Action
from bot import callbacks as cb
from bot import keyboards, texts
from bot.calendar import first_and_last_day, month_keyboard, month_of
from bot.handlers.base import Screen, paginate, view_only
from bot.handlers.booking import length_choice
from bot.handlers.my import _own_booking, booking_card
from core.callbacks import BOOKING_EXTEND

STARTS_PER_PAGE = 24


def card_buttons(booking, user):
    """The card's Extend +30 min / +1 h (when they would work now) and Move (before the start)."""
    row = [
        cb.button(texts.extend_button(minutes), BOOKING_EXTEND, booking.pk, minutes)
        for minutes in selectors.booking_extensions_possible(booking, user=user)
    ]
    if refusal(Action.MOVE, booking=booking, user=user) is None:
        row.append(cb.button(texts.MOVE_BUTTON, cb.MOVE_DAYS, booking.pk, month_of(_local_day(booking.start, user))))
    return [row] if row else []


def extend(actor, booking_id, minutes):
    booking = _own_booking(actor, booking_id)
    try:
        booking = reschedule.booking_extend(booking=booking, by=actor.user, minutes=minutes)
    except errors.BookingError as error:
        # A stale button: say why, on the card as it is now (without the buttons that no longer work).
        screen = booking_card(actor, booking_id, notice=error.message)
        screen.alert = True
        return screen
    return booking_card(actor, booking_id, notice=texts.extended(texts.clock(booking.end, actor.zone)))


def move_days(actor, booking_id, year_month):
    booking = _movable(actor, booking_id)
    resource = booking.resource
    now = timezone.now()
    first_day, last_day = selectors.resource_bookable_dates(resource=resource, zone=actor.zone, now=now)
    first_month, last_month = month_of(first_day), month_of(last_day)
    year_month = min(max(year_month, first_month), last_month)
    month_first, month_last = first_and_last_day(year_month)
    first, last = max(first_day, month_first), min(last_day, month_last)
    bookable = selectors.booking_move_days(booking, first=first, last=last, zone=actor.zone, now=now)
    closed = selectors.resource_closed_days(resource=resource, first=first, last=last, zone=actor.zone)
    rows = month_keyboard(
        year_month,
        (first_month, last_month),
        bookable,
        day_button=lambda day: cb.button(str(day.day), cb.MOVE_STARTS, booking.pk, day, 0),
        month_button=lambda ym, label: cb.button(label, cb.MOVE_DAYS, booking.pk, ym),
        closed_days=closed,
    )
    rows.append(keyboards.back(cb.MY_BOOKING, booking.pk))
    text = texts.move_choose_day(booking, actor.zone)
    if closed:
        text += "\n\n" + texts.closed_days_legend(closed)
    return Screen(text, rows)


def move_starts(actor, booking_id, day, page):
    booking = _movable(actor, booking_id)
    resource = booking.resource
    free = selectors.booking_move_starts(booking, day=day, zone=actor.zone)
    back = keyboards.back(cb.MOVE_DAYS, booking.pk, month_of(day))
    if not free:
        return Screen(texts.no_free_starts(resource.name, day), [back])
    shown, page, pages = paginate(free, page, STARTS_PER_PAGE)
    buttons = [cb.button(texts.clock(s.start, actor.zone), cb.MOVE_LENGTHS, booking.pk, s.start) for s in shown]
    rows = keyboards.grid(buttons, 4) + keyboards.pager(page, pages, cb.MOVE_STARTS, booking.pk, day) + [back]
    return Screen(texts.choose_start(resource.name, day, actor.user.time_zone), rows)


def move_lengths(actor, booking_id, start):
    booking = _movable(actor, booking_id)
    resource = booking.resource
    lengths = selectors.booking_move_lengths(booking, start=start)
    day = _local_day(start, actor.user)
    if not lengths:
        screen = move_starts(actor, booking_id, day, 0)
        screen.notice = str(errors.SlotTaken.default_message)
        return screen
    choose = [cb.button(texts.length(d), cb.MOVE_CONFIRM, booking.pk, start, _minutes(d)) for d in lengths]
    return length_choice(actor, resource.name, start, choose, keyboards.back(cb.MOVE_STARTS, booking.pk, day, 0))


def move_confirm(actor, booking_id, start, minutes):
    booking = _movable(actor, booking_id)
    end = rules.add_elapsed(start, timedelta(minutes=minutes))
    refused = selectors.booking_move_refusal(booking, start=start, end=end, user=actor.user)
    rows = [] if refused else [[cb.button(texts.MOVE_YES, cb.MOVE_DO, booking.pk, start, minutes)]]
    rows.append(keyboards.back(cb.MOVE_LENGTHS, booking.pk, start))
    needs_approval = booking.resource.requires_approval and not actor.user.is_staff
    text = texts.confirm_move(
        booking,
        texts.when(start, end, actor.zone),
        actor.zone,
        needs_approval,
        refusal=refused.message if refused else "",
    )
    return Screen(text, rows)


def move(actor, booking_id, start, minutes):
    booking = _own_booking(actor, booking_id)
    end = rules.add_elapsed(start, timedelta(minutes=minutes))
    booking = reschedule.booking_move(booking=booking, by=actor.user, start=start, end=end)
    notice = texts.MOVED_PENDING if booking.status == BookingStatus.PENDING else texts.MOVED
    return booking_card(actor, booking_id, notice=notice)


def _movable(actor, booking_id):
    """The user's own booking, if it may still be moved (else the domain's refusal, as an alert)."""
    booking = _own_booking(actor, booking_id)
    require(Action.MOVE, booking=booking, user=actor.user)
    return booking


def _local_day(moment, user):
    return moment.astimezone(user.zone).date()


def _minutes(duration):
    return int(duration.total_seconds() // 60)


PRESSES = {
    BOOKING_EXTEND: view_only(extend),
    cb.MOVE_DAYS: view_only(move_days),
    cb.MOVE_STARTS: view_only(move_starts),
    cb.MOVE_LENGTHS: view_only(move_lengths),
    cb.MOVE_CONFIRM: view_only(move_confirm),
    cb.MOVE_DO: view_only(move),
}
