"""Test helpers: run the sandbox on a free port and drive it as users, from sync or async code.

    from sandbox.testing import run_sandbox

    with run_sandbox(tokens=["123456:TEST-TOKEN"]) as sandbox:
        app = Application.builder().token(sandbox.token).base_url(sandbox.base_url).build()
        alice = sandbox.user("Alice", username="alice")
        with sandbox.polling(app):            # PTB polls in a background thread
            alice.send("/start")
            reply = alice.expect_message(containing="Welcome")
            alice.press("Projector")          # button label (or callback_data)
            alice.expect_message(containing="booked")

``expect_message`` reads the chat like a queue: each call returns the bot's next
message *or edit* the user has not seen through this helper yet, skipping
those that do not contain ``containing``; it fails with the chat's recent
transcript after ``timeout`` seconds. Everything is plain HTTP to the
sandbox's user API (see README.md), so it also works against a sandbox run
with ``python -m sandbox`` (``SandboxClient(url)``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import threading
import time
from collections.abc import Iterator

import httpx

__all__ = ["BotMessage", "PressResult", "SandboxClient", "SandboxGroup", "SandboxUser", "run_sandbox"]

DEFAULT_TOKEN = "123456:SANDBOX-TEST-TOKEN"


class BotMessage(dict):
    """A transcript entry of a message (a dict), with attribute shortcuts."""

    @property
    def message_id(self) -> int:
        return self["message_id"]

    @property
    def text(self) -> str:
        return self.get("text") or self.get("caption") or ""

    @property
    def reply_markup(self) -> dict | None:
        return self.get("reply_markup")

    @property
    def buttons(self) -> list[str]:
        """Labels of the inline buttons, row by row flattened."""
        markup = self.get("reply_markup") or {}
        return [button["text"] for row in markup.get("inline_keyboard", []) for button in row]

    @property
    def button_data(self) -> dict[str, str]:
        markup = self.get("reply_markup") or {}
        return {
            button["text"]: button.get("callback_data") for row in markup.get("inline_keyboard", []) for button in row
        }

    @property
    def edited(self) -> bool:
        return bool(self.get("edited"))


class PressResult(dict):
    """A press (callback query) entry; ``answer()`` waits for the bot's answerCallbackQuery."""

    def __init__(self, data: dict, client: SandboxClient) -> None:
        super().__init__(data)
        self._client = client

    @property
    def id(self) -> str:
        return self["callback_query_id"]

    def answer(self, timeout: float = 5.0) -> dict:
        """The bot's answer ``{"text", "show_alert", "url", "cache_time"}``; AssertionError if none comes."""
        data = self._client._get(f"/sandbox/api/callbacks/{self.id}", params={"timeout": timeout})
        self.update(data)
        if not data["answered"]:
            raise AssertionError(f"the bot did not answer callback query {self.id} within {timeout} s")
        return data["answer"]


