"""/my: upcoming bookings and recent history, each with the actions that apply now,
and the fair-use limits that bind the user, with their usage and when they reset.

Check in, Return early and Cancel (core.callbacks' BOOKING_* actions) are
also the buttons notifications put on reminders; they are handled here
whichever message carries them. Which of them a booking gets is the
domain's answer (bookings.selectors.booking_actions), the same rule the
services enforce. A booking id is looked up among the pressing user's own
bookings, so a forged id finds nothing.
"""

from bookings import actions, policies, selectors, services
from bookings.models import BookingStatus
from bookings.selectors import Action
from bot import callbacks as cb
from bot import keyboards, texts
from bot.handlers import loans, series
from bot.handlers.base import Expired, Screen, paginate, reply, view_only
from bot.pickup import with_pickup
from core.callbacks import BOOKING_APPROVE, BOOKING_CANCEL, BOOKING_CHECK_IN, BOOKING_FINISH, BOOKING_REJECT

PER_PAGE = 8
HISTORY_SHOWN = 5


def my_bookings(actor, page=0):
    upcoming = selectors.user_upcoming_bookings(user=actor.user)
    history = selectors.user_booking_history(user=actor.user, limit=HISTORY_SHOWN)
    quotas = policies.user_quota_usage(user=actor.user)
    standing = loans.standing_lines(actor.user, actor.zone)  # strikes and any suspension
    from bot.handlers import waitlist  # it re-renders this screen after Remove

    waiting_lines, waiting_rows = waitlist.my_section(actor) if page == 0 else ([], [])
    if not upcoming and not history and not waiting_lines:
        text = "\n".join([*standing, str(texts.NO_BOOKINGS)])
        if quotas:
            text += "\n\n" + "\n".join([str(texts.QUOTAS_TITLE)] + [texts.quota_line(u) for u in quotas])
        return Screen(text, keyboards.main_menu())
    shown, page, pages = paginate(upcoming, page, PER_PAGE)
    zone = actor.zone
    lines = [*standing, ""] if standing else []
    if upcoming:
        lines += [str(texts.UPCOMING) + (f" ({texts.page_of(page, pages)})" if pages > 1 else "")]
        lines += [texts.booking_line(b, zone) for b in shown]
    if history and page == 0:
        lines += ["", str(texts.HISTORY)]
        lines += [texts.booking_line(b, zone, reason=b.rejection_reason) for b in history]
    if quotas and page == 0:
        lines += ["", str(texts.QUOTAS_TITLE)] + [texts.quota_line(u) for u in quotas]
    rows = [
        [cb.button(f"#{b.pk} {b.resource.name}, {texts.when(b.start, b.end, zone)}", cb.MY_BOOKING, b.pk)]
        for b in shown
    ]
    rows += keyboards.pager(page, pages, cb.MY) + [keyboards.to_menu()]
    if page == 0:
        from bot.handlers import pools  # pools imports this module's action_buttons

        pool_lines, pool_rows = pools.my_section(actor)
        lines, rows = lines + pool_lines + waiting_lines, pool_rows + waiting_rows + rows
    return Screen("\n".join(lines), rows)


# The button of each action: its label and the callback the bot handles.
ACTION_BUTTONS = {
    Action.CHECK_IN: (texts.CHECK_IN, BOOKING_CHECK_IN),
    Action.RETURN: (texts.RETURN_EARLY, BOOKING_FINISH),
    Action.CANCEL: (texts.CANCEL_BOOKING, BOOKING_CANCEL),
    Action.APPROVE: (texts.APPROVE, BOOKING_APPROVE),
    Action.REJECT: (texts.REJECT, BOOKING_REJECT),
}


def action_buttons(booking, user, *, only=None):
    """A button for each action `user` may take on `booking` now (of `only`, when given)."""
    allowed = selectors.booking_actions(booking=booking, user=user)
    return [
        cb.button(*_button_of(action, booking), booking.pk)
        for action in allowed
        if action in ACTION_BUTTONS and (only is None or action in only)
    ]


def _button_of(action, booking):
    label, data = ACTION_BUTTONS[action]
    # An overdue item's return is no longer early.
    if action == Action.RETURN and booking.status == BookingStatus.OVERDUE:
        label = texts.RETURNED_BUTTON
    return label, data


def booking_card(actor, booking_id, notice=""):
    from bot.handlers import reschedule  # it imports this module's card

    booking = _own_booking(actor, booking_id)
    rows = keyboards.grid(action_buttons(booking, actor.user), 2) + reschedule.card_buttons(booking, actor.user)
    rows += keyboards.add_to_calendar(booking)
    from bot.handlers import waitlist  # a held booking (a waitlist offer): Take it / No thanks

    rows += waitlist.offer_rows(booking, actor.user)
    # An occurrence of a series: which series, and Cancel this and following / the whole series.
    series_lines, series_rows = series.card_extra(actor, booking)
    rows += series_rows + [keyboards.back(cb.MY, 0)]
    text = "\n".join([texts.booking_card(booking, actor.zone), *series_lines])
    return Screen(text, rows, notice=str(notice))


def check_in(actor, booking_id):
    booking = _own_booking(actor, booking_id)
    services.booking_check_in(booking=booking, by=actor.user)
    # Only now, and read from the resource now: the pickup instructions and access code.
    return with_pickup(booking_card(actor, booking_id, notice=texts.CHECKED_IN), booking)


def finish(actor, booking_id):
    services.booking_finish(booking=_own_booking(actor, booking_id), by=actor.user)
    return booking_card(actor, booking_id, notice=texts.RETURNED)


def ask_cancel(actor, booking_id):
    """Cancel needs a second press: show what will be cancelled, with Yes / No."""
    booking = _own_booking(actor, booking_id)
    # Asking "are you sure?" about something the service would refuse helps nobody.
    actions.require(Action.CANCEL, booking=booking, user=actor.user)
    rows = [
        [
            cb.button(texts.YES_CANCEL, cb.CANCEL_YES, booking.pk),
            cb.button(texts.NO_KEEP, cb.MY_BOOKING, booking.pk),
        ]
    ]
    return Screen(texts.confirm_cancel(booking, actor.zone), rows)


def cancel(actor, booking_id):
    services.booking_cancel(booking=_own_booking(actor, booking_id), by=actor.user)
    return booking_card(actor, booking_id, notice=texts.CANCELLED)


def _own_booking(actor, booking_id):
    """The user's own booking; staff are not special here (they act from /pending)."""
    booking = selectors.booking_get(booking_id=booking_id)
    if booking is None or booking.user_id != actor.user.pk:
        raise Expired()
    return booking


own_booking = _own_booking  # bot.handlers.feeds re-checks Add to calendar the same way


async def my_command(update, context):
    await reply(update, context, my_bookings)


COMMANDS = {"my": my_command}
PRESSES = {
    cb.MY: view_only(my_bookings),
    cb.MY_BOOKING: view_only(booking_card),
    BOOKING_CHECK_IN: view_only(check_in),
    BOOKING_FINISH: view_only(finish),
    BOOKING_CANCEL: view_only(ask_cancel),
    cb.CANCEL_YES: view_only(cancel),
}
