"""The compact codec for inline-button callback data, shared by bot and notifications.

Notification messages carry buttons (Check in, Return early, Cancel,
Approve / Reject) that the bot handles, and neither package may import the
other (DESIGN.md), so the format lives here. Telegram allows 64 bytes of
callback_data; numbers are written in base 36, so any booking id fits.

Decoding is strict: anything that is not exactly what encode() makes raises
InvalidCallback, which the bot answers with "this button has expired". A
well-formed button is still only a request: the server re-checks that the
pressing user may do it (bookings.services do).
"""

import re
from dataclasses import dataclass

MAX_BYTES = 64
SEPARATOR = ":"
_ARG = re.compile(r"^[0-9a-z]{1,13}$")  # base-36 of a 64-bit id is at most 13 characters
_ACTION = re.compile(r"^[a-z][a-z0-9]{0,7}$")

# Actions on a booking that notifications put on messages, and the bot handles.
BOOKING_CHECK_IN = "ci"
BOOKING_FINISH = "fin"
BOOKING_CANCEL = "cx"
BOOKING_APPROVE = "ap"
BOOKING_REJECT = "rj"
# Access requests: the admins' decision on an alert, and the resource card a granted user is sent to.
ACCESS_APPROVE = "aca"
ACCESS_REJECT = "acr"
RESOURCE_CARD = "rv"
# Staff's answer to a problem report in the admin group (the argument is a resource id).
RESOURCE_OUT_OF_SERVICE = "oos"
RESOURCE_IN_SERVICE = "ins"
# Loans, in the admin group: staff's Mark returned (a booking id) and Lift suspension (a suspension id).
BOOKING_MARK_RETURNED = "mr"
SUSPENSION_LIFT = "lift"
# Recurring series: Extend series on the "your series ends" message (the argument is a series id).
SERIES_EXTEND = "sxt"
# Extend and move: Extend +N min on the before-end reminder and in /my (booking id, minutes).
BOOKING_EXTEND = "ext"
# Add to calendar on a booking's receipt: the bot sends that booking as an .ics file (a booking id).
BOOKING_ICS = "ics"
# The waitlist's offer message (a held booking id): Take it, No thanks.
WAITLIST_TAKE = "wtk"
WAITLIST_DECLINE = "wdc"


class InvalidCallback(ValueError):
    """Callback data that this codec did not make (forged, stale format, oversized)."""


@dataclass(frozen=True)
class Callback:
    action: str
    args: tuple  # of non-negative ints


def _to_base36(number):
    if not isinstance(number, int) or isinstance(number, bool) or number < 0:
        raise ValueError(f"callback arguments are non-negative integers, got {number!r}")
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text


def encode(action, *args):
    """'ci', 12345 -> 'ci:9ix'. Raises ValueError if the result would not fit 64 bytes."""
    if not _ACTION.match(action):
        raise ValueError(f"bad callback action {action!r}")
    data = SEPARATOR.join([action, *(_to_base36(a) for a in args)])
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def decode(data):
    """The Callback that `data` encodes, or InvalidCallback."""
    if not isinstance(data, str) or not data or len(data.encode("utf-8", "replace")) > MAX_BYTES:
        raise InvalidCallback(data)
    action, *raw_args = data.split(SEPARATOR)
    if not _ACTION.match(action) or not all(_ARG.match(a) for a in raw_args):
        raise InvalidCallback(data)
    return Callback(action, tuple(int(a, 36) for a in raw_args))
