"""Benchmark: the bot and a notification worker send at the same time; do they stay under 30/s together?

    .venv/bin/python bench/bench_shared_limit.py [--messages 300]

The sandbox runs in its own process with Telegram's limits on (30/s overall,
burst 33). The "worker" is another process that paces with core/ratelimit.py
in Redis, as the notification workers do, and sends `--messages` messages to
as many users; at the same moment the bot (python-telegram-bot in this
process) sends `--messages` to as many other users. Two setups, one run:

- shared: the bot uses bot/ratelimit.py (the same Redis buckets as the worker);
- separate: the bot paces itself with PTB's in-process AIORateLimiter at 30/s,
  as Slotbot did before, unaware of the worker.

Prints, per setup: delivered / sent, wall time, combined messages/s, and the
429s the sandbox answered (each one retried by the sender after retry_after).
Uses Redis DB 0 under a key prefix of its own.
"""

import argparse
import asyncio
import logging
import os
import socket
import subprocess
import sys
import time
import uuid
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TOKEN = "123456:slotbot-bench-token"
REDIS_URL = "redis://127.0.0.1:6379/0"

WORKER = (
    """
import sys, time, httpx, redis
from core.ratelimit import Bucket, RedisRateLimiter
prefix, base_url, chat_ids = sys.argv[1], sys.argv[2], [int(c) for c in sys.argv[3].split(",")]
limiter = RedisRateLimiter(redis.Redis.from_url("%s"), prefix=prefix)
overall = Bucket("all", 1 / 30, 0.0, shared=True)  # as core.ratelimit.overall_bucket()
with httpx.Client(timeout=30) as http:
    sys.stdin.readline()  # go
    for chat_id in chat_ids:
        while True:
            chat = Bucket(f"chat:{chat_id}", 1.0, 0.0)
            reservation = limiter.reserve([overall, chat], max_wait=3600)
            time.sleep(reservation.wait)
            answer = http.post(base_url + "/sendMessage", json={"chat_id": chat_id, "text": "reminder"}).json()
            if answer["ok"]:
                break
            retry_after = answer.get("parameters", {}).get("retry_after", 1)
            limiter.penalise(chat, retry_after)
print("done", flush=True)
"""
    % REDIS_URL
)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300, help="messages per sender")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")
    os.environ.update(SECRET_KEY="bench", REDIS_URL=REDIS_URL, TELEGRAM_BOT_TOKEN=TOKEN)
    import django

    django.setup()
    # The figures are the table below; PTB logs every 429 it retries, and warns of a coming API change.
    logging.getLogger("telegram").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    port = free_port()
    sandbox_process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(port), "--token", TOKEN],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        from sandbox.testing import SandboxClient

        sandbox = SandboxClient(f"http://127.0.0.1:{port}/", tokens=[TOKEN])
        print(
            f"{args.messages} bot messages + {args.messages} worker messages at once, each to its own chat; "
            f"sandbox in its own process, Telegram's limits on (30/s, burst 33)"
        )
        print(f"{'setup':<10} {'delivered':>11} {'wall s':>8} {'msg/s':>7} {'429s':>6}")
        for setup in ("shared", "separate"):
            print(measure(sandbox, setup, args.messages))
            time.sleep(2)  # the sandbox's overall bucket refills between setups
    finally:
        sandbox_process.terminate()
        sandbox_process.wait()


def measure(sandbox, setup, count):
    import redis
    from telegram.ext import AIORateLimiter, Application

    from bot.ratelimit import SharedRateLimiter
    from core.ratelimit import RedisRateLimiter

    prefix = f"bench:{uuid.uuid4().hex}:"
    bot_users = [sandbox.user(f"B{n}", started=True) for n in range(count)]
    worker_users = [sandbox.user(f"W{n}", started=True) for n in range(count)]
    before = sandbox.stats()["flood_429"]
    if setup == "shared":
        limiter = SharedRateLimiter(
            max_retries=10, limiter=RedisRateLimiter(redis.Redis.from_url(REDIS_URL), prefix=prefix)
        )
    else:
        limiter = AIORateLimiter(overall_max_rate=30, max_retries=10)
    application = (
        Application.builder()
        .token(TOKEN)
        .base_url(sandbox.base_url)
        .rate_limiter(limiter)
        .connection_pool_size(64)
        .updater(None)
        .build()
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, prefix, f"{sandbox.base_url}{TOKEN}", ",".join(str(u.id) for u in worker_users)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )

    async def bot_side():
        async with application:
            worker.stdin.write("go\n")
            worker.stdin.flush()
            started = time.perf_counter()
            await asyncio.gather(*(application.bot.send_message(user.id, "your booking") for user in bot_users))
            return started

    started = asyncio.run(bot_side())
    worker.stdout.readline()
    worker.wait()
    wall = time.perf_counter() - started
    delivered = sum(1 for user in bot_users + worker_users if user.bot_messages())
    refused = sandbox.stats()["flood_429"] - before
    return f"{setup:<10} {delivered:>5}/{2 * count:<5} {wall:>8.1f} {2 * count / wall:>7.1f} {refused:>6}"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("the sandbox did not start")


if __name__ == "__main__":
    main()
