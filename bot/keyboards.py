"""Inline keyboards the bot's screens share: the main menu, pagers, grids of choices.

Screens build their own rows from these pieces; every button goes through
bot.callbacks.button, so its data is compact and checked.
"""

from telegram import InlineKeyboardButton

from bookings.feeds import booking_offers_calendar_file
from bot import callbacks as cb
from bot import texts
from core.callbacks import BOOKING_ICS


def main_menu():
    return [
        [cb.button(texts.MENU_RESOURCES, cb.KINDS), cb.button(texts.MENU_FREE, cb.FREE_DAYS)],
        [cb.button(texts.MENU_MY, cb.MY, 0), cb.button(texts.MENU_SETTINGS, cb.SETTINGS)],
    ]


def back(action, *values):
    return [cb.button(texts.BACK, action, *values)]


def to_menu():
    return [cb.button(texts.MENU, cb.MENU)]


def pager(page, pages, action, *values_before_page):
    """‹ page › row: the page number is the action's last value; empty for a single page."""
    if pages <= 1:
        return []
    row = []
    if page > 0:
        row.append(cb.button(texts.PREVIOUS, action, *values_before_page, page - 1))
    row.append(cb.button(f"{page + 1}/{pages}", cb.NOTHING))
    if page < pages - 1:
        row.append(cb.button(texts.NEXT, action, *values_before_page, page + 1))
    return [row]


def grid(buttons, columns):
    """Lay buttons out in rows of `columns`."""
    return [buttons[i : i + columns] for i in range(0, len(buttons), columns)]


def filler():
    """An inert button that keeps a grid's shape (calendar blanks)."""
    return InlineKeyboardButton(" ", callback_data=cb.data(cb.NOTHING))


def add_to_calendar(booking):
    """Add to calendar (bot.handlers.feeds sends the booking as an .ics file), while the domain offers it."""
    if not booking_offers_calendar_file(booking=booking):
        return []
    return [[cb.button(texts.ADD_TO_CALENDAR, BOOKING_ICS, booking.pk)]]
