"""Helpers for driving python-telegram-bot against the sandbox in tests.

Coroutine scenarios run through ``run()`` (``asyncio.run``), so the suite
needs no asyncio pytest plugin.
"""

from __future__ import annotations

import asyncio

from telegram import Bot
from telegram.ext import Application

TOKEN = "123456:SANDBOX-TEST-TOKEN"


def run(coroutine):
    """Run one async scenario to completion."""
    return asyncio.run(coroutine)


def make_bot(sandbox, token: str = TOKEN, **kwargs) -> Bot:
    """A PTB Bot talking to the sandbox (use inside ``async with``)."""
    return Bot(token, base_url=sandbox.base_url, base_file_url=sandbox.base_file_url, **kwargs)


def make_application(sandbox, token: str = TOKEN, **builder_options) -> Application:
    """A PTB Application talking to the sandbox; add handlers, then ``sandbox.polling(app)``."""
    builder = Application.builder().token(token).base_url(sandbox.base_url).base_file_url(sandbox.base_file_url)
    for name, value in builder_options.items():
        builder = getattr(builder, name)(value)
    return builder.build()
