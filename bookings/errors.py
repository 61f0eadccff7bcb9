"""Domain errors: each has a stable code and a human message.

Every interface (REST API, bot, admin) turns a BookingError into a clear
answer; `code` is what clients match on, `message` what people read.
"""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy


class BookingError(Exception):
    """A refusal with a stable `code` and a message filled from keyword `params`.

    `default_message` is a lazy template, so the message is in the reader's
    language whenever it is read. A count in it goes through
    `ngettext_lazy(singular, plural, "<param>")`: the named param then picks
    the plural form ("1 day", "2 days"; Russian's three forms).
    """

    code = "booking_error"
    default_message = _("The booking cannot be made.")

    def __init__(self, message=None, **params):
        self.params = params
        self._message = message
        super().__init__(str(self.message))

    @property
    def message(self):
        template = self._message or self.default_message
        # Filled before str(): a plural template only knows its form once it sees the count.
        return str(template % self.params) if self.params else str(template)


def _error(name, code, message):
    # A plural template reads as "" until it has its count, hence the fallback.
    return type(name, (BookingError,), {"code": code, "default_message": message, "__doc__": str(message) or code})


SlotTaken = _error("SlotTaken", "slot_taken", _("This time is already booked."))
OutsideOpeningHours = _error(
    "OutsideOpeningHours", "outside_opening_hours", _("The resource is not open for the whole of this time.")
)
TooLong = _error("TooLong", "too_long", _("A booking may last at most %(limit)s."))
TooShort = _error("TooShort", "too_short", _("A booking must last at least %(limit)s."))
NotOnSlotGrid = _error(
    "NotOnSlotGrid",
    "not_on_slot_grid",
    ngettext_lazy(
        "Bookings start and end on a %(minutes)s-minute grid.",
        "Bookings start and end on a %(minutes)s-minute grid.",
        "minutes",
    ),
)
TooLateToBook = _error("TooLateToBook", "too_late_to_book", _("This resource must be booked at least %(limit)s ahead."))
TooFarAhead = _error(
    "TooFarAhead",
    "too_far_ahead",
    ngettext_lazy(
        "This resource can be booked at most %(days)s day ahead.",
        "This resource can be booked at most %(days)s days ahead.",
        "days",
    ),
)
InThePast = _error("InThePast", "in_the_past", _("This time is in the past."))
InvalidTimeRange = _error("InvalidTimeRange", "invalid_time_range", _("The end must be after the start."))
ResourceInactive = _error("ResourceInactive", "resource_inactive", _("This resource cannot be booked at the moment."))
NotAllowed = _error("NotAllowed", "not_allowed", _("You are not allowed to do this."))
WrongStatus = _error("WrongStatus", "wrong_status", _("This cannot be done to a booking that is %(status)s."))
AlreadyStarted = _error("AlreadyStarted", "already_started", _("This booking has already started."))
CheckInNotOpen = _error(
    "CheckInNotOpen",
    "check_in_not_open",
    ngettext_lazy(
        "Check-in opens %(minutes)s minute before the start.",
        "Check-in opens %(minutes)s minutes before the start.",
        "minutes",
    ),
)
CheckInClosed = _error("CheckInClosed", "check_in_closed", _("The check-in time for this booking is over."))
NoteTooLong = _error("NoteTooLong", "note_too_long", _("The note may be at most %(limit)s characters long."))
InvalidAlias = _error("InvalidAlias", "invalid_alias", _("An alias must have 1 to %(limit)s characters."))

# Institution policies (bookings.policies). Their messages are built there, with the details.
NotPermitted = _error("NotPermitted", "not_permitted", _("Only some groups may book this resource."))
QuotaExceeded = _error("QuotaExceeded", "quota_exceeded", _("This booking would exceed a fair-use limit."))
Closed = _error("Closed", "closed", _("The resource is closed at this time: %(reason)s."))
AccessRequestPending = _error(
    "AccessRequestPending", "access_request_pending", _("You have already asked for access to this resource.")
)
AlreadyPermitted = _error("AlreadyPermitted", "already_permitted", _("You may already book this resource."))
NoGroupToGrant = _error(
    "NoGroupToGrant",
    "no_group_to_grant",
    _(
        "This resource is open only to members of Telegram chats (%(chats)s): add the user to one of them, "
        "or give its access rule a Django group."
    ),
)
OutOfService = _error(
    "OutOfService", "out_of_service", _("This resource is out of service at the moment: it cannot be booked.")
)
ProblemReportInvalid = _error(
    "ProblemReportInvalid",
    "problem_report_invalid",
    _("Describe the problem in 1 to %(limit)s characters (a photo may come with it)."),
)
UnclearLocalTime = _error(
    "UnclearLocalTime",
    "unclear_local_time",
    _("This local time is skipped or repeated by a clock change in %(zone)s: choose another time."),
)

