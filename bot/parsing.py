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


# --- Recurring series: /book <resource> every tue 14:00 2h until 2027-01-31 -----------

# Weekday words → 0 (Monday) … 6 (Sunday), in the languages the bot speaks.
_WEEKDAYS = {
    **dict.fromkeys(("mo", "mon", "monday", "пн", "пон", "понедельник", "понедельникам"), 0),
    **dict.fromkeys(("tu", "tue", "tues", "tuesday", "вт", "вторник", "вторникам"), 1),
    **dict.fromkeys(("we", "wed", "wednesday", "ср", "среда", "среду", "средам"), 2),
    **dict.fromkeys(("th", "thu", "thur", "thurs", "thursday", "чт", "четверг", "четвергам"), 3),
    **dict.fromkeys(("fr", "fri", "friday", "пт", "пятница", "пятницу", "пятницам"), 4),
    **dict.fromkeys(("sa", "sat", "saturday", "сб", "суббота", "субботу", "субботам"), 5),
    **dict.fromkeys(("su", "sun", "sunday", "вс", "воскресенье", "воскресеньям"), 6),
}
_EVERY = {"every", "each", "каждый", "каждую", "каждое", "каждые", "по"}
_DAILY = {"daily", "ежедневно"}
_DAY = {"day", "день"}
_WEEK = {"week", "weeks", "неделю", "недели", "недель"}
_WORKDAYS = {"weekday", "weekdays", "будни", "будням", "будний"}
_MONTHLY = {"monthly", "ежемесячно"}
_MONTH = {"month", "месяц"}
_UNTIL = {"until", "till", "to", "до", "по"}
_TIMES = {"times", "раз", "раза"}
_COUNT = re.compile(r"^[xх×](\d{1,4})$")  # x10, the Cyrillic х10, ×10
WORKDAYS = (0, 1, 2, 3, 4)
MAX_COUNT = 999


@dataclass(frozen=True)
class SeriesRequest:
    """A typed recurring booking: `frequency` DAILY, WEEKLY (on `weekdays`, every `interval` weeks) or MONTHLY,
    at `time` for `duration`, until the date `until` or `count` times."""

    resource: str
    frequency: str
    weekdays: tuple
    interval: int
    time: time
    duration: timedelta
    until: date | None
    count: int | None


def parse_weekdays(word):
    """mon,wed / пн,ср / tue → (0, 2) / (1,); None when it is not a weekday list."""
    names = word.strip().lower().split(",")
    if not names or not all(name in _WEEKDAYS for name in names):
        return None
    return tuple(sorted({_WEEKDAYS[name] for name in names}))


def parse_series(words, *, today):
    """`words` after /book → SeriesRequest when they describe a repetition, None when they do not
    (an ordinary /book), or BookSyntaxError naming the part that is wrong ("repeat" for the rule).

    The repetition starts at the first word (after the resource name) that begins one: every / каждый,
    daily / ежедневно, weekdays / будни, monthly / ежемесячно, or a weekday list followed by a time.
    """
    words = [w for w in words if w.strip()]
    for index in range(1, len(words)):
        found = _repetition(words[index:])
        if found is None:
            continue
        name = " ".join(words[:index])
        if any(unicodedata.category(char) == "Cc" for char in name):
            raise BookSyntaxError("resource", name)
        frequency, weekdays, interval, rest = found
        if len(rest) < 3:
            raise BookSyntaxError("repeat", " ".join(words[index:]))
        until, count = _limit(rest[2:], today=today)
        return SeriesRequest(
            resource=name,
            frequency=frequency,
            weekdays=weekdays,
            interval=interval,
            time=parse_time(rest[0]),
            duration=parse_duration(rest[1]),
            until=until,
            count=count,
        )
    return None


def _repetition(words):
    """(frequency, weekdays, interval, the words after the rule) when `words` start a repetition, else None."""
    first = words[0].lower()
    rest = words[1:]
    if first in _DAILY:
        return "DAILY", (), 1, rest
    if first in _MONTHLY:
        return "MONTHLY", (), 1, rest
    if first in _WORKDAYS:
        return "WEEKLY", WORKDAYS, 1, rest
    if first in _EVERY and rest:
        interval = 1
        if rest[0].isdigit() and len(rest) > 1 and rest[1].lower() in _WEEK:
            interval, rest = int(rest[0]), rest[1:]
            if not 1 <= interval <= 52:
                raise BookSyntaxError("repeat", words[1])
        word = rest[0].lower()
        if word in _DAY and interval == 1:
            return "DAILY", (), 1, rest[1:]
        if word in _MONTH and interval == 1:
            return "MONTHLY", (), 1, rest[1:]
        if word in _WORKDAYS:
            return "WEEKLY", WORKDAYS, interval, rest[1:]
        if word in _WEEK:
            days = parse_weekdays(rest[1]) if len(rest) > 1 else None
            return ("WEEKLY", days, interval, rest[2:]) if days else ("WEEKLY", (), interval, rest[1:])
        days = parse_weekdays(word)
        if days:
            return "WEEKLY", days, interval, rest[1:]
        if first == "по":  # "по" alone is also "until" in Russian: not a repetition by itself
            return None
        raise BookSyntaxError("repeat", " ".join(words[:2]))
    days = parse_weekdays(first)
    if days and rest and _TIME.match(rest[0].strip()):
        return "WEEKLY", days, 1, rest
    return None


def _limit(words, *, today):
    """until <date> / до <date> / x10 / 10 times → (until, count); exactly one is needed."""
    lowered = [w.lower() for w in words]
    if len(words) == 2 and lowered[0] in _UNTIL:
        return parse_day(words[1], today=today), None
    if len(words) == 1 and (match := _COUNT.match(lowered[0])):
        return None, _count(match.group(1), words[0])
    if len(words) == 2 and words[0].isdigit() and lowered[1] in _TIMES:
        return None, _count(words[0], words[0])
    raise BookSyntaxError("repeat", " ".join(words) or "until / x")


def _count(digits, word):
    count = int(digits)
    if not 1 <= count <= MAX_COUNT:
        raise BookSyntaxError("repeat", word)
    return count
