"""How fast the sandbox serves the Bot API. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_sandbox.py [--calls 5000] [--concurrency 50] [--round-trips 300]

1. sendMessage throughput: ``--calls`` calls from ~50 concurrent aiohttp
   requests, flood limits off (the figure is the server's, not Telegram's limit).
2. Round trip: a user's message (user API) until a pending getUpdates long-poll
   returns it, p50/p95 over ``--round-trips`` messages.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.testing import SandboxClient, run_sandbox  # noqa: E402

TOKEN = "123456:BENCH-TOKEN"


async def send_message_throughput(sandbox, chat_id: int, calls: int, concurrency: int) -> float:
    url = f"{sandbox.base_url}{TOKEN}/sendMessage"
    connector = aiohttp.TCPConnector(limit=concurrency)
    remaining = iter(range(calls))
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            for number in remaining:
                async with session.post(url, json={"chat_id": chat_id, "text": f"message {number}"}) as response:
                    body = await response.json()
                    assert body["ok"], body

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return calls / (time.perf_counter() - started)


async def long_poll_round_trips(sandbox, user_id: int, count: int) -> list[float]:
    poll_url = f"{sandbox.base_url}{TOKEN}/getUpdates"
    send_url = f"{sandbox.url}sandbox/api/chats/{user_id}/messages"
    offset = 0
    timings = []
    async with aiohttp.ClientSession() as poller, aiohttp.ClientSession() as user:
        for number in range(count):
            poll = asyncio.ensure_future(poller.post(poll_url, json={"offset": offset, "timeout": 10}))
            await asyncio.sleep(0.002)  # let the long poll reach the server and start waiting
            started = time.perf_counter()
            async with user.post(send_url, json={"from_id": user_id, "text": f"ping {number}"}) as response:
                await response.read()
            async with await poll as response:
                updates = (await response.json())["result"]
            timings.append((time.perf_counter() - started) * 1000)
            offset = updates[-1]["update_id"] + 1
    return timings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@contextlib.contextmanager
def sandbox_process():
    """``python -m sandbox`` in its own process, so the client does not share its GIL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(port), "--token", TOKEN, "--no-flood-limits"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = SandboxClient(f"http://127.0.0.1:{port}/", tokens=[TOKEN])
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                client.state()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield client
    finally:
        client.close()
        process.terminate()
        process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--round-trips", type=int, default=300)
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run the sandbox in a thread of this process (as tests do) instead of its own process",
    )
    args = parser.parse_args()

    where = run_sandbox(tokens=[TOKEN], flood_limits=False) if args.in_process else sandbox_process()
    with where as sandbox:
        print(f"sandbox {'in a thread of the client process' if args.in_process else 'in its own process'}")
        user = sandbox.user("Bench", started=True)
        asyncio.run(send_message_throughput(sandbox, user.id, 500, args.concurrency))  # warm-up
        rate = asyncio.run(send_message_throughput(sandbox, user.id, args.calls, args.concurrency))
        print(f"sendMessage: {rate:,.0f} calls/s ({args.calls} calls, {args.concurrency} concurrent, flood limits off)")
        timings = asyncio.run(long_poll_round_trips(sandbox, user.id, args.round_trips))
        print(
            f"user message -> getUpdates wake-up: p50 {percentile(timings, 0.5):.2f} ms, "
            f"p95 {percentile(timings, 0.95):.2f} ms, mean {statistics.mean(timings):.2f} ms "
            f"({args.round_trips} messages)"
        )


if __name__ == "__main__":
    main()
