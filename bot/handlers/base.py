"""The shape every handler shares: who is asking, render a screen, show it.

A handler's work is a synchronous *view* `view(actor, *args) -> Screen` that
calls bookings selectors and services and renders texts. `reply` (for
messages) and `respond` (for button presses) run the view in the database
thread with the user's language active, then send the screen, or edit the
pressed message in place and answer the callback query. Domain errors and
stale buttons become short answers here, so views stay straight-line code.
A screen that is a new booking's receipt (`receipt_of`) reports after the
send or edit whether it arrived, so the booking's held outbox receipt is
dropped, or sent when the reply failed (bookings.services.booking_receipt_*).
"""

import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import translation
from telegram import ForceReply, InlineKeyboardMarkup
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest

from bookings import series as booking_series
from bookings import services
from bookings.errors import BookingError
from bot import texts
from bot.sync import db
from core.services import user_from_telegram

logger = logging.getLogger(__name__)


class Expired(Exception):
    """The press names something that is gone, changed, or was never this user's."""


class AdminsOnly(Exception):
    """The user asked for an admin's command or button and is not an admin."""


@dataclass
class Actor:
    """The person behind an update, as a Slotbot user, and where they wrote from."""

    user: object
    chat_id: int | None
    private: bool
    message_id: int | None = None  # the pressed message, for button presses

    @property
    def zone(self):
        return self.user.zone


@dataclass
class Screen:
    """What the bot shows: a text with buttons, and/or a short notice on the press."""

    text: str | None = None  # None: leave the pressed message as it is
    rows: list = field(default_factory=list)
    notice: str = ""
    alert: bool = False
    # A question that needs a typed answer is sent as a new message the user replies to.
    ask: str | None = None
    # Answering a typed question edits the message that asked it (e.g. the admin alert).
    edit_message_id: int | None = None
    # The booking this screen is the receipt of (just booked in the bot): see _showing.
    receipt_of: object | None = None
    # (series, event) this screen is the receipt of (a series booked or extended in the bot).
    series_receipt_of: tuple | None = None

    @property
    def markup(self):
        return InlineKeyboardMarkup(self.rows) if self.rows else None


def actor_from(update):
    """Register or refresh the Telegram user (sync; runs in the database thread)."""
    person = update.effective_user
    chat = update.effective_chat
    private = chat is not None and chat.type == ChatType.PRIVATE
    user = user_from_telegram(
        telegram_id=person.id,
        first_name=person.first_name,
        last_name=person.last_name or "",
        username=person.username or "",
        language_code=person.language_code or "",
        private_chat_id=chat.id if private else None,
    )
    message = update.callback_query.message if update.callback_query else None
    return Actor(
        user=user,
        chat_id=chat.id if chat else None,
        private=private,
        message_id=message.message_id if message else None,
    )


def _render(update, view, args):
    actor = actor_from(update)
    with translation.override(actor.user.language_code or settings.LANGUAGE_CODE):
        try:
            return view(actor, *args)
        except Expired:
            return Screen(notice=str(texts.BUTTON_EXPIRED), alert=False)
        except AdminsOnly:
            return Screen(notice=str(texts.ADMINS_ONLY), alert=True)
        except BookingError as error:
            return Screen(notice=error.message, alert=True)


async def render(update, view, *args):
    """Run `view(actor, *args)` off the event loop, in the user's language."""
    return await db(_render)(update, view, args)


async def reply(update, context, view, *args):
    """Answer a message (a command or text) with a new message; a view may return None for silence."""
    screen = await render(update, view, *args)
    if screen is None:
        return
    chat_id = update.effective_chat.id
    async with _showing(screen):
        if screen.edit_message_id:
            await edit_message(context.bot, chat_id, screen.edit_message_id, screen)
        else:
            await send(context.bot, chat_id, screen.text or screen.notice, screen.markup)
    if screen.ask:
        await send(context.bot, update.effective_chat.id, screen.ask, ForceReply(selective=True))


async def respond(update, context, view, *args):
    """Answer a button press: edit the pressed message in place, then answer the query."""
    query = update.callback_query
    screen = await render(update, view, *args)
    if screen.text is not None:
        async with _showing(screen):
            await edit_or_send(context.bot, query, screen)
    if screen.ask:
        await send(context.bot, update.effective_chat.id, screen.ask, ForceReply(selective=True))
    await query.answer(texts.notice(screen.notice) or None, show_alert=screen.alert)


@asynccontextmanager
async def _showing(screen):
    """Around showing a screen: if it is a booking's receipt, report whether it arrived.

    Any error counts as not shown (the held receipt is sent; after a timeout
    that reply may have arrived too, a duplicate rather than a booking without
    its message) and is re-raised for the error handler's apology. A cancelled
    task (shutdown) reports nothing: the receipt goes out when the hold ends.
    """
    if screen.series_receipt_of is not None:
        found, event = screen.series_receipt_of
        try:
            yield
        except Exception:
            await db(booking_series.series_receipt_owed)(series=found, event=event)
            raise
        await db(booking_series.series_receipt_shown)(series=found, event=event)
        return
    if screen.receipt_of is None:
        yield
        return
    try:
        yield
    except Exception:
        await db(services.booking_receipt_owed)(booking=screen.receipt_of)
        raise
    await db(services.booking_receipt_shown)(booking=screen.receipt_of)


async def send(bot, chat_id, text, markup=None):
    return await bot.send_message(
        chat_id, texts.fit(text), parse_mode=ParseMode.HTML, reply_markup=markup, disable_web_page_preview=True
    )


async def edit_or_send(bot, query, screen):
    """Edit the pressed message; if Telegram will not let us, send the screen anew."""
    message = query.message
    if message is None:
        # A button on an inline-mode message: nothing to edit; show it in the private chat.
        await send(bot, query.from_user.id, screen.text, screen.markup)
        return
    if message.text is None:
        # A button on a photo or a document (a day timeline, an .ics file): it has no text to become the screen.
        await send(bot, message.chat.id, screen.text, screen.markup)
        return
    try:
        await query.edit_message_text(
            texts.fit(screen.text),
            parse_mode=ParseMode.HTML,
            reply_markup=screen.markup,
            disable_web_page_preview=True,
        )
    except BadRequest as error:
        reason = error.message.lower()
        if "message is not modified" in reason:
            return  # pressed twice: the screen already shows this
        if any(cannot in reason for cannot in _CANNOT_EDIT):
            await send(bot, message.chat.id, screen.text, screen.markup)
            return
        raise


# Telegram's answers to an edit that cannot be made (the screen is sent anew instead).
_CANNOT_EDIT = ("message can't be edited", "message to edit not found", "there is no text in the message to edit")


async def edit_message(bot, chat_id, message_id, screen):
    """Edit a message the bot sent earlier; if it cannot be edited any more, send the text anew."""
    try:
        await bot.edit_message_text(
            texts.fit(screen.text),
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=screen.markup,
            disable_web_page_preview=True,
        )
    except BadRequest as error:
        if "message is not modified" not in error.message.lower():
            await send(bot, chat_id, screen.text, screen.markup)


def paginate(items, page, per_page):
    """(items on `page`, page clamped into range, number of pages); always at least one page."""
    pages = max(1, -(-len(items) // per_page))
    page = min(max(page, 0), pages - 1)
    return items[page * per_page : (page + 1) * per_page], page, pages


def view_only(view):
    """A press handler that just shows `view` with the press's values."""

    async def handler(update, context, *values):
        await respond(update, context, view, *values)

    handler.__name__ = f"press_{view.__name__}"
    return handler
