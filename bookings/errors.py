"""Domain errors: each has a stable code and a human message.

Every interface (REST API, bot, admin) turns a BookingError into a clear
answer; `code` is what clients match on, `message` what people read.
"""

from django.utils.translation import gettext_lazy as _


class BookingError(Exception):
    code = "booking_error"
    default_message = _("The booking cannot be made.")

    def __init__(self, message=None, **params):
        self.params = params
        self._message = message
        super().__init__(str(self.message))

    @property
    def message(self):
        template = self._message or self.default_message
        return str(template) % self.params if self.params else str(template)


def _error(name, code, message):
    return type(name, (BookingError,), {"code": code, "default_message": message, "__doc__": str(message)})


SlotTaken = _error("SlotTaken", "slot_taken", _("This time is already booked."))
OutsideOpeningHours = _error(
    "OutsideOpeningHours", "outside_opening_hours", _("The resource is not open for the whole of this time.")
)
TooLong = _error("TooLong", "too_long", _("A booking may last at most %(limit)s."))
TooShort = _error("TooShort", "too_short", _("A booking must last at least %(limit)s."))
NotOnSlotGrid = _error("NotOnSlotGrid", "not_on_slot_grid", _("Bookings start and end on a %(minutes)s-minute grid."))
TooLateToBook = _error("TooLateToBook", "too_late_to_book", _("This resource must be booked at least %(limit)s ahead."))
TooFarAhead = _error("TooFarAhead", "too_far_ahead", _("This resource can be booked at most %(days)s days ahead."))
InThePast = _error("InThePast", "in_the_past", _("This time is in the past."))
InvalidTimeRange = _error("InvalidTimeRange", "invalid_time_range", _("The end must be after the start."))
ResourceInactive = _error("ResourceInactive", "resource_inactive", _("This resource cannot be booked at the moment."))
NotAllowed = _error("NotAllowed", "not_allowed", _("You are not allowed to do this."))
WrongStatus = _error("WrongStatus", "wrong_status", _("This cannot be done to a booking that is %(status)s."))
AlreadyStarted = _error("AlreadyStarted", "already_started", _("This booking has already started."))
CheckInNotOpen = _error(
    "CheckInNotOpen", "check_in_not_open", _("Check-in opens %(minutes)s minutes before the start.")
)
CheckInClosed = _error("CheckInClosed", "check_in_closed", _("The check-in time for this booking is over."))
NoteTooLong = _error("NoteTooLong", "note_too_long", _("The note may be at most %(limit)s characters long."))


class AlreadyBooked(SlotTaken):
    """The slot is held by the asking user's own live booking of exactly this time (a double tap):
    `booking` is that booking, so an interface can show it again instead of "taken"."""

    code = "already_booked"
    default_message = _("You have already booked this time (booking #%(booking_id)s).")

    def __init__(self, *, booking):
        self.booking = booking
        super().__init__(booking_id=booking.pk)
