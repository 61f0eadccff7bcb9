"""The sandbox's aiohttp application: Bot API routes, user API, page, files, events.

Routes:
  /bot<token>/<method>         the Bot API (GET or POST; query, form, JSON, multipart)
  /file/bot<token>/<path>      file downloads (getFile's file_path)
  /sandbox/api/...             the user API (see userapi.py and README.md)
  /sandbox/files/<file_id>     files for the page
  /                            the chat page (static/index.html)

A Bot API call goes: token check (401/404) -> body read -> pause -> injected
latency/faults -> the method (refusals, flood control) -> answer, and is logged
for the page. Once the body is read the call runs to its end even if the client
disconnects (as Telegram does); only the answer goes nowhere.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path

from aiohttp import web

from .botapi import MAX_UPLOAD_BYTES, ApiError, BotApi, Params, UploadedFile
from .faults import FaultConfig, FaultInjector
from .limits import FloodConfig, FloodLimiter
from .state import TOKEN_PATTERN, World
from .webhook import WebhookDelivery

__all__ = ["Sandbox", "SandboxConfig"]

log = logging.getLogger("sandbox")
STATIC_DIR = Path(__file__).with_name("static")


@dataclass
class SandboxConfig:
    tokens: list[str] = field(default_factory=list)
    state_file: str | None = None
    flood: FloodConfig = field(default_factory=FloodConfig)
    faults: FaultConfig = field(default_factory=FaultConfig)
    callback_query_ttl: float = 15.0
    webhook_timeout: float = 10.0
    webhook_retry_base: float = 0.5
    webhook_retry_max: float = 30.0
    save_interval: float = 0.5


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class Sandbox:
    """Everything one running sandbox owns, and the aiohttp app serving it."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.world = World(state_file=self.config.state_file)
        for token in self.config.tokens:
            self.world.register_bot(token)
        self.limiter = FloodLimiter(self.config.flood)
        self.faults = FaultInjector(self.config.faults)
        self.api = BotApi(self.world, self.limiter, callback_query_ttl=self.config.callback_query_ttl)
        self.webhooks = WebhookDelivery(
            self.world,
            self.api,
            timeout=self.config.webhook_timeout,
            retry_base=self.config.webhook_retry_base,
            retry_max=self.config.webhook_retry_max,
        )
        self.api.webhooks = self.webhooks
        self._saver: asyncio.Task | None = None

    # -- application -----------------------------------------------------------------

    def build_app(self) -> web.Application:
        from . import userapi

        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self.handle_bot_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self.handle_file_download)
        app.router.add_get("/sandbox/files/{file_id}", self.handle_page_file)
        userapi.add_routes(app, self)
        app.router.add_get("/", self.handle_index)
        app.router.add_static("/static/", STATIC_DIR, show_index=False)
        app.on_startup.append(self._on_startup)
        app.on_shutdown.append(self._on_shutdown)
        return app

    async def _on_startup(self, app: web.Application) -> None:
        await self.webhooks.start()
        if self.world.state_file:
            self._saver = asyncio.get_running_loop().create_task(self._save_periodically())

    async def _on_shutdown(self, app: web.Application) -> None:
        # aiohttp waits for running handlers after this, then cancels them: end the
        # long polls now (empty answers, as at their timeout) so nothing is cancelled.
        self.world.closing = True
        for bot in self.world.bots.values():
            bot.update_signal.fire()
        if self._saver is not None:
            self._saver.cancel()
        await self.webhooks.stop()
        if self.world.state_file:
            self.world.save()

    async def _save_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.config.save_interval)
            if self.world.dirty:
                try:
                    self.world.save()
                except OSError as error:
                    log.warning("could not save state to %s: %s", self.world.state_file, error)

    # -- Bot API ---------------------------------------------------------------------

    async def handle_bot_api(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        token = request.match_info["token"]
        method = request.match_info["method"]
        bot = self.world.bots_by_token.get(token)
        if bot is None:
            # Telegram: a malformed token is 404, a well-formed unknown one 401.
            error = ApiError(401, "Unauthorized") if TOKEN_PATTERN.match(token) else ApiError(404, "Not Found")
            return self._answer(None, method, {}, error.code, error.envelope(), started, None)
        try:
            params = Params(await read_params(request))
        except ApiError as error:
            return self._answer(bot.id, method, {}, error.code, error.envelope(), started, None)
        # Telegram carries out a request it has fully received, whatever the client
        # does next: a client that vanishes (killed, timed out) during the pause or
        # latency must not cancel the call, even where aiohttp cancels handlers on
        # disconnect (handler_cancellation=True). Only the answer is then lost.
        call = asyncio.ensure_future(self._serve_call(request, bot, method, params, started))
        call.add_done_callback(_forget_outcome)
        return await asyncio.shield(call)

    async def _serve_call(self, request, bot, method, params: Params, started) -> web.StreamResponse:
        self.world.hub.counters["in_progress"] += 1
        try:
            return await self._faulty_call(request, bot, method, params, started)
        finally:
            self.world.hub.counters["in_progress"] -= 1

    async def _faulty_call(self, request, bot, method, params: Params, started) -> web.StreamResponse:
        await self.faults.wait_until_resumed()
        decision = self.faults.decide(method)
        if decision.delay:
            await asyncio.sleep(decision.delay)
        if decision.kind in ("error", "flood", "drop"):
            return self._injected(request, bot.id, method, params, decision, started)

        try:
            body = {"ok": True, "result": await self.api.call(bot, method, params)}
            status = 200
        except ApiError as error:
            status, body = error.code, error.envelope()
        if decision.kind == "drop_after":
            return self._drop(request, bot.id, method, params, started, "drop_after", status, body)
        return self._answer(bot.id, method, params.data, status, body, started, decision.kind)

    def _injected(self, request, bot_id, method, params: Params, decision, started) -> web.StreamResponse:
        if decision.kind == "drop":
            return self._drop(request, bot_id, method, params, started, "drop", 0, None)
        if decision.kind == "flood":
            retry = max(1, decision.retry_after)
            error = ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        else:
            error = ApiError(decision.status, _status_phrase(decision.status))
        return self._answer(bot_id, method, params.data, error.code, error.envelope(), started, decision.kind)

    def _drop(self, request, bot_id, method, params: Params, started, kind, status, body) -> web.StreamResponse:
        """Close the connection without an answer (the client sees a broken connection)."""
        self.world.hub.record_call(
            bot_id=bot_id,
            method=method,
            params=params.data,
            status=status,
            response=body,
            duration_ms=(time.perf_counter() - started) * 1000,
            fault=kind,
        )
        if request.transport is not None:
            request.transport.abort()
        raise ConnectionResetError("sandbox dropped the connection on purpose")

    def _answer(self, bot_id, method, params, status, body, started, fault) -> web.Response:
        self.world.hub.record_call(
            bot_id=bot_id,
            method=method,
            params=params,
            status=status,
            response=body,
            duration_ms=(time.perf_counter() - started) * 1000,
            fault=fault,
        )
        return web.Response(text=_dumps(body), status=status, content_type="application/json")

    # -- files and page --------------------------------------------------------------

    async def handle_file_download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] not in self.world.bots_by_token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        path = request.match_info["path"]
        for stored in self.world.files.values():
            if stored.file_path == path:
                return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    async def handle_page_file(self, request: web.Request) -> web.Response:
        stored = self.world.files.get(request.match_info["file_id"])
        if stored is None:
            raise web.HTTPNotFound()
        headers = {
            "Content-Disposition": f'inline; filename="{(stored.file_name or "file").replace(chr(34), "")}"',
            "X-Content-Type-Options": "nosniff",
        }
        content_type = stored.mime_type or "application/octet-stream"
        if content_type.startswith("text/html") or "svg" in content_type:
            content_type = "application/octet-stream"  # never let an upload run script on the page
        return web.Response(body=stored.data, content_type=content_type, headers=headers)

    async def handle_index(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-store"})


async def read_params(request: web.Request) -> dict:
    """Merge the query string with a JSON, form or multipart body, as Telegram accepts them."""
    params: dict = dict(request.query)
    if request.method not in ("POST", "PUT") or not request.can_read_body:
        return params
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(400, "Bad Request: can't parse JSON encoded request body") from None
        if isinstance(body, dict):
            params.update(body)
        return params
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for name, value in form.items():
            if hasattr(value, "file"):
                params[name] = UploadedFile(value.file.read(), value.filename, value.content_type)
            else:
                params[name] = value
    return params


def _forget_outcome(call: asyncio.Future) -> None:
    """Nobody awaits a call whose client vanished: retrieve its outcome so asyncio does not complain."""
    if not call.cancelled():
        call.exception()


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Internal Server Error"
