"""Webhook delivery: POST each pending update to the bot's URL, in order, retrying failures.

Like Telegram, the sandbox sends the update as JSON with the header
``X-Telegram-Bot-Api-Secret-Token`` when a secret was set, treats any 2xx as
delivered, and otherwise keeps the update, records ``last_error_date`` /
``last_error_message`` (shown by getWebhookInfo) and retries with exponential
backoff. Updates go one at a time (``max_connections`` = 1 in effect), so the
order is kept. A JSON answer naming a ``method`` is executed as a Bot API call,
as Telegram does with replies in the webhook response.
"""

from __future__ import annotations

import asyncio
import json
import logging
from http import HTTPStatus

import aiohttp

from .botapi import ApiError, BotApi, Params
from .state import BotAccount, World, now_ts

__all__ = ["WebhookDelivery"]

log = logging.getLogger("sandbox.webhook")


class WebhookDelivery:
    """One delivery task per bot with a webhook set."""

    def __init__(
        self, world: World, api: BotApi, *, timeout: float = 10.0, retry_base: float = 0.5, retry_max: float = 30.0
    ) -> None:
        self.world = world
        self.api = api
        self.timeout = timeout
        self.retry_base = retry_base
        self.retry_max = retry_max
        self._tasks: dict[int, asyncio.Task] = {}
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        for bot in self.world.bots.values():
            self.ensure(bot)

    async def stop(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()
        if self._session is not None:
            await self._session.close()

    def ensure(self, bot: BotAccount) -> None:
        """Start the bot's delivery loop if it has a URL and no loop runs yet."""
        task = self._tasks.get(bot.id)
        if bot.webhook.url and self._session is not None and (task is None or task.done()):
            self._tasks[bot.id] = asyncio.get_running_loop().create_task(self._deliver_loop(bot))

    async def _deliver_loop(self, bot: BotAccount) -> None:
        backoff = self.retry_base
        while bot.webhook.url and self.world.bots.get(bot.id) is bot:
            if not bot.pending:
                await bot.update_signal.wait(30.0)
                continue
            update = bot.pending[0]
            error = await self._post(bot, update)
            if error is None:
                if bot.pending and bot.pending[0] is update:
                    bot.pending.popleft()
                    self.world.dirty = True
                backoff = self.retry_base
                continue
            bot.webhook.last_error_date = now_ts()
            bot.webhook.last_error_message = error
            self.world.hub.publish(
                "webhook_error", {"bot_id": bot.id, "error": error, "update_id": update["update_id"]}
            )
            await bot.update_signal.wait(backoff)  # a new setWebhook/deleteWebhook wakes it early
            backoff = min(backoff * 2, self.retry_max)

    async def _post(self, bot: BotAccount, update: dict) -> str | None:
        """Deliver one update; None when delivered, else Telegram's error text."""
        headers = {}
        if bot.webhook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = bot.webhook.secret_token
        try:
            async with self._session.post(bot.webhook.url, json=update, headers=headers) as response:
                if not 200 <= response.status < 300:
                    reason = response.reason or _phrase(response.status)
                    return f"Wrong response from the webhook: {response.status} {reason}"
                body = await response.read()
                if body and response.content_type == "application/json":
                    await self._run_reply(bot, body)
                return None
        except TimeoutError:
            return "Read timeout expired"
        except aiohttp.ClientConnectorError:
            return "Connection refused"
        except aiohttp.ClientError as error:
            return f"Connection error: {error.__class__.__name__}"

    async def _run_reply(self, bot: BotAccount, body: bytes) -> None:
        try:
            reply = json.loads(body)
        except ValueError:
            return
        if isinstance(reply, dict) and isinstance(reply.get("method"), str):
            params = {key: value for key, value in reply.items() if key != "method"}
            try:
                await self.api.call(bot, reply["method"], Params(params))
            except ApiError as error:
                log.info("webhook reply %s refused: %s", reply["method"], error.description)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
