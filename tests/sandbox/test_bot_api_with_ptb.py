"""The real python-telegram-bot against the sandbox: object shapes and Telegram's refusals."""

from __future__ import annotations

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken

from .ptb import make_bot, run


def test_get_me_returns_the_bot_of_the_token(sandbox):
    async def scenario():
        async with make_bot(sandbox) as bot:
            return await bot.get_me()

    me = run(scenario())
    assert me.id == 123456 and me.is_bot and me.username == "sandbox_123456_bot"


def test_unknown_token_is_invalid_token_401(sandbox):
    async def scenario():
        async with make_bot(sandbox, token="999:NOT-REGISTERED"):
            pass

    with pytest.raises(InvalidToken):
        run(scenario())
    assert sandbox.bot_api("getMe", token="999:NOT-REGISTERED") == {
        "ok": False,
        "error_code": 401,
        "description": "Unauthorized",
    }
    assert sandbox.bot_api("getMe", token="malformed")["error_code"] == 404


def test_unknown_method_is_404_not_found(sandbox):
    assert sandbox.bot_api("sendTelepathy", chat_id=1) == {"ok": False, "error_code": 404, "description": "Not Found"}


def test_method_names_are_case_insensitive(sandbox):
    assert sandbox.bot_api("GETME")["result"]["id"] == 123456


def test_html_message_arrives_with_entities_in_utf16_offsets(sandbox):
    alice = sandbox.user("Alice", started=True)

    async def scenario():
        async with make_bot(sandbox) as bot:
            return await bot.send_message(alice.id, "🏟 <b>Room</b> &amp; <i>bench</i>", parse_mode=ParseMode.HTML)

    message = run(scenario())
    assert message.text == "🏟 Room & bench"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bold", 3, 4), ("italic", 10, 5)]
    assert message.chat.id == alice.id and message.from_user.is_bot
    assert alice.bot_messages()[0]["entities"][0] == {"type": "bold", "offset": 3, "length": 4}


def test_markdown_v2_reserved_character_must_be_escaped(sandbox):
    alice = sandbox.user("Alice", started=True)

    async def scenario():
        async with make_bot(sandbox) as bot:
            ok = await bot.send_message(alice.id, r"*Booked* 10\.00\-11\.00", parse_mode=ParseMode.MARKDOWN_V2)
            with pytest.raises(BadRequest) as refused:
                await bot.send_message(alice.id, "Booked 10.00", parse_mode=ParseMode.MARKDOWN_V2)
            return ok, refused.value

    ok, refused = run(scenario())
    assert ok.text == "Booked 10.00-11.00" and ok.entities[0].type == "bold"
    assert refused.message == (
        "Can't parse entities: character '.' is reserved and must be escaped with the preceding '\\'"
    )


