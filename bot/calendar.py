"""The inline month calendar of the days one may book.

A month grid, Monday first; a day with free time is a button, a day a
closure takes entirely an inert 🔒 (the screen's text says why), any other
day an inert dot. Arrows move between the months that hold bookable days.
"""

import calendar as std_calendar
from datetime import date

from django.utils.dates import WEEKDAYS_ABBR

from bot import callbacks as cb
from bot import texts
from bot.keyboards import filler


def month_of(day):
    return (day.year, day.month)


def first_and_last_day(year_month):
    year, month = year_month
    return date(year, month, 1), date(year, month, std_calendar.monthrange(year, month)[1])


def shift_month(year_month, months):
    index = year_month[0] * 12 + year_month[1] - 1 + months
    return (index // 12, index % 12 + 1)


def month_keyboard(year_month, months, bookable_days, day_button, month_button, closed_days=()):
    """Rows for one month.

    months: (first, last) (year, month) one may page between; bookable_days:
    the dates shown as buttons; closed_days: the dates shown as closed; day_button(date) and month_button(year_month,
    label) make the buttons, so the calendar serves any flow.
    """
    year, month = year_month
    header = [cb.button(texts.month_title(year, month), cb.NOTHING)]
    weekdays = [cb.button(str(WEEKDAYS_ABBR[i])[:2], cb.NOTHING) for i in range(7)]
    rows = [header, weekdays]
    for week in std_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        row = []
        for day in week:
            if day.month != month:
                row.append(filler())
            elif day in bookable_days:
                row.append(day_button(day))
            elif day in closed_days:
                row.append(cb.button(texts.CLOSED_MARK, cb.NOTHING))
            else:
                row.append(cb.button("·", cb.NOTHING))
        rows.append(row)
    first, last = months
    arrows = []
    if year_month > first:
        arrows.append(month_button(shift_month(year_month, -1), texts.PREVIOUS))
    if year_month < last:
        arrows.append(month_button(shift_month(year_month, 1), texts.NEXT))
    if arrows:
        rows.append(arrows)
    return rows
