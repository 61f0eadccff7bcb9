"""Pickup instructions and the access code, added to the screen a check-in shows.

Read from the resource at that moment (a code changed since the booking was
made shows the new one), and only after the check-in succeeded; the copy
button is Telegram's copy_text button (CopyTextButton).
"""

from telegram import CopyTextButton, InlineKeyboardButton

from bookings import selectors
from bot import sticker_texts


def with_pickup(screen, booking):
    """`screen` with the resource's pickup instructions and access code, and a copy button for the code."""
    resource = selectors.resource_get(resource_id=booking.resource_id, include_inactive=True)
    details = sticker_texts.pickup(resource) if resource else ""
    if not details:
        return screen
    screen.text = f"{screen.text}\n\n{details}" if screen.text else details
    if resource.access_code:
        copy = InlineKeyboardButton(str(sticker_texts.COPY_CODE), copy_text=CopyTextButton(text=resource.access_code))
        screen.rows = [[copy], *screen.rows]
    return screen
