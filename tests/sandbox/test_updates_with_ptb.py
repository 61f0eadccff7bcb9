"""Updates reach the real python-telegram-bot: long polling, webhooks, buttons and callback answers."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest
from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import Conflict
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from .ptb import make_application, make_bot, run


def booking_application(sandbox):
    """A tiny bot: /book offers two resources; a press answers, then edits the message."""
    app = make_application(sandbox)

    async def book(update: Update, context) -> None:
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("Projector", callback_data="res:1"),
                    InlineKeyboardButton("Camera", callback_data="res:2"),
                ]
            ]
        )
        await update.message.reply_text("Which resource?", reply_markup=keyboard)

    async def chosen(update: Update, context) -> None:
        query = update.callback_query
        name = {"res:1": "Projector", "res:2": "Camera"}.get(query.data, "?")
        await query.answer(f"{name} booked", show_alert=query.data == "res:2")
        await query.edit_message_text(f"You booked the {name}")

    async def echo(update: Update, context) -> None:
        await update.message.reply_text(f"echo: {update.message.text}")

    app.add_handler(CommandHandler("book", book))
    app.add_handler(CallbackQueryHandler(chosen))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return app


def test_bot_command_press_answer_and_edit_round_trip(sandbox):
    alice = sandbox.user("Alice", username="alice")
    with sandbox.polling(booking_application(sandbox)):
        sent = alice.send("/book@sandbox_123456_bot")
        assert sent["entities"] == [{"type": "bot_command", "offset": 0, "length": 24}]
        offer = alice.expect_message(containing="Which resource?")
        assert offer.buttons == ["Projector", "Camera"]
        press = alice.press("Projector")
        assert press.answer() == {"text": "Projector booked", "show_alert": False, "url": None, "cache_time": 0}
        edited = alice.expect_message(containing="You booked")
        assert edited.message_id == offer.message_id and edited["event"] == "edit" and edited.buttons == []
        alert = alice.press("res:2", message=offer.message_id, forge=True)
        assert alert.answer()["show_alert"] is True

    kinds = [(e["kind"], e.get("from_bot"), e.get("text") or e.get("data")) for e in alice.transcript()]
    assert kinds == [
        ("message", False, "/book@sandbox_123456_bot"),
        ("message", True, "You booked the Camera"),
        ("press", None, "res:1"),
        ("press", None, "res:2"),
    ]


def test_long_poll_wakes_at_once_on_a_new_message(sandbox):
    alice = sandbox.user("Alice")

    async def scenario():
        async with make_bot(sandbox) as bot:
            poll = asyncio.create_task(bot.get_updates(timeout=20))
            await asyncio.sleep(0.2)
            assert not poll.done()
            await alice.asend("hello there")
            # Well inside the poll's 20 s timeout: it must return on the new update.
            updates = await asyncio.wait_for(poll, 5)
            confirmed = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
            return updates, confirmed

    updates, confirmed = run(scenario())
    assert [u.message.text for u in updates] == ["hello there"]
    assert confirmed == ()


def test_allowed_updates_filters_update_types(sandbox):
    alice = sandbox.user("Alice")

    async def scenario():
        async with make_bot(sandbox) as bot:
            await bot.get_updates(timeout=0, allowed_updates=["callback_query"])
            await alice.asend("ignored text")
            return await bot.get_updates(timeout=0)

    assert run(scenario()) == ()


def test_second_concurrent_get_updates_terminates_the_first(sandbox):
    async def scenario():
        async with make_bot(sandbox) as first, make_bot(sandbox) as second:
            older = asyncio.create_task(first.get_updates(timeout=10))
            await asyncio.sleep(0.2)
            newer = asyncio.create_task(second.get_updates(timeout=1))
            with pytest.raises(Conflict) as refused:
                await asyncio.wait_for(older, 5)
            await newer
            return refused.value.message

    assert run(scenario()) == (
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class WebhookReceiver:
    """A tiny aiohttp endpoint that records updates; answers ``failures`` 500s first."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[tuple[dict, str | None]] = []
        self.arrived = asyncio.Event()
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/telegram/webhook"

    async def handle(self, request: web.Request) -> web.Response:
        if self.failures > 0:
            self.failures -= 1
            return web.Response(status=500)
        self.received.append((await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        self.arrived.set()
        return web.Response(text="ok")

    async def __aenter__(self):
        app = web.Application()
        app.router.add_post("/telegram/webhook", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.runner.cleanup()

    async def wait_for(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), max(0.01, deadline - time.monotonic()))


def test_webhook_delivers_updates_in_order_with_the_secret_header(sandbox):
    alice = sandbox.user("Alice")

    async def scenario():
        async with WebhookReceiver() as receiver, make_bot(sandbox) as bot:
            await bot.set_webhook(receiver.url, secret_token="s3cret-Token_1")
            for text in ("one", "two", "three"):
                await alice.asend(text)
            await receiver.wait_for(3)
            info = await bot.get_webhook_info()
            updates = [Update.de_json(data, bot) for data, _ in receiver.received]
            return receiver.received, updates, info

    received, updates, info = run(scenario())
    assert [header for _, header in received] == ["s3cret-Token_1"] * 3
    assert [u.message.text for u in updates] == ["one", "two", "three"]
    assert updates[0].update_id + 2 == updates[2].update_id
    assert info.url.endswith("/telegram/webhook") and info.pending_update_count == 0


def test_webhook_failures_are_retried_and_reported_in_webhook_info(sandbox):
    alice = sandbox.user("Alice")

    async def scenario():
        async with WebhookReceiver(failures=2) as receiver, make_bot(sandbox) as bot:
            await bot.set_webhook(receiver.url)
            await alice.asend("retry me")
            deadline = time.monotonic() + 5
            info = await bot.get_webhook_info()
            while info.last_error_date is None and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
                info = await bot.get_webhook_info()
            await receiver.wait_for(1)
            return receiver.received, info

    received, failing_info = run(scenario())
    assert received[0][0]["message"]["text"] == "retry me" and received[0][1] is None
    assert failing_info.pending_update_count == 1
    assert failing_info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"


def test_delete_webhook_can_drop_pending_updates(sandbox):
    alice = sandbox.user("Alice")

    async def scenario():
        async with make_bot(sandbox) as bot:
            await bot.set_webhook(f"http://127.0.0.1:{_free_port()}/nobody-listens")
            await alice.asend("lost")
            assert (await bot.get_webhook_info()).pending_update_count == 1
            await bot.delete_webhook(drop_pending_updates=True)
            return await bot.get_updates(timeout=0)

    assert run(scenario()) == ()


def test_webhook_reply_in_the_response_body_is_executed(sandbox):
    alice = sandbox.user("Alice")

    async def scenario():
        async def reply(request: web.Request) -> web.Response:
            update = await request.json()
            body = {"method": "sendMessage", "chat_id": update["message"]["chat"]["id"], "text": "via response"}
            return web.Response(text=json.dumps(body), content_type="application/json")

        app = web.Application()
        app.router.add_post("/hook", reply)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = _free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            async with make_bot(sandbox) as bot:
                await bot.set_webhook(f"http://127.0.0.1:{port}/hook")
                await alice.asend("hi")
                return await alice.aexpect_message(containing="via response")
        finally:
            await runner.cleanup()

    assert run(scenario()).text == "via response"
