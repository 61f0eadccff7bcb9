"""Benchmark: one user's burst of 30 replies; how long do other users' replies and a worker's message wait?

    .venv/bin/python bench/bench_fairness.py [--burst 30] [--others 5] [--rounds 4]

The sandbox runs in its own process with Telegram's limits on (30/s overall,
5 at once then 1/s per chat). The bot (python-telegram-bot with
bot/ratelimit.py over Redis) queues `--burst` replies to one chat at once,
as when a user sends that many commands in a burst; 0.2 s later `--others`
users each get a reply every second for `--rounds` seconds, and a worker books
a slot for a third chat as the notification workers do (max_wait 2 s, beyond
which its task is rescheduled). Two setups, one run:

- fair: the overall budget is core/ratelimit.py's calendar of single slots;
- single-TAT: the overall budget is one GCRA arrival time for all chats
  (Slotbot's limiter before), so the burst books it far into the future.

Prints, per setup: the other users' reply latency (p50, p95, max), the
worker's wait (or how far it would be rescheduled), and the 429s. The
flooder's own backlog is not waited for. Uses Redis DB 0 under a key prefix
of its own.
"""

import argparse
import asyncio
import logging
import os
import statistics
import subprocess
import sys
import time
import uuid
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.bench_shared_limit import free_port, wait_for_port  # noqa: E402

TOKEN = "123456:slotbot-bench-token"
REDIS_URL = "redis://127.0.0.1:6379/0"
WORKER_MAX_WAIT = 2.0  # notifications' MAX_LIMITER_WAIT


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--burst", type=int, default=30, help="replies queued at once for the flooding user")
    parser.add_argument("--others", type=int, default=5, help="other users, each getting a reply a second")
    parser.add_argument("--rounds", type=int, default=4, help="replies per other user")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")
    os.environ.update(SECRET_KEY="bench", REDIS_URL=REDIS_URL, TELEGRAM_BOT_TOKEN=TOKEN)
    import django

    django.setup()
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
            f"a burst of {args.burst} replies to one chat; {args.others} other users get a reply a second "
            f"for {args.rounds} s; a worker books a slot for a third chat; sandbox with Telegram's limits on"
        )
        print(f"{'setup':<11} {'others p50 s':>12} {'p95 s':>7} {'max s':>7} {'worker':>22} {'429s':>5}")
        for setup in ("single-TAT", "fair"):
            print(measure(sandbox, setup, args))
            time.sleep(2)  # the sandbox's buckets refill between setups
    finally:
        sandbox_process.terminate()
        sandbox_process.wait()


def measure(sandbox, setup, args):
    import redis
    from telegram.ext import Application

    from bot import ratelimit as bot_ratelimit
    from bot.ratelimit import SharedRateLimiter
    from core import ratelimit
    from core.ratelimit import Bucket, RedisRateLimiter

    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"bench:{uuid.uuid4().hex}:"
    limiter = RedisRateLimiter(client, prefix=prefix)
    fair_overall = ratelimit.overall_bucket
    if setup == "single-TAT":
        # The overall bucket as a plain GCRA bucket: exactly the limiter's algorithm before.
        single = Bucket("all", fair_overall().interval, 0.0)
        ratelimit.overall_bucket = bot_ratelimit.overall_bucket = lambda: single
    flooder = sandbox.user("Flooder", started=True)
    others = [sandbox.user(f"Other {n}", started=True) for n in range(args.others)]
    third = sandbox.user("Third", started=True)
    before = sandbox.stats()["flood_429"]
    application = (
        Application.builder()
        .token(TOKEN)
        .base_url(sandbox.base_url)
        .rate_limiter(SharedRateLimiter(max_retries=10, limiter=limiter))
        .connection_pool_size(64)
        .updater(None)
        .build()
    )
    latencies = []

    async def reply(chat_id):
        started = time.perf_counter()
        await application.bot.send_message(chat_id, "answer")
        latencies.append(time.perf_counter() - started)

    async def other_user(user):
        for round_ in range(args.rounds):
            await asyncio.sleep(max(0.0, 0.2 + round_ - (time.perf_counter() - t0)))
            await reply(user.id)

    async def worker():
        await asyncio.sleep(1.0)
        buckets = ratelimit.buckets_for(third.id, is_group=False)
        return await asyncio.to_thread(limiter.reserve, buckets, max_wait=WORKER_MAX_WAIT)

    async def scenario():
        nonlocal t0
        async with application:
            t0 = time.perf_counter()
            burst = [asyncio.create_task(application.bot.send_message(flooder.id, "answer")) for _ in range(args.burst)]
            results = await asyncio.gather(worker(), *(other_user(user) for user in others))
            for task in burst:  # the flooder's backlog is not what is measured
                task.cancel()
            await asyncio.gather(*burst, return_exceptions=True)
            return results[0]

    t0 = 0.0
    try:
        reservation = asyncio.run(scenario())
    finally:
        ratelimit.overall_bucket = bot_ratelimit.overall_bucket = fair_overall
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    if reservation.booked:
        worker_text = f"sent after {reservation.wait:.2f} s"
    else:
        worker_text = f"rescheduled by {reservation.wait:.1f} s"
    refused = sandbox.stats()["flood_429"] - before
    return f"{setup:<11} {statistics.median(ordered):>12.2f} {p95:>7.2f} {ordered[-1]:>7.2f} {worker_text:>22} {refused:>5}"


if __name__ == "__main__":
    main()