class SandboxClient:
    """The user API over HTTP (sync, httpx). ``run_sandbox`` yields one of these."""

    def __init__(self, url: str, *, tokens: list[str] | None = None, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/") + "/"
        root = self.url.rstrip("/")
        self.base_url = f"{root}/bot"  # python-telegram-bot's base_url: it appends "<token>/<method>"
        self.base_file_url = f"{root}/file/bot"
        self.tokens = list(tokens or [])
        self.http = httpx.Client(base_url=root, timeout=timeout)

    @property
    def token(self) -> str:
        """The first registered bot's token."""
        if not self.tokens:
            self.tokens = [bot["token"] for bot in self._get("/sandbox/api/bots") if "token" in bot]
        return self.tokens[0]

    def close(self) -> None:
        self.http.close()

    # -- plumbing --------------------------------------------------------------------

    def _check(self, response: httpx.Response):
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            raise SandboxError(
                f"{response.request.method} {response.request.url.path}: {response.status_code} {message}"
            )
        return response.json()

    def _get(self, path: str, params: dict | None = None, timeout: float | None = None):
        extra = {"timeout": timeout + 10} if timeout is not None else {}
        return self._check(self.http.get(path, params=params, **extra))

    def _post(self, path: str, body: dict | None = None, timeout: float | None = None):
        extra = {"timeout": timeout + 10} if timeout is not None else {}
        return self._check(self.http.post(path, json=body or {}, **extra))

    # -- world -----------------------------------------------------------------------

    def user(
        self,
        first_name: str,
        username: str | None = None,
        language_code: str = "en",
        *,
        last_name: str | None = None,
        started: bool = False,
        user_id: int | None = None,
    ) -> SandboxUser:
        """Create a user. ``started=True``: as if the user had pressed Start (no update is queued)."""
        body = {
            "first_name": first_name,
            "username": username,
            "language_code": language_code,
            "last_name": last_name,
            "started": started,
        }
        if user_id is not None:
            body["id"] = user_id
        return SandboxUser(self, self._post("/sandbox/api/users", body))

    def group(
        self,
        title: str,
        members: list[SandboxUser | int] = (),
        *,
        bots: list | None = None,
        type: str = "group",
        bot_status: str = "member",
        username: str | None = None,
    ) -> SandboxGroup:
        """Create a group with these users; all bots join unless ``bots`` lists some."""
        body = {
            "title": title,
            "members": [_id(member) for member in members],
            "type": type,
            "bot_status": bot_status,
            "username": username,
        }
        if bots is not None:
            body["bots"] = bots
        summary = self._post("/sandbox/api/groups", body)
        return SandboxGroup(self, summary["chat"])

    def register_bot(self, token: str, *, username: str | None = None, first_name: str | None = None) -> dict:
        bot = self._post("/sandbox/api/bots", {"token": token, "username": username, "first_name": first_name})
        self.tokens.append(token)
        return bot

    def transcript(self, chat_id: int, *, bot=None) -> list[dict]:
        params = {"bot": bot} if bot is not None else None
        return self._get(f"/sandbox/api/chats/{chat_id}/messages", params=params)

    def bot_messages(self, chat_id: int, *, bot=None, include_deleted: bool = True) -> list[BotMessage]:
        """Messages the bot sent to the chat (one entry per message, edits do not add entries)."""
        return [
            BotMessage(entry)
            for entry in self.transcript(chat_id, bot=bot)
            if entry["kind"] == "message" and entry["from_bot"] and (include_deleted or not entry["deleted"])
        ]

    def reset(self, *, faults: bool = True) -> None:
        """Forget users, chats and updates (bots stay); also clears faults unless told not to."""
        self._post("/sandbox/api/reset", {"faults": faults})

    def state(self) -> dict:
        return self._get("/sandbox/api/state")

    def stats(self) -> dict:
        return self._get("/sandbox/api/stats")

    def calls(self, after: int = 0) -> list[dict]:
        return self._get("/sandbox/api/calls", params={"after": after})

    def bot_api(self, method: str, token: str | None = None, **params) -> dict:
        """Call the Bot API directly; returns Telegram's envelope (never raises on ok=false)."""
        response = self.http.post(f"/bot{token or self.token}/{method}", json=params)
        return response.json()

    # -- limits and faults -----------------------------------------------------------

    def set_limits(self, **changes) -> dict:
        """E.g. ``set_limits(enabled=False)`` or ``set_limits(per_chat_burst=2)``."""
        return self._post("/sandbox/api/limits", changes)

    def set_faults(self, **changes) -> dict:
        """Random faults, e.g. ``set_faults(error_rate=0.3, latency_ms=50, methods=["sendMessage"])``."""
        return self._post("/sandbox/api/faults", changes)

    def add_fault(
        self,
        kind: str,
        count: int = 1,
        *,
        methods: list[str] | str | None = None,
        status: int = 500,
        retry_after: int = 1,
        delay_ms: int = 60_000,
    ) -> dict:
        """Script the next ``count`` matching calls: error / flood / drop / drop_after / timeout."""
        if isinstance(methods, str):
            methods = [methods]
        rule = {
            "kind": kind,
            "count": count,
            "methods": methods,
            "status": status,
            "retry_after": retry_after,
            "delay_ms": delay_ms,
        }
        return self._post("/sandbox/api/faults", {"add_rules": [rule]})

    def clear_faults(self) -> dict:
        return self._check(self.http.delete("/sandbox/api/faults"))

    def pause(self) -> None:
        """Hold every Bot API call until ``resume()``."""
        self._post("/sandbox/api/faults/pause")

    def resume(self) -> None:
        self._post("/sandbox/api/faults/resume")

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        self.pause()
        try:
            yield
        finally:
            self.resume()

    # -- running a python-telegram-bot Application ----------------------------------

    @contextlib.contextmanager
    def polling(self, application, *, poll_timeout: float = 1.0, drop_pending_updates: bool = False):
        """Run ``application`` (PTB) with long polling in a background thread for the block.

        The bot gets its own event loop, so sync test code can ``send`` and
        ``expect_message`` freely. Errors of the bot thread are re-raised on exit.
        """
        runner = _BotThread(application, poll_timeout=poll_timeout, drop_pending_updates=drop_pending_updates)
        runner.start()
        try:
            yield application
        finally:
            runner.stop()


class SandboxError(AssertionError):
    """The user API refused a request (the message says why)."""


def _id(value) -> int:
    if isinstance(value, (SandboxUser, SandboxGroup)):
        return value.id
    return int(value)


class SandboxGroup:
    """A group chat; pass it as ``chat=`` to a user's methods."""

    def __init__(self, client: SandboxClient, chat: dict) -> None:
        self.client = client
        self.data = chat
        self.id: int = chat["id"]
        self.title: str = chat["title"]

    def add(self, member: SandboxUser | int | None = None, *, bot=None, status: str = "member") -> None:
        body = {"status": status}
        if bot is not None:
            body["bot"] = bot
        else:
            body["user_id"] = _id(member)
        self.client._post(f"/sandbox/api/groups/{self.id}/members", body)

    def remove(self, member_id: int, *, kicked: bool = False) -> None:
        self.client._check(
            self.client.http.delete(
                f"/sandbox/api/groups/{self.id}/members/{member_id}", params={"kicked": "1" if kicked else "0"}
            )
        )

    def transcript(self) -> list[dict]:
        return self.client.transcript(self.id)

    def bot_messages(self, include_deleted: bool = True) -> list[BotMessage]:
        return self.client.bot_messages(self.id, include_deleted=include_deleted)


class SandboxUser:
    """A simulated Telegram user. ``chat=None`` means the private chat with the (first) bot."""

    def __init__(self, client: SandboxClient, data: dict, *, bot=None) -> None:
        self.client = client
        self.data = data
        self.id: int = data["id"]
        self.first_name: str = data["first_name"]
        self.username: str | None = data.get("username")
        self.bot = bot  # which bot "the private chat" means (None: the first)
        self._cursors: dict[int, int] = {}  # chat id -> last change seq this helper returned

    def __repr__(self) -> str:
        return f"<SandboxUser {self.id} {self.first_name!r}>"

    def _chat_id(self, chat) -> int:
        return self.id if chat is None else _id(chat)

    def _bot_params(self) -> dict:
        return {"bot": self.bot} if self.bot is not None else {}

    # -- actions ---------------------------------------------------------------------

    def send(self, text: str, chat: SandboxGroup | int | None = None, *, reply_to: int | None = None) -> dict:
        """Write ``text`` (commands get bot_command entities); returns the Message."""
        body = {"from_id": self.id, "text": text, "reply_to_message_id": reply_to, **self._bot_params()}
        return self.client._post(f"/sandbox/api/chats/{self._chat_id(chat)}/messages", body)

    def send_photo(self, data: bytes, *, caption: str = "", chat: SandboxGroup | int | None = None) -> dict:
        """Send a photo (PNG, GIF or JPEG bytes) with an optional caption; returns the Message."""
        body = {
            "from_id": self.id,
            "photo_base64": base64.b64encode(data).decode(),
            "caption": caption,
            **self._bot_params(),
        }
        return self.client._post(f"/sandbox/api/chats/{self._chat_id(chat)}/photos", body)

    def press(
        self,
        label_or_data: str,
        message: dict | int | None = None,
        *,
        chat: SandboxGroup | int | None = None,
        forge: bool = False,
    ) -> PressResult:
        """Press an inline button by label or callback_data.

        Without ``message``, the newest bot message that has such a button is
        used. ``forge=True`` sends ``label_or_data`` as callback_data even if no
        button carries it. The bot must answer: see ``PressResult.answer()``.
        """
        chat_id = self._chat_id(chat)
        if message is None:
            message = self._message_with_button(chat_id, label_or_data, forge)
        message_id = message if isinstance(message, int) else message["message_id"]
        target = None if forge else self._button_in(chat_id, message_id, label_or_data)
        body = {"from_id": self.id, "message_id": message_id, "forge": forge, **self._bot_params()}
        if target is not None and target.get("text") == label_or_data and not forge:
            body["text"] = label_or_data
        else:
            body["callback_data"] = label_or_data
        entry = self.client._post(f"/sandbox/api/chats/{chat_id}/press", body)
        return PressResult(entry, self.client)

    def _message_with_button(self, chat_id: int, label_or_data: str, forge: bool) -> int:
        messages = [
            m for m in self.transcript(chat_id) if m["kind"] == "message" and m["from_bot"] and not m["deleted"]
        ]
        for entry in reversed(messages):
            if (
                label_or_data in BotMessage(entry).button_data
                or label_or_data in BotMessage(entry).button_data.values()
            ):
                return entry["message_id"]
        if forge:
            with_keyboard = [m for m in messages if BotMessage(m).buttons]
            if with_keyboard:
                return with_keyboard[-1]["message_id"]
        raise AssertionError(
            f"no bot message in chat {chat_id} has a button {label_or_data!r}; "
            f"keyboards: {[BotMessage(m).buttons for m in messages if BotMessage(m).buttons]}"
        )

    def _button_in(self, chat_id: int, message_id: int, label_or_data: str) -> dict | None:
        for entry in self.transcript(chat_id):
            if entry["kind"] == "message" and entry["message_id"] == message_id:
                markup = entry.get("reply_markup") or {}
                for row in markup.get("inline_keyboard", []):
                    for button in row:
                        if label_or_data in (button.get("text"), button.get("callback_data")):
                            return button
        return None

    def block(self) -> None:
        self.client._post(f"/sandbox/api/users/{self.id}/block", self._bot_params())

    def unblock(self) -> None:
        self.client._post(f"/sandbox/api/users/{self.id}/unblock", self._bot_params())

    # -- reading ---------------------------------------------------------------------

    def transcript(self, chat: SandboxGroup | int | None = None) -> list[dict]:
        """Everything in the chat: both sides, presses and answers, edits and deletions."""
        return self.client._get(f"/sandbox/api/chats/{self._chat_id(chat)}/messages", params=self._bot_params())

    def messages(self, chat: SandboxGroup | int | None = None) -> list[BotMessage]:
        """The chat's messages (both sides), oldest first."""
        return [BotMessage(e) for e in self.transcript(chat) if e["kind"] == "message"]

    def bot_messages(self, chat: SandboxGroup | int | None = None) -> list[BotMessage]:
        """Only the messages the bot sent to this chat (count them to count deliveries)."""
        return [m for m in self.messages(chat) if m["from_bot"]]

    def expect_message(
        self, containing: str | None = None, timeout: float = 5.0, chat: SandboxGroup | int | None = None
    ) -> BotMessage:
        """The bot's next new message or edit in the chat (optionally containing a text)."""
        chat_id = self._chat_id(chat)
        deadline = time.monotonic() + timeout
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            found = self._consume(
                chat_id,
                containing,
                self.client._get(
                    f"/sandbox/api/chats/{chat_id}/wait",
                    params={"after": self._cursors.get(chat_id, 0), "timeout": remaining, **self._bot_params()},
                    timeout=remaining,
                ),
            )
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_message(chat_id, containing, timeout))

    def expect_no_message(self, timeout: float = 0.5, chat: SandboxGroup | int | None = None) -> None:
        """Assert that the bot sends or edits nothing (not yet seen) within ``timeout`` seconds."""
        chat_id = self._chat_id(chat)
        data = self.client._get(
            f"/sandbox/api/chats/{chat_id}/wait",
            params={"after": self._cursors.get(chat_id, 0), "timeout": timeout, **self._bot_params()},
            timeout=timeout,
        )
        news = [e for e in data["events"] if e["kind"] in ("new", "edit")]
        if news:
            raise AssertionError(f"expected no message, the bot sent: {[e['entry'].get('text') for e in news]}")

    def skip_to_now(self, chat: SandboxGroup | int | None = None) -> None:
        """Mark everything already in the chat as seen by ``expect_message``."""
        chat_id = self._chat_id(chat)
        data = self.client._get(
            f"/sandbox/api/chats/{chat_id}/wait", params={"after": 0, "timeout": 0, "all": "1", **self._bot_params()}
        )
        self._cursors[chat_id] = data["last_seq"]

    def _consume(self, chat_id: int, containing: str | None, data: dict) -> BotMessage | None:
        for event in data["events"]:
            self._cursors[chat_id] = event["seq"]
            if event["kind"] not in ("new", "edit"):
                continue
            message = BotMessage(event["entry"], event=event["kind"])
            if containing is None or containing in message.text:
                return message
        return None

    def _timeout_message(self, chat_id: int, containing: str | None, timeout: float) -> str:
        recent = [
            (
                ("bot" if e.get("from_bot") else "user") if e["kind"] == "message" else "press",
                e.get("text") or e.get("data"),
            )
            for e in self.transcript(chat_id)[-8:]
        ]
        wanted = f"containing {containing!r}" if containing else "at all"
        return f"{self} got no bot message {wanted} in chat {chat_id} within {timeout} s; recent: {recent}"

    # -- async variants (for code already running an event loop) ---------------------

    async def asend(self, text: str, chat=None, *, reply_to: int | None = None) -> dict:
        body = {"from_id": self.id, "text": text, "reply_to_message_id": reply_to, **self._bot_params()}
        return await self._apost(f"/sandbox/api/chats/{self._chat_id(chat)}/messages", body)

    async def apress(
        self, label_or_data: str, message: dict | int | None = None, *, chat=None, forge: bool = False
    ) -> PressResult:
        return await asyncio.to_thread(self.press, label_or_data, message, chat=chat, forge=forge)

    async def aexpect_message(self, containing: str | None = None, timeout: float = 5.0, chat=None) -> BotMessage:
        chat_id = self._chat_id(chat)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with httpx.AsyncClient(base_url=str(self.client.http.base_url), timeout=timeout + 10) as http:
            while True:
                remaining = max(0.0, deadline - loop.time())
                response = await http.get(
                    f"/sandbox/api/chats/{chat_id}/wait",
                    params={"after": self._cursors.get(chat_id, 0), "timeout": remaining, **self._bot_params()},
                )
                found = self._consume(chat_id, containing, self.client._check(response))
                if found is not None:
                    return found
                if loop.time() >= deadline:
                    raise AssertionError(await asyncio.to_thread(self._timeout_message, chat_id, containing, timeout))

    async def _apost(self, path: str, body: dict):
        async with httpx.AsyncClient(base_url=str(self.client.http.base_url), timeout=30) as http:
            return self.client._check(await http.post(path, json=body))


