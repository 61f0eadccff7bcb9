"""Inline keyboards on notification messages, as Telegram's JSON.

Which buttons a message gets is asked of the domain at render time
(bookings.selectors.booking_actions), so a receipt made days ahead has no
Check in button while a reminder inside the check-in window has it. The
buttons carry core.callbacks data that the bot handles (notifications and
bot do not import each other); the bot re-checks on every press that the
pressing user may do what the button says.
"""

from django.utils.translation import gettext as _

from bookings import feeds, rules, selectors
from bookings.selectors import Action
from core import callbacks

# The label (read in the recipient's language at render time) and callback of each action.
_BUTTONS = {
    Action.CHECK_IN: (lambda: _("Check in"), callbacks.BOOKING_CHECK_IN),
    Action.RETURN: (lambda: _("Return early"), callbacks.BOOKING_FINISH),
    Action.CANCEL: (lambda: _("Cancel booking"), callbacks.BOOKING_CANCEL),
    Action.APPROVE: (lambda: _("Approve"), callbacks.BOOKING_APPROVE),
    Action.REJECT: (lambda: _("Reject"), callbacks.BOOKING_REJECT),
}


def for_owner(booking, *, now=None):
    """The buttons of a message to the booking's user: what they may do with it now."""
    return _markup(booking, selectors.booking_actions(booking=booking, user=booking.user, now=now))


def for_ending_owner(booking, *, now=None):
    """The before-end reminder: the owner's actions, and Extend +30 min / +1 h where that would work now."""
    markup = for_owner(booking, now=now) or {"inline_keyboard": []}
    row = [
        {"text": extend_label(m), "callback_data": callbacks.encode(callbacks.BOOKING_EXTEND, booking.pk, m)}
        for m in selectors.booking_extensions_possible(booking, now)
    ]
    if row:
        markup["inline_keyboard"].append(row)
    return markup if markup["inline_keyboard"] else None


def extend_label(minutes):
    return _("Extend +%(length)s") % {"length": rules.format_minutes(minutes)}


def for_receipt(booking, *, now=None):
    """A booking's receipt (booked, waiting, approved): the owner's actions, and Add to calendar
    (the bot sends the booking as an .ics file) while the domain offers it."""
    markup = for_owner(booking, now=now) or {"inline_keyboard": []}
    if feeds.booking_offers_calendar_file(booking=booking, now=now):
        data = callbacks.encode(callbacks.BOOKING_ICS, booking.pk)
        markup["inline_keyboard"].append([{"text": _("📅 Add to calendar"), "callback_data": data}])
    return markup if markup["inline_keyboard"] else None


def for_overdue_owner(booking, *, now=None):
    """A message about an overdue item: its Return reads "Returned" (it is no longer early)."""
    if Action.RETURN not in selectors.booking_actions(booking=booking, user=booking.user, now=now):
        return None
    return _one_button(_("Returned"), callbacks.BOOKING_FINISH, booking.pk)


def for_overdue_admins(booking, *, now=None):
    """The admin group's overdue alert: staff's Mark returned, while the item is still out."""
    if Action.RETURN not in selectors.booking_actions(booking=booking, user=selectors.ANY_STAFF, now=now):
        return None
    return _one_button(_("Mark returned"), callbacks.BOOKING_MARK_RETURNED, booking.pk)


def for_suspension_admins(suspension_id):
    """The admin group's message about a suspension: Lift suspension."""
    return _one_button(_("Lift suspension"), callbacks.SUSPENSION_LIFT, suspension_id)


def _one_button(label, data, number):
    return {"inline_keyboard": [[{"text": label, "callback_data": callbacks.encode(data, number)}]]}


def for_admins(booking, *, now=None):
    """The buttons of an alert in the admin group: the staff's decisions (Approve / Reject) open now."""
    allowed = selectors.booking_actions(booking=booking, user=selectors.ANY_STAFF, now=now)
    return _markup(booking, [a for a in allowed if a in (Action.APPROVE, Action.REJECT)])


def for_access_request(request):
    """Approve / Reject on an access request's alert in the admin group (the bot re-checks each press)."""
    row = [
        {"text": _("Approve"), "callback_data": callbacks.encode(callbacks.ACCESS_APPROVE, request.pk)},
        {"text": _("Reject"), "callback_data": callbacks.encode(callbacks.ACCESS_REJECT, request.pk)},
    ]
    return {"inline_keyboard": [row]}


def to_resource(resource):
    """One button that opens the resource's card in the bot (after access was granted)."""
    row = [
        {
            "text": _("Open %(name)s") % {"name": resource.name},
            "callback_data": callbacks.encode(callbacks.RESOURCE_CARD, resource.pk),
        }
    ]
    return {"inline_keyboard": [row]}


def _markup(booking, actions):
    row = [
        {"text": label(), "callback_data": callbacks.encode(data, booking.pk)}
        for label, data in (_BUTTONS[a] for a in actions if a in _BUTTONS)
    ]
    return {"inline_keyboard": [row]} if row else None


def for_resource_admins(resource_id):
    """The button under a problem report: take the resource out of service, or put it back."""
    resource = selectors.resource_get(resource_id=resource_id, include_inactive=True) if resource_id else None
    if resource is None:
        return None
    if resource.out_of_service:
        label, data = _("Back in service"), callbacks.RESOURCE_IN_SERVICE
    else:
        label, data = _("Mark out of service"), callbacks.RESOURCE_OUT_OF_SERVICE
    return {"inline_keyboard": [[{"text": label, "callback_data": callbacks.encode(data, resource.pk)}]]}


def for_series_ending(series):
    """Extend series, on the "your series ends soon" message (the bot re-checks the press)."""
    return _one_button(_("Extend series"), callbacks.SERIES_EXTEND, series.pk)


def for_waitlist_offer(booking):
    """Take it / No thanks under a waitlist offer (the bot re-checks that the presser holds it)."""
    row = [
        {"text": _("Take it"), "callback_data": callbacks.encode(callbacks.WAITLIST_TAKE, booking.pk)},
        {"text": _("No thanks"), "callback_data": callbacks.encode(callbacks.WAITLIST_DECLINE, booking.pk)},
    ]
    return {"inline_keyboard": [row]}
