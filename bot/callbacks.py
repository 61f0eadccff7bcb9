"""The bot's inline-button actions and their typed arguments.

Button data is written with core.callbacks (compact base-36, at most 64
bytes) so buttons that notifications put on messages and the bot's own
buttons share one format. Each action here declares what its arguments are;
`parse` accepts only data with exactly that shape and values in range, and
turns them back into dates, datetimes and ids. Everything else is
InvalidCallback, which the bot answers with "this button has expired".
A parsed press is still only a request: handlers re-check it on the server.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from telegram import InlineKeyboardButton

from core import callbacks as codec
from core.callbacks import (
    ACCESS_APPROVE,
    ACCESS_REJECT,
    BOOKING_APPROVE,
    BOOKING_CANCEL,
    BOOKING_CHECK_IN,
    BOOKING_EXTEND,
    BOOKING_FINISH,
    BOOKING_ICS,
    BOOKING_MARK_RETURNED,
    BOOKING_REJECT,
    RESOURCE_CARD,
    RESOURCE_IN_SERVICE,
    RESOURCE_OUT_OF_SERVICE,
    SERIES_EXTEND,
    SUSPENSION_LIFT,
    WAITLIST_DECLINE,
    WAITLIST_TAKE,
    InvalidCallback,
)

__all__ = ["InvalidCallback", "Press", "button", "parse"]

# --- Argument kinds: (to int for the button, from int after checking the range) ---

_MAX_ID = 2**63 - 1  # a PostgreSQL bigint; a larger "id" is forged, not a lookup to try
_FIRST_DAY = date(2000, 1, 1).toordinal()
_LAST_DAY = date(2999, 12, 31).toordinal()
_FIRST_MINUTE = int(datetime(2000, 1, 1, tzinfo=UTC).timestamp()) // 60
_LAST_MINUTE = int(datetime(3000, 1, 1, tzinfo=UTC).timestamp()) // 60 - 1


@dataclass(frozen=True)
class _Kind:
    name: str
    lowest: int
    highest: int
    to_int: object = int
    from_int: object = int


def _minute_to_int(moment):
    seconds = int(moment.timestamp())
    if seconds % 60:
        raise ValueError(f"button times are whole minutes, got {moment!r}")
    return seconds // 60


ID = _Kind("id", 1, _MAX_ID)
INDEX = _Kind("index", 0, 999)
PAGE = _Kind("page", 0, 9999)
MINUTES = _Kind("minutes", 1, 7 * 24 * 60)
DAY = _Kind("day", _FIRST_DAY, _LAST_DAY, date.toordinal, date.fromordinal)
MOMENT = _Kind("moment", _FIRST_MINUTE, _LAST_MINUTE, _minute_to_int, lambda n: datetime.fromtimestamp(n * 60, tz=UTC))
MONTH = _Kind(
    "month",
    2000 * 12,
    2999 * 12 + 11,
    lambda year_month: year_month[0] * 12 + year_month[1] - 1,
    lambda n: (n // 12, n % 12 + 1),
)

# --- Actions ---------------------------------------------------------------------

MENU = "mn"
KINDS = "rk"
CATEGORIES = "rc"
RESOURCES = "rl"
RESOURCE = RESOURCE_CARD  # shared: the "you may now book it" message opens the card
CALENDAR = "bd"
STARTS = "bs"
DURATIONS = "bl"
CONFIRM = "bk"
BOOK = "bc"
FREE_DAYS = "fd"
FREE_FROM = "ff"
FREE_LENGTH = "fl"
FREE_LIST = "fr"
MY = "my"
MY_BOOKING = "mb"
CANCEL_YES = "cy"
PENDING = "pd"
TODAY = "td"
SETTINGS = "st"
LANGUAGE = "sl"
TIME_ZONES = "sz"
TIME_ZONE = "tz"
TIME_ZONE_TYPE = "tt"
ACCESS_ASK = "acq"  # Request access on a restricted card
NOTHING = "no"  # calendar fillers: answered, nothing happens
STICKER = "sk"  # the card a QR sticker opens (bot.handlers.sticker)
STICKER_REPORT = "sp"
# Pools (bot.handlers.pools).
POOLS = "pl"
POOL = "pv"
POOL_QUANTITY = "pq"
POOL_BOOK = "pb"
POOL_REQUEST = "pm"
POOL_CANCEL = "px"
POOL_RETURN = "pr"
POOL_SWAPS = "ps"
POOL_SWAP = "pw"
# Recurring series (bot.handlers.series). A rule travels as five small numbers (RULE below).
SERIES_REPEAT = "srp"
SERIES_UNTIL = "sru"
SERIES_PREVIEW = "sv"
SERIES_BOOK = "sbk"
SERIES_CANCEL_ASK = "sxa"
SERIES_CANCEL = "sxc"

# A series rule: frequency (0 daily, 1 weekly, 2 monthly), weekday mask (bit 0 = Monday), interval,
# until (days after the first occurrence's date, 0 = none), count (0 = none).
RULE = (INDEX, INDEX, INDEX, INDEX, INDEX)
# Move (bot.handlers.reschedule): the booking's own day → start → length → confirm flow.
MOVE_DAYS = "mvd"
MOVE_STARTS = "mvs"
MOVE_LENGTHS = "mvl"
MOVE_CONFIRM = "mvc"
MOVE_DO = "mvy"
# Calendar feeds (bot.handlers.feeds): /settings → Calendar link, Renew, Revoke.
CALENDAR_LINK = "fcl"
CALENDAR_RENEW = "fcr"
CALENDAR_REVOKE = "fcx"
# Day timeline pictures (bot.handlers.timeline): the scope's ids and the day shown; ◀ ▶ edit the photo.
TIMELINE_RESOURCE = "tlr"
TIMELINE_CATEGORY = "tlc"
TIMELINE_POOL = "tlp"
TIMELINE_FREE = "tlf"
TIMELINE_ADMINS = "tla"
# The waitlist (bot.handlers.waitlist): Notify me when free (resource, start, length), Remove (an entry).
WAITLIST_JOIN = "wjn"
WAITLIST_LEAVE = "wlv"

ARGUMENTS = {
    MENU: (),
    KINDS: (),
    CATEGORIES: (INDEX,),  # kind
    RESOURCES: (INDEX, INDEX, PAGE),  # kind, category (0 = all), page
    RESOURCE: (ID,),
    CALENDAR: (ID, MONTH),
    STARTS: (ID, DAY, PAGE),
    DURATIONS: (ID, MOMENT),
    CONFIRM: (ID, MOMENT, MINUTES),
    BOOK: (ID, MOMENT, MINUTES),
    FREE_DAYS: (),
    FREE_FROM: (DAY,),
    FREE_LENGTH: (MOMENT,),
    FREE_LIST: (MOMENT, MINUTES, PAGE),
    MY: (PAGE,),
    MY_BOOKING: (ID,),
    CANCEL_YES: (ID,),
    PENDING: (PAGE,),
    TODAY: (PAGE,),
    SETTINGS: (),
    LANGUAGE: (INDEX,),
    TIME_ZONES: (),
    TIME_ZONE: (INDEX,),
    TIME_ZONE_TYPE: (),
    ACCESS_ASK: (ID,),  # resource
    NOTHING: (),
    POOLS: (),
    POOL: (ID, DAY),
    POOL_QUANTITY: (ID, MOMENT, MINUTES),  # pool, start, length
    POOL_BOOK: (ID, MOMENT, MINUTES, INDEX),  # pool, start, length, quantity
    POOL_REQUEST: (ID,),
    POOL_CANCEL: (ID,),
    POOL_RETURN: (ID,),
    POOL_SWAPS: (ID,),  # booking
    POOL_SWAP: (ID, ID),  # booking, unit
    SERIES_REPEAT: (ID, MOMENT, MINUTES),  # resource, first start, length
    SERIES_UNTIL: (ID, MOMENT, MINUTES, INDEX, INDEX, MONTH),  # … frequency, weekday mask, calendar month
    SERIES_PREVIEW: (ID, MOMENT, MINUTES, *RULE),
    SERIES_BOOK: (ID, MOMENT, MINUTES, *RULE, INDEX),  # … mode (0 skip conflicts, 1 all or nothing)
    SERIES_CANCEL_ASK: (ID, INDEX),  # booking, scope (0 this and following, 1 all)
    SERIES_CANCEL: (ID, INDEX),
    SERIES_EXTEND: (ID,),  # series, on the "your series ends" message (core.callbacks)
    MOVE_DAYS: (ID, MONTH),  # booking, month
    MOVE_STARTS: (ID, DAY, PAGE),
    MOVE_LENGTHS: (ID, MOMENT),
    MOVE_CONFIRM: (ID, MOMENT, MINUTES),  # booking, new start, new length
    MOVE_DO: (ID, MOMENT, MINUTES),
    # Extend +N min, on the before-end reminder (notifications) and in /my: booking, minutes.
    BOOKING_EXTEND: (ID, MINUTES),
    # Booking actions shared with notifications (core.callbacks).
    BOOKING_CHECK_IN: (ID,),
    BOOKING_FINISH: (ID,),
    BOOKING_CANCEL: (ID,),
    BOOKING_APPROVE: (ID,),
    BOOKING_REJECT: (ID,),
    # Access-request decisions shared with notifications (core.callbacks).
    ACCESS_APPROVE: (ID,),
    ACCESS_REJECT: (ID,),
    STICKER: (ID,),
    STICKER_REPORT: (ID,),
    RESOURCE_OUT_OF_SERVICE: (ID,),  # from problem reports in the admin group (notifications)
    RESOURCE_IN_SERVICE: (ID,),
    # Loans, on the admin group's alerts (core.callbacks): a booking id, a suspension id.
    BOOKING_MARK_RETURNED: (ID,),
    SUSPENSION_LIFT: (ID,),
    # Calendar feeds: the link screen and its buttons; Add to calendar (core.callbacks) takes a booking.
    CALENDAR_LINK: (),
    CALENDAR_RENEW: (),
    CALENDAR_REVOKE: (),
    BOOKING_ICS: (ID,),
    TIMELINE_RESOURCE: (ID, DAY),  # resource, day
    TIMELINE_CATEGORY: (INDEX, INDEX, DAY),  # kind, category (0 = all of the kind), as in RESOURCES
    TIMELINE_POOL: (ID, DAY),  # pool, day
    TIMELINE_FREE: (MOMENT, MINUTES, DAY),  # the /free search (start, length), the day shown
    TIMELINE_ADMINS: (DAY,),
    # The waitlist: join (resource, start, length), leave (entry); the offer's Take it / No thanks (held booking).
    WAITLIST_JOIN: (ID, MOMENT, MINUTES),
    WAITLIST_LEAVE: (ID,),
    WAITLIST_TAKE: (ID,),
    WAITLIST_DECLINE: (ID,),
}


@dataclass(frozen=True)
class Press:
    action: str
    values: tuple


def data(action, *values):
    """The callback data for `action` with these (typed) values."""
    kinds = ARGUMENTS[action]
    if len(values) != len(kinds):
        raise ValueError(f"{action} takes {len(kinds)} arguments, got {len(values)}")
    return codec.encode(action, *(kind.to_int(value) for kind, value in zip(kinds, values, strict=True)))


def button(text, action, *values):
    return InlineKeyboardButton(str(text), callback_data=data(action, *values))


def parse(raw):
    """The Press that `raw` encodes; InvalidCallback for anything the bot did not make."""
    callback = codec.decode(raw)
    kinds = ARGUMENTS.get(callback.action)
    if kinds is None or len(kinds) != len(callback.args):
        raise InvalidCallback(raw)
    values = []
    for kind, number in zip(kinds, callback.args, strict=True):
        if not kind.lowest <= number <= kind.highest:
            raise InvalidCallback(raw)
        values.append(kind.from_int(number))
    return Press(callback.action, tuple(values))
