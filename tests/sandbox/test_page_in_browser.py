"""The chat page in a real headless Chromium, driven over the Chrome DevTools Protocol.

A user types /book into the page, the real PTB bot answers with inline
buttons, a click on a button triggers the callback, the toast shows the answer
and the edited message appears in place. A screenshot is saved under
var/test-artifacts/ (and the test's tmp dir). No extra packages: the protocol is
spoken over aiohttp's websocket client.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import aiohttp
import pytest

from .ptb import run
from .test_updates_with_ptb import booking_application

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"

if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
    pytest.skip(
        "chromium is not installed (apt-get install chromium); CI always runs this test", allow_module_level=True
    )


class Chromium:
    """A headless Chromium and one page, spoken to over the DevTools websocket."""

    def __init__(self, profile: Path) -> None:
        self.profile = profile
        self.process: subprocess.Popen | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future] = {}

    async def __aenter__(self) -> Chromium:
        self.process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--window-size=1400,860",
                "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port = await self._devtools_port()
        self.session = aiohttp.ClientSession()
        async with self.session.get(f"http://127.0.0.1:{port}/json/list") as response:
            targets = await response.json()
        page = next(target for target in targets if target["type"] == "page")
        self.socket = await self.session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)
        self._reader = asyncio.get_running_loop().create_task(self._read())
        await self.send("Page.enable")
        await self.send("Runtime.enable")
        return self

    async def __aexit__(self, *exc) -> None:
        self._reader.cancel()
        await self.socket.close()
        await self.session.close()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    async def _devtools_port(self) -> int:
        marker = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if marker.exists() and marker.read_text().strip():
                return int(marker.read_text().splitlines()[0])
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.process.returncode}")
            await asyncio.sleep(0.05)
        raise RuntimeError("chromium did not open its DevTools port")

    async def _read(self) -> None:
        async for message in self.socket:
            data = json.loads(message.data)
            future = self._pending.pop(data.get("id"), None)
            if future is not None and not future.done():
                future.set_result(data)

    async def send(self, method: str, **params) -> dict:
        call_id = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._pending[call_id] = future
        await self.socket.send_str(json.dumps({"id": call_id, "method": method, "params": params}))
        answer = await asyncio.wait_for(future, 20)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    async def evaluate(self, expression: str):
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 10.0, what: str = ""):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = await self.evaluate(expression)
            except RuntimeError:  # e.g. the document is still loading
                value = None
            if value:
                return value
            await asyncio.sleep(0.05)
        raise AssertionError(f"the page never showed {what or expression}")

    async def click(self, expression: str) -> None:
        """A real mouse click in the middle of the element ``expression`` evaluates to."""
        box = await self.evaluate(
            f"(() => {{ const r = ({expression}).getBoundingClientRect();"
            f" return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            await self.send("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    async def type_text(self, selector: str, text: str) -> None:
        await self.click(f"document.querySelector({json.dumps(selector)})")
        await self.send("Input.insertText", text=text)

    async def screenshot(self, path: Path) -> None:
        data = await self.send("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(data["data"]))


def test_page_sends_shows_buttons_presses_and_shows_the_edit(sandbox, tmp_path):
    alice = sandbox.user("Alice", username="alice", started=True)
    sandbox.group("Lab admins", members=[alice, sandbox.user("Bob")])
    chat_key = f"p:123456:{alice.id}"

    async def scenario(browser_profile: Path) -> Path:
        async with Chromium(browser_profile) as browser:
            await browser.send("Page.navigate", url=f"{sandbox.url}#chat={chat_key}")
            await browser.wait_for("document.body.dataset.ready === 'true'", what="the loaded page")
            await browser.wait_for(
                "document.getElementById('status').textContent.includes('live')", what="the live event stream"
            )
            await browser.type_text("#message-input", "/book")
            await browser.click("document.getElementById('send-button')")
            button = (
                "[...document.querySelectorAll('.inline-keyboard button')].find(b => b.textContent === 'Projector')"
            )
            await browser.wait_for(f"Boolean({button})", what="the bot's Projector button")
            await browser.wait_for("document.getElementById('messages').textContent.includes('Which resource?')")
            await browser.click(button)
            await browser.wait_for(
                "document.getElementById('messages').textContent.includes('You booked the Projector')",
                what="the edited message",
            )
            toast = await browser.wait_for(
                "!document.getElementById('toast').hidden && document.getElementById('toast').textContent",
                what="the answer toast",
            )
            assert toast == "Projector booked"
            edited_meta = await browser.evaluate(
                "[...document.querySelectorAll('.message .meta')].some(m => m.textContent.startsWith('edited'))"
            )
            assert edited_meta, "the edited message is marked as edited"
            calls = await browser.evaluate("[...document.querySelectorAll('#calls .method')].map(m => m.textContent)")
            assert "answerCallbackQuery" in calls and "editMessageText" in calls
            shot = tmp_path / "sandbox-page.png"
            await browser.screenshot(shot)
            return shot

    with sandbox.polling(booking_application(sandbox)):
        shot = run(scenario(tmp_path / "chromium-profile"))

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    saved = ARTIFACTS / "sandbox-page.png"
    shutil.copyfile(shot, saved)
    print(f"screenshot: {saved} (and {shot})")
    assert shot.stat().st_size > 10_000
    texts = [(e["kind"], e.get("text") or e.get("data")) for e in alice.transcript()]
    assert texts == [("message", "/book"), ("message", "You booked the Projector"), ("press", "res:1")]
