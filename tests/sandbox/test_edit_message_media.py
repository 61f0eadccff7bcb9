"""editMessageMedia in the sandbox, with the real PTB: a photo message's picture is replaced by an
upload (multipart, attach://) or by a known file_id; the files are kept and served for the page."""

from __future__ import annotations

import io
import urllib.request

import pytest
from PIL import Image
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto
from telegram.error import BadRequest

from .ptb import make_bot, run


def png(colour, size=(64, 32)):
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def test_a_photo_is_replaced_by_upload_and_by_file_id_and_the_page_serves_each(sandbox):
    user = sandbox.user("Alice", started=True)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("▶", callback_data="next")]])

    async def scenario():
        async with make_bot(sandbox) as bot:
            first = await bot.send_photo(user.id, png("red"), caption="<b>Mon</b>", parse_mode="HTML")
            red = first.photo[-1].file_id
            edited = await bot.edit_message_media(
                InputMediaPhoto(png("blue", (80, 40)), caption="<b>Tue</b>", parse_mode="HTML", filename="tue.png"),
                chat_id=user.id,
                message_id=first.message_id,
                reply_markup=keyboard,
            )
            blue = edited.photo[-1].file_id
            assert blue != red and edited.caption == "Tue" and edited.photo[-1].width == 80
            back = await bot.edit_message_media(
                InputMediaPhoto(red, caption="Mon"), chat_id=user.id, message_id=first.message_id
            )
            assert back.photo[-1].file_id == red
            with pytest.raises(BadRequest, match=r"(?i)not modified"):
                await bot.edit_message_media(
                    InputMediaPhoto(red, caption="Mon"), chat_id=user.id, message_id=first.message_id
                )
            with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
                await bot.edit_message_media(
                    InputMediaPhoto("no-such-file"), chat_id=user.id, message_id=first.message_id
                )
            text = await bot.send_message(user.id, "just text")
            with pytest.raises(BadRequest, match=r"(?i)no media"):
                await bot.edit_message_media(InputMediaPhoto(red), chat_id=user.id, message_id=text.message_id)
            return first.message_id, blue

    message_id, blue = run(scenario())
    entry = next(e for e in sandbox.transcript(user.id) if e.get("message_id") == message_id)
    assert entry["edited"] and entry["caption"] == "Mon" and len(entry["edit_history"]) == 2
    with urllib.request.urlopen(str(sandbox.http.base_url).rstrip("/") + f"/sandbox/files/{blue}") as response:
        assert Image.open(io.BytesIO(response.read())).size == (80, 40)