# ------------------------------------------------------------------------ running


class _ServerThread:
    """The sandbox's aiohttp app on its own event loop in a daemon thread."""

    def __init__(self, sandbox, host: str = "127.0.0.1", port: int = 0, *, handler_cancellation: bool = False) -> None:
        self.sandbox = sandbox
        self.host = host
        self.port = port
        self.handler_cancellation = handler_cancellation
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sandbox-server", daemon=True)
        self._runner = None

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(15)
        if self._error is not None:
            raise RuntimeError("the sandbox did not start") from self._error
        if not self._ready.is_set():
            raise RuntimeError("the sandbox did not start within 15 s")

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._start())
        except BaseException as error:  # reported by start()
            self._error = error
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self._runner.cleanup())
        # Calls still running (a paused sandbox, a scripted timeout) end with the
        # server: cancel them and let them finish, so none is destroyed pending.
        leftover = asyncio.all_tasks(self.loop)
        for task in leftover:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*leftover, return_exceptions=True))
        self.loop.close()

    async def _start(self) -> None:
        from aiohttp import web

        self._runner = web.AppRunner(
            self.sandbox.build_app(),
            access_log=None,
            shutdown_timeout=1.0,
            handler_cancellation=self.handler_cancellation,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def stop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(15)


class _BotThread:
    """A python-telegram-bot Application polling the sandbox on its own loop and thread."""

    def __init__(self, application, *, poll_timeout: float, drop_pending_updates: bool) -> None:
        self.application = application
        self.poll_timeout = poll_timeout
        self.drop_pending_updates = drop_pending_updates
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sandbox-bot", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise RuntimeError("the bot did not start") from self._error

    def _run(self) -> None:
        try:
            self.loop.run_until_complete(self._main())
        except BaseException as error:
            self._error = error
            self._ready.set()
        finally:
            self.loop.close()

    async def _main(self) -> None:
        app = self.application
        self._stop = asyncio.Event()
        await app.initialize()
        await app.start()
        await app.updater.start_polling(
            poll_interval=0.0, timeout=self.poll_timeout, drop_pending_updates=self.drop_pending_updates
        )
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()

    def stop(self) -> None:
        if self._stop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        if self._error is not None:
            raise RuntimeError("the bot thread failed") from self._error


@contextlib.contextmanager
def run_sandbox(
    tokens: list[str] | tuple[str, ...] = (DEFAULT_TOKEN,),
    *,
    flood_limits: bool = True,
    state_file: str | None = None,
    callback_query_ttl: float = 15.0,
    webhook_retry_base: float = 0.05,
    limits: dict | None = None,
    handler_cancellation: bool = False,
    **faults,
) -> Iterator[SandboxClient]:
    """Start a sandbox on a free port in a background thread; yields a ``SandboxClient``.

    ``faults`` are FaultConfig fields: latency_ms, latency_jitter_ms, error_rate,
    error_status, flood_rate, flood_retry_after, drop_rate, methods, seed.
    ``limits`` are FloodConfig fields (per_chat_burst, overall_per_second, ...).
    ``handler_cancellation``: aiohttp's option to cancel a handler when its client
    disconnects (off by default, as in ``python -m sandbox``); calls run to the end either way.
    """
    from .faults import FaultConfig
    from .limits import FloodConfig
    from .server import Sandbox, SandboxConfig

    flood = FloodConfig(enabled=flood_limits)
    flood.update(limits or {})
    config = SandboxConfig(
        tokens=list(tokens),
        state_file=state_file,
        flood=flood,
        faults=FaultConfig(**faults),
        callback_query_ttl=callback_query_ttl,
        webhook_retry_base=webhook_retry_base,
    )
    server = _ServerThread(Sandbox(config), handler_cancellation=handler_cancellation)
    server.start()
    client = SandboxClient(f"http://{server.host}:{server.port}/", tokens=list(tokens))
    client.server = server.sandbox  # the in-process Sandbox, for white-box checks
    try:
        yield client
    finally:
        client.close()
        server.stop()
