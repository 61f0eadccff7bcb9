"""The user API under /sandbox/api/: simulate users, read chats, steer limits and faults.

Plain JSON in and out (no Telegram envelope); errors are ``{"error": text}``
with a 4xx status. Every endpoint is listed, with curl examples, in
sandbox/README.md. ``bot`` (id, username or token) picks the bot of a private
chat when several are registered; it defaults to the first one.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time

from aiohttp import web

from . import users
from .state import Chat, World

__all__ = ["add_routes"]


class UserApiError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@web.middleware
async def _errors(request: web.Request, handler):
    if not request.path.startswith("/sandbox/api/"):
        return await handler(request)
    try:
        return await handler(request)
    except (UserApiError, users.ActionError) as error:
        return web.json_response({"error": str(error)}, status=error.status)
    except LookupError as error:
        return web.json_response({"error": str(error).strip("'\"")}, status=404)
    except (ValueError, TypeError, KeyError) as error:
        return web.json_response({"error": str(error)}, status=400)


def _json(data, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data, ensure_ascii=False), status=status, content_type="application/json")


async def _body(request: web.Request) -> dict:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise UserApiError("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise UserApiError("the body must be a JSON object")
    return body


def _timeout(value, default: float = 5.0) -> float:
    return min(max(float(value if value not in (None, "") else default), 0.0), 120.0)


def add_routes(app: web.Application, sandbox) -> None:
    """Register the user API's routes on ``app``."""
    routes = UserApi(sandbox)
    app.middlewares.append(_errors)
    add = app.router.add_route
    add("GET", "/sandbox/api/state", routes.state)
    add("POST", "/sandbox/api/reset", routes.reset)
    add("GET", "/sandbox/api/bots", routes.list_bots)
    add("POST", "/sandbox/api/bots", routes.create_bot)
    add("GET", "/sandbox/api/users", routes.list_users)
    add("POST", "/sandbox/api/users", routes.create_user)
    add("POST", "/sandbox/api/users/{user_id}/block", routes.block)
    add("POST", "/sandbox/api/users/{user_id}/unblock", routes.unblock)
    add("POST", "/sandbox/api/groups", routes.create_group)
    add("POST", "/sandbox/api/groups/{chat_id}/members", routes.add_member)
    add("DELETE", "/sandbox/api/groups/{chat_id}/members/{member_id}", routes.remove_member)
    add("GET", "/sandbox/api/chats", routes.list_chats)
    add("GET", "/sandbox/api/chats/{chat_id}/messages", routes.transcript)
    add("POST", "/sandbox/api/chats/{chat_id}/messages", routes.send_message)
    add("POST", "/sandbox/api/chats/{chat_id}/photos", routes.send_photo)
    add("POST", "/sandbox/api/chats/{chat_id}/press", routes.press)
    add("GET", "/sandbox/api/chats/{chat_id}/wait", routes.wait)
    add("GET", "/sandbox/api/callbacks/{query_id}", routes.callback)
    add("GET", "/sandbox/api/faults", routes.get_faults)
    add("POST", "/sandbox/api/faults", routes.set_faults)
    add("DELETE", "/sandbox/api/faults", routes.clear_faults)
    add("POST", "/sandbox/api/faults/pause", routes.pause)
    add("POST", "/sandbox/api/faults/resume", routes.resume)
    add("GET", "/sandbox/api/limits", routes.get_limits)
    add("POST", "/sandbox/api/limits", routes.set_limits)
    add("GET", "/sandbox/api/calls", routes.calls)
    add("GET", "/sandbox/api/stats", routes.stats)
    add("GET", "/sandbox/api/events", routes.events)


