"""Loans in the bot: staff's Mark returned and Lift suspension in the admin group, and /my's standing.

The owner's Return of an overdue item is /my's Return button (BOOKING_FINISH,
bot.handlers.my); here are the admin group's buttons on the overdue and
suspension alerts (notifications.keyboards), which act as the admin who
pressed, and the lines /my shows about the user's strikes and suspension.
"""

from django.conf import settings

from bookings import selectors, services
from bot import texts
from bot.handlers.admin import admins_only
from bot.handlers.base import AdminsOnly, Expired, Screen
from core.callbacks import BOOKING_MARK_RETURNED, SUSPENSION_LIFT


def standing_lines(user, zone):
    """/my's lines about strikes and any suspension in force; none when there is nothing to say."""
    lines = []
    suspension = selectors.user_suspension(user=user)
    if suspension is not None:
        lines.append(texts.suspended_line(suspension.until, zone))
    strikes = selectors.user_strikes(user=user)
    if strikes:
        lines.append(texts.strikes_line(len(strikes), settings.STRIKES_WINDOW_DAYS))
    return lines


def mark_returned(actor, booking_id):
    _require_staff(actor)
    booking = selectors.booking_get(booking_id=booking_id, user=actor.user)
    if booking is None:
        raise Expired()
    services.booking_return(booking=booking, by=actor.user)
    return Screen(texts.marked_returned_by(texts.pending_line(booking, actor.zone), actor.user), notice=texts.RETURNED)


def lift_suspension(actor, suspension_id):
    _require_staff(actor)
    suspension = selectors.suspension_get(suspension_id=suspension_id, user=actor.user)
    if suspension is None:
        raise Expired()
    lifted = services.suspension_lift(suspension=suspension, by=actor.user)
    return Screen(texts.suspension_lifted_by(lifted.user, actor.user))


def _require_staff(actor):
    if not actor.user.is_staff:
        raise AdminsOnly()


PRESSES = {
    BOOKING_MARK_RETURNED: admins_only(mark_returned),
    SUSPENSION_LIFT: admins_only(lift_suspension),
}
