"""Reading what power users type: `/book <resource> <date> <time> <duration>`.

Pure functions with no database or Telegram, so every format is unit-tested.
The resource name may contain spaces; the last three words are date, time
and duration.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal

from bookings.rules import FIRST_YEAR, LAST_YEAR

# Words for relative days, in the languages the bot speaks.
_RELATIVE_DAYS = {
    "today": 0,
    "tomorrow": 1,
    "сегодня": 0,
    "завтра": 1,
    "послезавтра": 2,
}
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DOTTED_DATE = re.compile(r"^(\d{1,2})[./](\d{1,2})(?:[./](\d{4}))?$")
_TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?$")
_DURATION = re.compile(
    r"^(?:(?P<hours>\d+(?:[.,]\d+)?)(?:h|hr|hrs|ч|час|часа|часов))?"
    r"(?:(?P<minutes>\d+)(?:m|min|мин|м))?$"
)
MAX_DURATION = timedelta(days=7)


class BookSyntaxError(ValueError):
    """The typed command has a part we cannot read; `part` names it, `value` is what was typed.

    Parts: "arguments" (too few words), "resource", "date", "time", "duration" (unreadable),
    "date_range" (a real date outside the years bookings live in) and
    "duration_range" (a readable length that is zero or longer than MAX_DURATION).
    """

    def __init__(self, part, value=""):
        super().__init__(f"{part}: {value!r}")
        self.part = part
        self.value = value


@dataclass(frozen=True)
class BookRequest:
    resource: str
    day: date
    time: time
    duration: timedelta


def parse_book(words, *, today):
    """`words` after /book → BookRequest, or BookSyntaxError naming the part that is wrong."""
    if len(words) < 4:
        raise BookSyntaxError("arguments")
    *name_words, day_word, time_word, duration_word = words
    name = " ".join(name_words)
    # No resource is named with control characters, and PostgreSQL cannot even compare text holding NUL.
    if any(unicodedata.category(char) == "Cc" for char in name):
        raise BookSyntaxError("resource", name)
    return BookRequest(
        resource=name,
        day=parse_day(day_word, today=today),
        time=parse_time(time_word),
        duration=parse_duration(duration_word),
    )


def parse_day(word, *, today):
    """today / tomorrow / сегодня / завтра / послезавтра, 2030-06-04, 04.06 or 04.06.2030."""
    text = word.strip().lower()
    if text in _RELATIVE_DAYS:
        return today + timedelta(days=_RELATIVE_DAYS[text])
    day = _calendar_date(text, today=today)
    if day is None:
        raise BookSyntaxError("date", word)
    # A real date such as 0001-01-01 or 9999-12-31 would overflow the time zone arithmetic later.
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise BookSyntaxError("date_range", word)
    return day


def _calendar_date(text, *, today):
    """The date `text` writes in a numeric form, or None."""
    try:
        if match := _ISO_DATE.match(text):
            year, month, day = (int(g) for g in match.groups())
            return date(year, month, day)
        if match := _DOTTED_DATE.match(text):
            day, month, year = match.groups()
            if year:
                return date(int(year), int(month), int(day))
            guess = date(today.year, int(month), int(day))
            # "04.01" typed in December means next January.
            return guess if guess >= today else date(today.year + 1, int(month), int(day))
    except ValueError:
        pass  # 31.02 and friends: not a date
    return None


def parse_time(word):
    """14:00, 9:30, 14.00 or 14."""
    match = _TIME.match(word.strip())
    if match:
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise BookSyntaxError("time", word)


def parse_duration(word):
    """2h, 90m, 1h30m, 1.5h (also 1,5ч, 90мин): a positive length of at most a week, in whole minutes."""
    match = _DURATION.match(word.strip().lower())
    if match and (match.group("hours") or match.group("minutes")):
        # Decimal, not float or int: a length of hundreds of digits is too long, not inf or an error.
        hours = Decimal((match.group("hours") or "0").replace(",", "."))
        total = hours * 60 + Decimal(match.group("minutes") or 0)
        if not 0 < total <= MAX_DURATION.total_seconds() / 60:
            raise BookSyntaxError("duration_range", word)
        if total == total.to_integral_value():
            return timedelta(minutes=int(total))
    raise BookSyntaxError("duration", word)
