"""Stopping the sandbox answers the long polls in flight instead of cancelling them."""

import threading
import time

import httpx

from sandbox.testing import run_sandbox

TOKEN = "123456:shutdown-test-token"


def test_a_long_poll_in_flight_gets_an_empty_answer_when_the_sandbox_stops():
    answers = []
    with run_sandbox(tokens=[TOKEN]) as sandbox:
        url = f"{sandbox.base_url}{TOKEN}/getUpdates"

        def poll():
            answers.append(httpx.get(url, params={"timeout": 30}, timeout=40))

        poller = threading.Thread(target=poll)
        poller.start()
        deadline = time.monotonic() + 5
        while sandbox.stats()["in_progress"] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)  # until the long poll is waiting inside the sandbox
    poller.join(timeout=10)

    assert not poller.is_alive(), "the long poll outlived the sandbox"
    assert [(a.status_code, a.json()) for a in answers] == [(200, {"ok": True, "result": []})]
