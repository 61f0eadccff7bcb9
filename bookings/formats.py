"""How a booking's time is written: a day, a clock time, a span — one formatter for every interface.

The bot, the notification messages and the admin write times through these
functions, so one booking reads the same everywhere: "Wed 2 Dec, 10:15–10:20"
("Ср 2 дек, 10:15–10:20"). Weekday and month names are in the active
language; callers pass the reader's time zone.
"""

from datetime import date, datetime, tzinfo

from django.utils import dateformat
from django.utils.translation import pgettext_lazy

# A Django date format (https://docs.djangoproject.com/en/stable/ref/templates/builtins/#date), translated
# because word order and capitals differ: Russian writes the month in lower case ("D j b").
DAY_FORMAT = pgettext_lazy("day label date format", "D j M")


def day_label(day: date) -> str:
    """'Wed 2 Dec' in the active language."""
    return dateformat.format(day, str(DAY_FORMAT))


def clock(moment: datetime, zone: tzinfo) -> str:
    """'09:05': the wall-clock time of `moment` in `zone`."""
    return f"{moment.astimezone(zone):%H:%M}"


def booking_span(start: datetime, end: datetime, zone: tzinfo) -> str:
    """'Wed 2 Dec, 10:15–10:20' in `zone`; a span crossing midnight shows both days:
    'Wed 2 Dec, 23:30 – Thu 3 Dec, 00:30'."""
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    first_day = day_label(local_start.date())
    if local_start.date() == local_end.date():
        return f"{first_day}, {clock(local_start, zone)}–{clock(local_end, zone)}"
    return f"{first_day}, {clock(local_start, zone)} – {day_label(local_end.date())}, {clock(local_end, zone)}"
