"""Benchmark: Slotbot's bot under N concurrent users, beside a trivial echo bot, through the sandbox.

    .venv/bin/python bench/bench_bot.py [--users 50] [--db-latency-ms 5]   # BOT_DB_THREADS=1 … compares pool sizes

Each simulated user runs the booking flow through the real bot (/start,
resource card, Book, day, start, length, Confirm: 7 updates), all users at
once. The same users then talk to a python-telegram-bot echo Application on
the same sandbox. Printed: updates handled per second, and the latency from
a user's message or press to the bot's reply (p50 / p95), for both, and the
ratio (what Slotbot's own work costs). Uses its own database,
slotbot_bench_bot, created and dropped here. Prints figures only.
"""

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import benchkit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE = "slotbot_bench_bot"
os.environ.update(
    DJANGO_SETTINGS_MODULE="core.settings",
    DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
    SECRET_KEY=os.environ.get("SECRET_KEY", "bench-only-secret-key"),
    TELEGRAM_BOT_TOKEN="123456:slotbot-bench-token",
    TIME_ZONE=os.environ.get("TIME_ZONE", "Europe/Berlin"),
    LOG_LEVEL="CRITICAL",
)
TOKEN = os.environ["TELEGRAM_BOT_TOKEN"]
FLOW_STEPS = 7


def delay_every_query(seconds):
    """Every connection opened from now on waits `seconds` per query (the wait releases the GIL, like a socket)."""
    from django.db.backends.signals import connection_created

    def delayed(execute, sql, params, many, context):
        time.sleep(seconds)
        return execute(sql, params, many, context)

    def add_delay(sender, connection, **kwargs):
        connection.execute_wrappers.append(delayed)

    connection_created.connect(add_delay, weak=False)


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(latencies, action, expect):
    started = time.perf_counter()
    action()
    reply = expect()
    latencies.append(time.perf_counter() - started)
    return reply


def booking_flow(user, resource_id, latencies):
    from bot import callbacks as cb

    timed(latencies, lambda: user.send("/start"), lambda: user.expect_message(containing="Hello", timeout=60))
    timed(
        latencies,
        lambda: user.press(cb.data(cb.RESOURCE, resource_id), forge=True),
        lambda: user.expect_message(containing="Rules", timeout=60),
    )
    calendar = timed(
        latencies, lambda: user.press("📅 Book"), lambda: user.expect_message(containing="day", timeout=60)
    )
    day = [label for label in calendar.buttons if label.isdigit()][-1]
    starts = timed(latencies, lambda: user.press(day), lambda: user.expect_message(containing="start", timeout=60))
    lengths = timed(
        latencies, lambda: user.press(starts.buttons[0]), lambda: user.expect_message(containing="how long", timeout=60)
    )
    timed(latencies, lambda: user.press(lengths.buttons[0]), lambda: user.expect_message(containing="Book", timeout=60))
    timed(latencies, lambda: user.press("✅ Confirm"), lambda: user.expect_message(containing="Booked", timeout=60))


def echo_flow(user, latencies):
    for step in range(FLOW_STEPS):
        timed(
            latencies,
            lambda: user.send(f"echo {step}"),
            lambda: user.expect_message(containing=f"echo {step}", timeout=60),
        )


def run_users(users, flow):
    """Run flow(user, index, latencies) for every user at once; (wall seconds, latencies)."""
    latencies, failures = [], []
    lock = threading.Lock()

    def one(index, user):
        mine = []
        try:
            flow(user, index, mine)
        except Exception as error:
            failures.append(error)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=one, args=(i, u)) for i, u in enumerate(users)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"{len(failures)} user(s) failed: {failures[0]}")
    return time.perf_counter() - started, latencies


def echo_application(sandbox):
    from telegram.ext import Application, MessageHandler, filters

    async def echo(update, context):
        await update.effective_message.reply_text(update.effective_message.text)

    application = Application.builder().token(TOKEN).base_url(sandbox.base_url).concurrent_updates(64).build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    return application


def report(name, seconds, latencies):
    rate = len(latencies) / seconds
    print(
        f"{name:<9} {len(latencies):>6} updates in {seconds:6.2f} s: {rate:7.1f} updates/s, "
        f"latency p50 {percentile(latencies, 0.5) * 1000:6.1f} ms, p95 {percentile(latencies, 0.95) * 1000:6.1f} ms"
    )
    return rate


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument(
        "--db-latency-ms",
        type=float,
        default=0.0,
        help="add this round trip to every query, as a database across a network would",
    )
    options = parser.parse_args()

    benchkit.recreate_database(DATABASE)
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        if options.db_latency_ms:
            delay_every_query(options.db_latency_ms / 1000)
        from bookings.models import Resource, ResourceKind
        from bot.app import build_application
        from bot.flood import FloodGuard
        from sandbox.testing import run_sandbox

        resources = [
            Resource.objects.create(name=f"Bench {n:03d}", kind=ResourceKind.EQUIPMENT) for n in range(options.users)
        ]
        with run_sandbox(tokens=[TOKEN], flood_limits=False) as sandbox:
            users = [sandbox.user(f"User {n}") for n in range(options.users)]
            slotbot = build_application(
                token=TOKEN,
                base_url=sandbox.base_url,
                rate_limit=False,
                flood_guard=FloodGuard(limit=10_000, window_seconds=1),
            )
            with sandbox.polling(slotbot, poll_timeout=0.5):
                seconds, latencies = run_users(users, lambda u, i, lat: booking_flow(u, resources[i].pk, lat))
            for user in users:
                user.skip_to_now()
            with sandbox.polling(echo_application(sandbox), poll_timeout=0.5):
                echo_seconds, echo_latencies = run_users(users, lambda u, i, lat: echo_flow(u, lat))
        from django.conf import settings

        print(
            f"{options.users} users, {FLOW_STEPS} updates each, sandbox flood limits off, PostgreSQL, "
            f"BOT_DB_THREADS={settings.BOT_DB_THREADS}, +{options.db_latency_ms:g} ms per query"
        )
        slotbot_rate = report("slotbot", seconds, latencies)
        echo_rate = report("echo bot", echo_seconds, echo_latencies)
        print(
            f"slotbot / echo: {slotbot_rate / echo_rate:.2f} of the echo rate; "
            f"p50 latency x{statistics.median(latencies) / statistics.median(echo_latencies):.1f}"
        )
    finally:
        from django.db import connections

        connections.close_all()
        benchkit.drop_database(DATABASE)


if __name__ == "__main__":
    main()
