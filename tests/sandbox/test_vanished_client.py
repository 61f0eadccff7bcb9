"""A request the sandbox fully received is carried out even if its client vanishes, as Telegram does.

A bot process killed (or timing out) while Telegram holds its sendMessage gets
no answer, but the message is still shown in the chat. The sandbox must do the
same, or a test of "the worker died mid-send" would see messages disappear
that Telegram would have delivered.
"""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import pytest

from sandbox.testing import run_sandbox

from .ptb import TOKEN

LATENCY_MS = 1000  # the client is gone long before the answer would come


def send_message_and_vanish(base_url: str, chat_id: int, text: str) -> None:
    """POST a complete sendMessage and close the connection without reading the answer."""
    address = urlsplit(base_url)
    body = json.dumps({"chat_id": chat_id, "text": text}).encode()
    head = (
        f"POST /bot{TOKEN}/sendMessage HTTP/1.1\r\nHost: {address.netloc}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((address.hostname, address.port)) as connection:
        connection.sendall(head + body)


@pytest.mark.parametrize("handler_cancellation", [False, True], ids=["default", "aiohttp-cancels-handlers"])
def test_send_message_whose_client_vanished_still_appears_in_the_chat(handler_cancellation):
    with run_sandbox(tokens=[TOKEN], handler_cancellation=handler_cancellation) as sandbox:
        alice = sandbox.user("Alice", started=True)
        sandbox.set_faults(latency_ms=LATENCY_MS, methods=["sendMessage"])
        sent_at = time.monotonic()

        send_message_and_vanish(sandbox.base_url, alice.id, "your booking has started")

        message = alice.expect_message("your booking has started", timeout=10)
        assert time.monotonic() - sent_at >= LATENCY_MS / 1000, "it was carried out after the client left"
        assert [m.text for m in alice.bot_messages()] == [message.text]
        assert sandbox.stats()["in_progress"] == 0