def test_refusals_are_telegrams_bad_requests(sandbox):
    alice = sandbox.user("Alice", started=True)
    too_long_data = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x" * 65)]])

    async def scenario():
        refusals = {}
        async with make_bot(sandbox) as bot:
            attempts = {
                "chat": bot.send_message(987654321, "hi"),
                "empty": bot.send_message(alice.id, "   "),
                "long": bot.send_message(alice.id, "x" * 4097),
                "button": bot.send_message(alice.id, "hi", reply_markup=too_long_data),
                "html": bot.send_message(alice.id, "<b>hi", parse_mode=ParseMode.HTML),
                "tag": bot.send_message(alice.id, "<blink>hi</blink>", parse_mode=ParseMode.HTML),
                "edit": bot.edit_message_text("new", chat_id=alice.id, message_id=999),
                "query": bot.answer_callback_query("12345"),
            }
            for name, attempt in attempts.items():
                with pytest.raises(BadRequest) as refused:
                    await attempt
                refusals[name] = refused.value.message
            assert (await bot.send_message(alice.id, "x" * 4096)).text == "x" * 4096
        return refusals

    refusals = run(scenario())
    # PTB strips "Bad Request: " and capitalises the rest.
    assert refusals == {
        "chat": "Chat not found",
        "empty": "Message text is empty",
        "long": "Message is too long",
        "button": "Button_data_invalid",
        "html": "Can't parse entities: can't find end tag corresponding to start tag \"b\"",
        "tag": 'Can\'t parse entities: unsupported start tag "blink" at byte offset 0',
        "edit": "Message to edit not found",
        "query": "Query is too old and response timeout expired or query id is invalid",
    }
    raw = sandbox.bot_api("sendMessage", chat_id=alice.id, text="")
    assert raw == {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"}


def test_edit_with_same_content_is_message_not_modified(sandbox):
    alice = sandbox.user("Alice", started=True)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Cancel", callback_data="c:1")]])

    async def scenario():
        async with make_bot(sandbox) as bot:
            sent = await bot.send_message(alice.id, "Booking #1", reply_markup=keyboard)
            edited = await bot.edit_message_text(
                "Booking #1 confirmed", chat_id=alice.id, message_id=sent.message_id, reply_markup=keyboard
            )
            with pytest.raises(BadRequest, match="Message is not modified"):
                await bot.edit_message_text(
                    "Booking #1 confirmed", chat_id=alice.id, message_id=sent.message_id, reply_markup=keyboard
                )
            without_keyboard = await bot.edit_message_reply_markup(chat_id=alice.id, message_id=sent.message_id)
            return edited, without_keyboard

    edited, without_keyboard = run(scenario())
    assert edited.text == "Booking #1 confirmed" and edited.edit_date is not None
    assert without_keyboard.reply_markup is None
    entry = alice.bot_messages()[0]
    assert entry["edited"] and [v["text"] for v in entry["edit_history"]] == ["Booking #1", "Booking #1 confirmed"]
    raw = sandbox.bot_api("editMessageText", chat_id=alice.id, message_id=1, text="Booking #1 confirmed")
    assert raw["description"] == (
        "Bad Request: message is not modified: specified new message content and reply markup are exactly "
        "the same as a current content and reply markup of the message"
    )


def test_user_who_never_started_the_bot_cannot_be_messaged(sandbox):
    stranger = sandbox.user("Stranger")

    async def scenario():
        async with make_bot(sandbox) as bot:
            with pytest.raises(Forbidden) as refused:
                await bot.send_message(stranger.id, "hello")
            return refused.value.message

    assert run(scenario()) == "Forbidden: bot can't initiate conversation with a user"


def test_blocked_bot_is_forbidden_until_unblocked(sandbox):
    alice = sandbox.user("Alice", started=True)
    alice.block()

    async def scenario():
        async with make_bot(sandbox) as bot:
            with pytest.raises(Forbidden) as refused:
                await bot.send_message(alice.id, "Your booking starts soon")
            alice.unblock()
            await bot.send_message(alice.id, "Your booking starts soon")
            return refused.value.message

    assert run(scenario()) == "Forbidden: bot was blocked by the user"
    assert [m.text for m in alice.bot_messages()] == ["Your booking starts soon"]


def test_group_chat_delivers_and_refuses_bots_that_left(sandbox):
    alice = sandbox.user("Alice", started=True)
    admins = sandbox.group("Admins", members=[alice])

    async def scenario():
        async with make_bot(sandbox) as bot:
            message = await bot.send_message(admins.id, "New booking request")
            member = await bot.get_chat_member(admins.id, alice.id)
            chat = await bot.get_chat(admins.id)
            admins.remove(123456)
            with pytest.raises(Forbidden) as refused:
                await bot.send_message(admins.id, "still there?")
            return message, member, chat, refused.value.message

    message, member, chat, refusal = run(scenario())
    assert message.chat.type == "group" and message.chat.title == "Admins" and message.chat.id < 0
    assert member.status == "creator" and chat.title == "Admins"
    assert refusal == "Forbidden: bot is not a member of the group chat"


def test_get_updates_conflicts_with_a_webhook(sandbox):
    async def scenario():
        async with make_bot(sandbox) as bot:
            await bot.set_webhook("http://127.0.0.1:9/hook")
            with pytest.raises(Conflict) as refused:
                await bot.get_updates()
            await bot.delete_webhook()
            assert await bot.get_updates(timeout=0) == ()
            return refused.value.message

    assert run(scenario()) == (
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
    )


def test_reply_keyboard_reply_parameters_and_delete(sandbox):
    alice = sandbox.user("Alice", started=True)
    first = alice.send("I need a projector")

    async def scenario():
        async with make_bot(sandbox) as bot:
            keyboard = ReplyKeyboardMarkup([["Today", "Tomorrow"]], one_time_keyboard=True)
            reply = await bot.send_message(
                alice.id, "When?", reply_markup=keyboard, reply_parameters=ReplyParameters(first["message_id"])
            )
            with pytest.raises(BadRequest, match="Message to be replied not found"):
                await bot.send_message(alice.id, "x", reply_parameters=ReplyParameters(4242))
            assert await bot.delete_message(alice.id, reply.message_id)
            with pytest.raises(BadRequest, match="Message to delete not found"):
                await bot.delete_message(alice.id, reply.message_id)
            return reply

    reply = run(scenario())
    assert reply.reply_to_message.text == "I need a projector"
    assert reply.reply_markup is None  # Telegram returns only inline keyboards in Message
    state = sandbox.state()
    assert state["chats"][0]["reply_keyboard"]["keyboard"][0][0] == {"text": "Today"}
    entry = alice.bot_messages()[0]
    assert entry["deleted"] and entry["reply_markup"]["one_time_keyboard"]


def test_commands_chat_action_photo_and_document(sandbox):
    alice = sandbox.user("Alice", started=True)
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x02\x00\x00\x00\x03\x08\x02\x00\x00\x00\x00\x00\x00\x00"

    async def scenario():
        async with make_bot(sandbox) as bot:
            await bot.set_my_commands([("book", "Book a resource"), ("my", "My bookings")])
            commands = await bot.get_my_commands()
            assert await bot.send_chat_action(alice.id, "typing")
            photo = await bot.send_photo(alice.id, png, caption="<b>Room</b> plan", parse_mode="HTML")
            document = await bot.send_document(alice.id, b"a,b\n1,2\n", filename="bookings.csv", caption="Export")
            again = await bot.send_photo(alice.id, photo.photo[-1].file_id)
            file = await bot.get_file(document.document.file_id)
            content = await file.download_as_bytearray()
            await bot.delete_my_commands()
            return commands, photo, document, again, bytes(content), await bot.get_my_commands()

    commands, photo, document, again, content, after_delete = run(scenario())
    assert [c.command for c in commands] == ["book", "my"] and after_delete == ()
    assert (photo.photo[0].width, photo.photo[0].height) == (2, 3)
    assert photo.caption == "Room plan" and photo.caption_entities[0].type == "bold"
    assert document.document.file_name == "bookings.csv" and content == b"a,b\n1,2\n"
    assert again.photo[0].file_id == photo.photo[0].file_id
    assert sandbox.http.get(alice.bot_messages()[1]["document"]["url"]).content == b"a,b\n1,2\n"