class UserApi:
    """Handlers; each parses the request, calls one world/users operation, renders JSON."""

    def __init__(self, sandbox) -> None:
        self.sandbox = sandbox
        self.world: World = sandbox.world

    # -- helpers ---------------------------------------------------------------------

    def _user(self, raw) -> users.User:
        try:
            user = self.world.users.get(int(raw))
        except (TypeError, ValueError):
            raise UserApiError("from_id / user id must be a number") from None
        if user is None:
            raise UserApiError(f"no user {raw}", 404)
        return user

    def _chat(self, request: web.Request, bot_ref=None) -> Chat:
        try:
            chat_id = int(request.match_info["chat_id"])
        except ValueError:
            raise UserApiError("chat id must be a number") from None
        return self.world.chat_for_user_api(chat_id, bot_ref if bot_ref is not None else request.query.get("bot"))

    # -- world -----------------------------------------------------------------------

    async def state(self, request: web.Request) -> web.Response:
        world = self.world
        return _json(
            {
                "bots": [bot.user.to_api() for bot in world.bots.values()],
                "users": [user.to_api() for user in world.users.values()],
                "chats": [world.chat_summary(chat) for chat in world.chats.values()],
                "limits": self.sandbox.limiter.config.to_dict(),
                "faults": self.sandbox.faults.to_dict(),
            }
        )

    async def reset(self, request: web.Request) -> web.Response:
        self.world.reset()
        self.sandbox.limiter.reset()
        body = await _body(request)
        if body.get("faults", True):
            self.sandbox.faults.clear()
        return _json({"ok": True})

    async def list_bots(self, request: web.Request) -> web.Response:
        return _json(
            [
                {**bot.user.to_api(), "webhook": bot.webhook.url, "pending_update_count": len(bot.pending)}
                for bot in self.world.bots.values()
            ]
        )

    async def create_bot(self, request: web.Request) -> web.Response:
        body = await _body(request)
        bot = self.world.register_bot(str(body.get("token", "")), body.get("first_name"), body.get("username"))
        self.sandbox.webhooks.ensure(bot)
        return _json(bot.user.to_api(), status=201)

    async def list_users(self, request: web.Request) -> web.Response:
        return _json([user.to_api() for user in self.world.users.values()])

    async def create_user(self, request: web.Request) -> web.Response:
        body = await _body(request)
        first_name = body.get("first_name")
        if not first_name:
            raise UserApiError("first_name is required")
        user = self.world.create_user(
            first_name,
            username=body.get("username"),
            last_name=body.get("last_name"),
            language_code=body.get("language_code", "en"),
            user_id=body.get("id"),
        )
        if body.get("started"):  # as if the user had pressed Start long ago: no update is queued
            for bot in self.world.bots.values():
                self.world.private_chat(bot, user).started = True
        return _json(user.to_api(), status=201)

    async def block(self, request: web.Request) -> web.Response:
        return await self._set_blocked(request, True)

    async def unblock(self, request: web.Request) -> web.Response:
        return await self._set_blocked(request, False)

    async def _set_blocked(self, request: web.Request, blocked: bool) -> web.Response:
        body = await _body(request)
        user = self._user(request.match_info["user_id"])
        bot = self.world.find_bot(body.get("bot", request.query.get("bot")))
        chat = self.world.private_chat(bot, user)
        users.set_blocked(self.world, chat, blocked=blocked)
        return _json(self.world.chat_summary(chat))

    async def create_group(self, request: web.Request) -> web.Response:
        body = await _body(request)
        if not body.get("title"):
            raise UserApiError("title is required")
        bots = body.get("bots")
        chat = self.world.create_group(
            body["title"],
            member_ids=[int(m) for m in body.get("members", [])],
            bot_ids=None if bots is None else [self.world.find_bot(ref).id for ref in bots],
            chat_type=body.get("type", "group"),
            username=body.get("username"),
            bot_status=body.get("bot_status", "member"),
        )
        return _json(self.world.chat_summary(chat), status=201)

    async def add_member(self, request: web.Request) -> web.Response:
        body = await _body(request)
        chat = self._chat(request)
        member_id = body.get("user_id")
        if member_id is None and "bot" in body:
            member_id = self.world.find_bot(body["bot"]).id
        if member_id is None:
            raise UserApiError("user_id or bot is required")
        users.add_member(self.world, chat, int(member_id), status=body.get("status", "member"))
        return _json(self.world.chat_summary(chat))

    async def remove_member(self, request: web.Request) -> web.Response:
        chat = self._chat(request)
        users.remove_member(
            self.world, chat, int(request.match_info["member_id"]), kicked=request.query.get("kicked") in ("1", "true")
        )
        return _json(self.world.chat_summary(chat))

    # -- chats -----------------------------------------------------------------------

    async def list_chats(self, request: web.Request) -> web.Response:
        return _json([self.world.chat_summary(chat) for chat in self.world.chats.values()])

    async def transcript(self, request: web.Request) -> web.Response:
        chat = self._chat(request)
        entries = self.world.transcript(chat)
        side = request.query.get("from")
        if side in ("bot", "user"):
            entries = [e for e in entries if e["kind"] == "message" and e["from_bot"] == (side == "bot")]
        return _json(entries)

    async def send_message(self, request: web.Request) -> web.Response:
        body = await _body(request)
        chat = self._chat(request, body.get("bot"))
        user = self._user(body.get("from_id", chat.user_id))
        reply_to = body.get("reply_to_message_id")
        message = users.send_text(
            self.world,
            chat,
            user,
            str(body.get("text", "")),
            reply_to_message_id=int(reply_to) if reply_to is not None else None,
        )
        return _json(self.world.message_api(chat, message), status=201)

    async def send_photo(self, request: web.Request) -> web.Response:
        """A user sends a photo: {"from_id", "photo_base64", "caption"}."""
        body = await _body(request)
        chat = self._chat(request, body.get("bot"))
        user = self._user(body.get("from_id", chat.user_id))
        try:
            data = base64.b64decode(str(body.get("photo_base64", "")), validate=True)
        except (binascii.Error, ValueError):
            raise UserApiError("photo_base64 is not base64") from None
        message = users.send_photo(self.world, chat, user, data, caption=str(body.get("caption") or ""))
        return _json(self.world.message_api(chat, message), status=201)

    async def press(self, request: web.Request) -> web.Response:
        body = await _body(request)
        chat = self._chat(request, body.get("bot"))
        user = self._user(body.get("from_id", chat.user_id))
        if body.get("message_id") is None:
            raise UserApiError("message_id is required")
        press = users.press_button(
            self.world,
            chat,
            user,
            int(body["message_id"]),
            callback_data=body.get("callback_data"),
            label=body.get("text"),
            forge=bool(body.get("forge")),
        )
        if body.get("wait_answer"):
            await self._wait_answered(press, _timeout(body["wait_answer"]))
        return _json(self.world.press_entry(press), status=201)

    async def _wait_answered(self, press, timeout: float) -> None:
        chat = self.world.chats[press.chat_key]
        deadline = time.monotonic() + timeout
        while not press.answered:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not await chat.signal.wait(remaining):
                return

    async def callback(self, request: web.Request) -> web.Response:
        press = self.world.presses.get(request.match_info["query_id"])
        if press is None:
            raise UserApiError("no such callback query", 404)
        await self._wait_answered(press, _timeout(request.query.get("timeout"), 0))
        return _json(self.world.press_entry(press))

    async def wait(self, request: web.Request) -> web.Response:
        """Long-poll for changes after ``after`` (a seq); by default only the bot's side."""
        chat = self._chat(request)
        after = int(request.query.get("after", 0))
        timeout = _timeout(request.query.get("timeout"))
        include_user = request.query.get("all") in ("1", "true")
        deadline = time.monotonic() + timeout
        while True:
            changes = [self.world.change_event(change, chat) for change in chat.changes_after(after)]
            events = [event for event in changes if include_user or event["from_bot"]]
            last_seq = chat.change_seqs[-1] if chat.change_seqs else 0
            remaining = deadline - time.monotonic()
            if events or remaining <= 0:
                return _json({"events": events, "last_seq": max(last_seq, after)})
            await chat.signal.wait(remaining)

    # -- faults and limits -----------------------------------------------------------

    async def get_faults(self, request: web.Request) -> web.Response:
        return _json(self.sandbox.faults.to_dict())

    async def set_faults(self, request: web.Request) -> web.Response:
        self.sandbox.faults.configure(await _body(request))
        return _json(self.sandbox.faults.to_dict())

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.sandbox.faults.clear()
        return _json(self.sandbox.faults.to_dict())

    async def pause(self, request: web.Request) -> web.Response:
        self.sandbox.faults.pause()
        return _json(self.sandbox.faults.to_dict())

    async def resume(self, request: web.Request) -> web.Response:
        self.sandbox.faults.resume()
        return _json(self.sandbox.faults.to_dict())

    async def get_limits(self, request: web.Request) -> web.Response:
        return _json(self.sandbox.limiter.config.to_dict())

    async def set_limits(self, request: web.Request) -> web.Response:
        self.sandbox.limiter.reconfigure(await _body(request))
        return _json(self.sandbox.limiter.config.to_dict())

    # -- observation -----------------------------------------------------------------

    async def calls(self, request: web.Request) -> web.Response:
        after = int(request.query.get("after", 0))
        return _json(self.world.hub.recent_calls(after))

    async def stats(self, request: web.Request) -> web.Response:
        return _json(
            {
                **self.world.hub.counters,
                "faults": dict(self.sandbox.faults.stats.injected),
                "pending_updates": {bot.id: len(bot.pending) for bot in self.world.bots.values()},
            }
        )

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events for the page: change, chat, user, bot, call, action, reset."""
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )
        await response.prepare(request)
        queue = self.world.hub.subscribe()
        try:
            await response.write(b": connected\n\n")
            while True:
                try:
                    payload = await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                if payload is None:  # the hub dropped us for lagging; the page reconnects
                    break
                await response.write(f"data: {payload}\n\n".encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.world.hub.unsubscribe(queue)
        return response
