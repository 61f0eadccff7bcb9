"""Calendar feeds in the chat: /settings → Calendar link (Renew, Revoke), and Add to calendar.

The link screen shows the user's secret feed URL (bookings.feeds makes one on
first view); Renew replaces it, Revoke ends it. Add to calendar, on a
booking's receipt and its card, sends that booking as an `.ics` document; the
booking is looked up among the pressing user's own, so a forged id finds
nothing.
"""

from dataclasses import dataclass

from django.conf import settings
from telegram.constants import ParseMode

from bookings import feeds
from bot import callbacks as cb
from bot import keyboards, texts
from bot.handlers.base import Screen, render, view_only
from bot.handlers.my import own_booking
from core.callbacks import BOOKING_ICS


def _private_only(actor):
    """The link is a secret: shown (and changed) only in the user's private chat, never in a group."""
    if not actor.private:
        return Screen(notice=str(texts.CALENDAR_LINK_PRIVATE), alert=True)
    return None


def calendar_link(actor, notice=""):
    refused = _private_only(actor)
    if refused:
        return refused
    row = feeds.calendar_token_get_or_create(user=actor.user)
    text = texts.calendar_link_text(feeds.calendar_feed_url(row=row), settings.CALENDAR_FEED_HISTORY_DAYS)
    rows = [
        [
            cb.button(texts.CALENDAR_RENEW_BUTTON, cb.CALENDAR_RENEW),
            cb.button(texts.CALENDAR_REVOKE_BUTTON, cb.CALENDAR_REVOKE),
        ],
        keyboards.back(cb.SETTINGS),
    ]
    return Screen(text, rows, notice=str(notice))


def renew(actor):
    refused = _private_only(actor)
    if refused:
        return refused
    feeds.calendar_token_renew(user=actor.user)
    return calendar_link(actor, notice=texts.CALENDAR_RENEWED)


def revoke(actor):
    refused = _private_only(actor)
    if refused:
        return refused
    feeds.calendar_token_revoke(user=actor.user)
    rows = [[cb.button(texts.CALENDAR_NEW_LINK_BUTTON, cb.CALENDAR_RENEW)], keyboards.back(cb.SETTINGS)]
    return Screen(str(texts.CALENDAR_REVOKED), rows)


@dataclass
class CalendarFile:
    screen: Screen
    filename: str = ""
    data: bytes = b""
    caption: str = ""


def calendar_file(actor, booking_id):
    """The booking's .ics, re-checked as the pressing user's own booking."""
    booking = own_booking(actor, booking_id)
    caption = texts.calendar_file_caption(booking.resource.name, texts.when(booking.start, booking.end, actor.zone))
    return CalendarFile(
        Screen(notice=str(texts.CALENDAR_FILE_SENT)),
        filename=feeds.booking_ics_filename(booking),
        data=feeds.booking_ics(booking=booking),
        caption=caption,
    )


async def add_to_calendar(update, context, booking_id):
    query = update.callback_query
    answer = await render(update, calendar_file, booking_id)
    if isinstance(answer, CalendarFile):
        # To the presser's private chat: a booking's details are theirs, wherever the button was.
        await context.bot.send_document(
            query.from_user.id, answer.data, filename=answer.filename, caption=answer.caption, parse_mode=ParseMode.HTML
        )
        answer = answer.screen
    await query.answer(texts.notice(answer.notice) or None, show_alert=answer.alert)


PRESSES = {
    cb.CALENDAR_LINK: view_only(calendar_link),
    cb.CALENDAR_RENEW: view_only(renew),
    cb.CALENDAR_REVOKE: view_only(revoke),
    BOOKING_ICS: add_to_calendar,
}
