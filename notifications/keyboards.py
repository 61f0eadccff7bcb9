"""Inline keyboards on notification messages, as Telegram's JSON.

The buttons carry core.callbacks data that the bot handles (notifications
and bot do not import each other); the bot re-checks on every press that the
pressing user may do what the button says.
"""

from django.utils.translation import gettext as _

from core import callbacks


def _button(text, action, booking_id):
    return {"text": text, "callback_data": callbacks.encode(action, booking_id)}


def _markup(*rows):
    rows = [row for row in rows if row]
    return {"inline_keyboard": rows} if rows else None


def upcoming_booking(booking):
    """Check in (when the resource needs it) and Cancel, for a confirmed booking."""
    row = []
    if booking.resource.requires_check_in:
        row.append(_button(_("Check in"), callbacks.BOOKING_CHECK_IN, booking.pk))
    row.append(_button(_("Cancel booking"), callbacks.BOOKING_CANCEL, booking.pk))
    return _markup(row)


def waiting_booking(booking):
    return _markup([_button(_("Cancel booking"), callbacks.BOOKING_CANCEL, booking.pk)])


def running_booking(booking):
    return _markup([_button(_("Return early"), callbacks.BOOKING_FINISH, booking.pk)])


def approval_request(booking):
    return _markup(
        [
            _button(_("Approve"), callbacks.BOOKING_APPROVE, booking.pk),
            _button(_("Reject"), callbacks.BOOKING_REJECT, booking.pk),
        ]
    )
