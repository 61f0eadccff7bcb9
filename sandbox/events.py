"""Live notifications inside the sandbox: wake-up signals and the page's event stream.

``Signal`` wakes long-polls (getUpdates, the user API's wait endpoints) the
moment something happens. ``EventHub`` fans events out to server-sent-event
subscribers (the page) and keeps a bounded log of Bot API calls for the debug
panel. Everything here runs on the server's event loop.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque

__all__ = ["EventHub", "Signal"]


class Signal:
    """Many waiters, one ``fire()`` wakes them all; cheap when nobody waits."""

    __slots__ = ("_future",)

    def __init__(self) -> None:
        self._future: asyncio.Future | None = None

    async def wait(self, timeout: float) -> bool:
        """Wait for the next ``fire()``; False on timeout."""
        if timeout <= 0:
            return False
        if self._future is None or self._future.done():
            self._future = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(asyncio.shield(self._future), timeout)
            return True
        except TimeoutError:
            return False

    def fire(self) -> None:
        future, self._future = self._future, None
        if future is not None and not future.done():
            future.set_result(None)


class EventHub:
    """Server-sent events for the page plus the bounded Bot API call log."""

    def __init__(self, call_log_size: int = 500, queue_size: int = 2000) -> None:
        self._subscribers: set[asyncio.Queue] = set()
        self._queue_size = queue_size
        self._call_ids = itertools.count(1)
        self.calls: deque[dict] = deque(maxlen=call_log_size)
        # in_progress: Bot API calls received and not answered yet (pause, latency, a getUpdates long poll).
        self.counters = {"calls": 0, "errors": 0, "flood_429": 0, "injected_faults": 0, "in_progress": 0}

    @property
    def has_subscribers(self) -> bool:
        return bool(self._subscribers)

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=self._queue_size)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self._subscribers.discard(queue)

    def publish(self, kind: str, data: dict) -> None:
        """Queue one event for every subscriber; a subscriber that lags behind is dropped."""
        if not self._subscribers:
            return
        payload = json.dumps({"type": kind, **data}, ensure_ascii=False)
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(payload)
            except asyncio.QueueFull:
                self._subscribers.discard(queue)
                queue.put_nowait(None) if queue.empty() else None

    def record_call(
        self,
        *,
        bot_id: int | None,
        method: str,
        params: dict,
        status: int,
        response: dict | None,
        duration_ms: float,
        fault: str | None,
    ) -> None:
        """Remember one Bot API call for the debug panel (oldest calls fall off)."""
        self.counters["calls"] += 1
        if status != 200:
            self.counters["errors"] += 1
        if status == 429 and fault is None:
            self.counters["flood_429"] += 1
        if fault:
            self.counters["injected_faults"] += 1
        # Stored as they are (both dicts are fresh per call); cut down only when read.
        entry = {
            "id": next(self._call_ids),
            "time": time.time(),
            "bot_id": bot_id,
            "method": method,
            "params": params,
            "status": status,
            "response": response,
            "duration_ms": round(duration_ms, 2),
            "fault": fault,
        }
        self.calls.append(entry)
        if self._subscribers:
            self.publish("call", {"call": shorten_call(entry)})

    def recent_calls(self, after: int = 0) -> list[dict]:
        """The logged calls with an id above ``after``, oldest first, shortened for display."""
        return [shorten_call(call) for call in self.calls if call["id"] > after]


def shorten_call(call: dict) -> dict:
    return {**call, "params": _shorten(call["params"]), "response": _shorten(call["response"])}


def _shorten(value, limit: int = 600):
    """Keep the log small: long strings and big lists are cut."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + "…"
    if isinstance(value, dict):
        return {key: _shorten(item, limit) for key, item in value.items()}
    if isinstance(value, list):
        items = [_shorten(item, limit) for item in value[:50]]
        return items + ["…"] if len(value) > 50 else items
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if hasattr(value, "data") and hasattr(value, "filename"):  # an uploaded file
        return f"<file {value.filename!r}, {len(value.data)} bytes>"
    if value is None or isinstance(value, (int, float, bool)):
        return value
    return repr(value)
