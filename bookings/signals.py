"""Signals the booking domain sends; other packages listen (notifications).

Sent inside the transaction of the change, so a receiver that writes rows
(the notification outbox) commits or rolls back together with the change.
"""

from django.dispatch import Signal

# Sent after one or more bookings moved from one status to another.
# Arguments: bookings (list of Booking, resource and user loaded), from_status
# ("" when the booking was just created), to_status, by (User or None for the
# system), reason (str), at (datetime), receipt (bool: False when the interface
# the booking was made in shows its result itself, the bot's reply: its receipt
# is then held until booking_receipt_resolved says whether that reply arrived).
# summarised (bool: several bookings changed together, a series, whose user gets
# one summary message from series_changed instead of one per booking).
bookings_transitioned = Signal()

# Sent when the interface a booking was made in (receipt=False) knows whether it
# showed the booking's result. Arguments: booking, shown (bool: True → the held
# receipt is not needed; False → it is owed, send it now).
booking_receipt_resolved = Signal()

# Sent when an access request is made (from_status "") or decided (from_status
# "pending"). Arguments: request (AccessRequest, user and resource loaded),
# from_status, to_status, by (the user who asked, or the deciding admin).
access_request_changed = Signal()

# Sent when staff take a resource out of service. Arguments: resource, upcoming
# (list of Booking, resource and user loaded: the live bookings not yet started,
# whose users are warned), by (the admin), at (datetime).
resource_out_of_service = Signal()

# Sent when a user reports a problem with a resource. Arguments: resource, user,
# text, photo (an opaque file id from the interface, or ""), key (names the
# report: the same key twice is one report), at (datetime).
resource_problem_reported = Signal()

# Sent when a user is suspended (lifted False, by None: the strikes did it) or a
# suspension is lifted by staff (lifted True, by the staff member). Arguments:
# suspension (Suspension, user loaded), lifted, by.
suspension_changed = Signal()

# Sent when time on a resource stops being taken by a live booking: a cancel, a
# rejection, the expiry of a no-show or an unapproved request, an early return,
# a move away, a closure lifted. Arguments: resource_id, start, end (the freed
# interval), at (datetime). Receivers (the waitlist) look for whoever waits for it.
time_freed = Signal()

# Sent when a recurring series changes as a whole: its occurrences booked
# (event "booked"), several cancelled at once ("cancelled"), or more added
# ("extended"). Arguments: series (BookingSeries, resource and user loaded),
# event, bookings (the occurrences it touched), by (User or None), at (datetime),
# receipt (bool: False when the interface shows the result itself, as for
# bookings_transitioned: the summary is then held until series_receipt_resolved).
series_changed = Signal()

# Sent when the interface that made or extended a series knows whether it showed
# the result. Arguments: series, event, shown (bool).
series_receipt_resolved = Signal()
# Sent when a booking is extended or moved (bookings.reschedule), inside its transaction.
# Arguments: booking (Booking, resource and user loaded, with its new times and status),
# change ("extended" or "moved"), from_status (its status before: a move of a booking
# that needs approval makes it pending again), old_start, old_end, by (User), at (datetime).
booking_rescheduled = Signal()
