"""Signals the booking domain sends; other packages listen (notifications).

Sent inside the transaction of the change, so a receiver that writes rows
(the notification outbox) commits or rolls back together with the change.
"""

from django.dispatch import Signal

# Sent after one or more bookings moved from one status to another.
# Arguments: bookings (list of Booking, resource and user loaded), from_status
# ("" when the booking was just created), to_status, by (User or None for the
# system), reason (str), at (datetime), receipt (bool: False when the owner
# already sees a new booking's result in their chat, so no receipt is sent).
bookings_transitioned = Signal()

# Sent when an access request is made (from_status "") or decided (from_status
# "pending"). Arguments: request (AccessRequest, user and resource loaded),
# from_status, to_status, by (the user who asked, or the deciding admin).
access_request_changed = Signal()
