"""The bot's HTTP client for the Bot API: python-telegram-bot's BaseRequest over aiohttp.

PTB's default HTTPXRequest costs the bot process 2-3 ms of CPU per Bot API call
(httpx's async connection pool; bench/bench_bot_open.py's profile), and every
update makes two or three calls (getUpdates, the reply, answerCallbackQuery):
a third of the bot's CPU per update. aiohttp, already a dependency, makes the
same calls for a fifth of that. Same contract as HTTPXRequest: parameters as a
form (multipart when files are attached), one keep-alive pool per instance,
PTB's timeouts (connect, read, pool; aiohttp has no separate write timeout, so
a write is bounded by the read timeout), and transport failures raised as
telegram.error.TimedOut / NetworkError, which PTB's retry loops and our error
handler already understand. BOT_HTTP_CLIENT=httpx goes back to PTB's own.
"""

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = ["AiohttpRequest"]

# PTB's "argument not given" marker class (DEFAULT_NONE and its kin), without importing its private module.
DefaultValue = type(BaseRequest.DEFAULT_NONE)


class AiohttpRequest(BaseRequest):
    """A BaseRequest with one aiohttp session (created in `initialize`, on the Application's loop)."""

    __slots__ = ("_connect_timeout", "_pool_size", "_pool_timeout", "_read_timeout", "_session")

    def __init__(
        self,
        *,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ):
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, keepalive_timeout=30)
            # No cookies (Telegram sets none; an unused jar still costs a lookup per response).
            self._session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout=BaseRequest.DEFAULT_NONE,
        write_timeout=BaseRequest.DEFAULT_NONE,
        connect_timeout=BaseRequest.DEFAULT_NONE,
        pool_timeout=BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        # A DefaultValue (PTB's "not given") means this instance's own timeout, as in HTTPXRequest.
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        # aiohttp's `connect` covers waiting for a pooled connection and opening one.
        waiting = None if connect is None and pool is None else (connect or 0) + (pool or 0)
        timeout = aiohttp.ClientTimeout(total=None, connect=waiting, sock_connect=connect, sock_read=read)
        try:
            async with self._session.request(
                method,
                url,
                data=_body(request_data),
                headers={"User-Agent": self.USER_AGENT},
                timeout=timeout,
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{error.__class__.__name__}: {error}") from error


def _body(request_data):
    """The parameters as a form, as HTTPXRequest sends them; multipart with the files when there are any."""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    files = request_data.multipart_data
    if not files:
        return fields or None
    form = aiohttp.FormData(quote_fields=False)
    for name, value in fields.items():
        form.add_field(name, value)
    for name, upload in files.items():
        filename, content, *rest = upload
        form.add_field(name, content, filename=filename, content_type=rest[0] if rest else None)
    return form