# Loans (bookings.services: returns, strikes, suspensions).
Suspended = _error("Suspended", "suspended", _("You may not book until %(until)s: too many late returns or no-shows."))
NotSuspended = _error("NotSuspended", "not_suspended", _("This suspension is not in force any more."))


class AlreadyBooked(SlotTaken):
    """The slot is held by the asking user's own live booking of exactly this time (a double tap):
    `booking` is that booking, so an interface can show it again instead of "taken"."""

    code = "already_booked"
    default_message = _("You have already booked this time (booking #%(booking_id)s).")

    def __init__(self, *, booking):
        self.booking = booking
        super().__init__(booking_id=booking.pk)


# Pools of identical units (bookings.pools).
NotEnoughUnits = _error(
    "NotEnoughUnits",
    "not_enough_units",
    ngettext_lazy(
        "Not enough units are free at this time: only %(free)s is free.",
        "Not enough units are free at this time: only %(free)s are free.",
        "free",
    ),
)
InvalidQuantity = _error(
    "InvalidQuantity",
    "invalid_quantity",
    ngettext_lazy("Ask for 1 unit.", "Ask for 1 to %(limit)s units.", "limit"),
)
NotInPool = _error("NotInPool", "not_in_pool", _("This unit is not part of the booking's pool."))

# Recurring series (bookings.series).
SeriesInvalidRule = _error(
    "SeriesInvalidRule", "series_invalid_rule", _("The repetition rule cannot be used: %(detail)s")
)
SeriesTooMany = _error(
    "SeriesTooMany",
    "series_too_many",
    ngettext_lazy(
        "A series may have at most %(limit)s occurrence.", "A series may have at most %(limit)s occurrences.", "limit"
    ),
)
SeriesEmpty = _error("SeriesEmpty", "series_empty", _("This repetition rule gives no occurrence."))
SeriesBeyondHorizon = _error(
    "SeriesBeyondHorizon",
    "series_beyond_horizon",
    _("The series runs past %(last)s, the last day this resource can be booked: end it earlier."),
)
SeriesConflict = _error(
    "SeriesConflict",
    "series_conflict",
    ngettext_lazy(
        "%(refused)s occurrence cannot be booked, so none was (all or nothing).",
        "%(refused)s occurrences cannot be booked, so none was (all or nothing).",
        "refused",
    ),
)
SeriesNothingFree = _error("SeriesNothingFree", "series_nothing_free", _("No occurrence of this series can be booked."))
SeriesNothingToCancel = _error(
    "SeriesNothingToCancel", "series_nothing_to_cancel", _("No occurrence of this series can be cancelled any more.")
)
SeriesNothingToExtend = _error(
    "SeriesNothingToExtend",
    "series_nothing_to_extend",
    _("The series cannot be extended: no further occurrence fits within the booking horizon."),
)
SeriesInvalidMode = _error(
    "SeriesInvalidMode",
    "series_invalid_mode",
    _("Choose how to book the series: preview, all_or_nothing or skip_conflicts."),
)

# Extend and move (bookings.reschedule).
NotExtendable = _error("NotExtendable", "not_extendable", _("This booking cannot be extended any more."))
NotMovable = _error("NotMovable", "not_movable", _("A booking can only be moved before it starts."))
InvalidExtension = _error(
    "InvalidExtension", "invalid_extension", _("An extension is a whole number of minutes, from 1 to %(limit)s.")
)
BookingChanged = _error(
    "BookingChanged", "booking_changed", _("This booking was changed meanwhile: look at it again and retry.")
)

# The waitlist (bookings.waitlist).
WaitlistSlotFree = _error(
    "WaitlistSlotFree", "waitlist_slot_free", _("This time is free: book it instead of waiting for it.")
)
WaitlistFull = _error(
    "WaitlistFull",
    "waitlist_full",
    ngettext_lazy(
        "You may wait for at most %(limit)s time at once: leave another waitlist first.",
        "You may wait for at most %(limit)s times at once: leave another waitlist first.",
        "limit",
    ),
)
WaitlistEntryGone = _error("WaitlistEntryGone", "waitlist_entry_gone", _("This waitlist entry is not open any more."))
OfferStale = _error("OfferStale", "offer_stale", _("This offer is not open any more."))
OfferLapsed = _error(
    "OfferLapsed", "offer_lapsed", _("This offer was not taken in time: it has gone to the next person waiting.")
)
