"""PostgreSQL connections under load (issue 13): prints figures, asserts nothing.

    .venv/bin/python bench/bench_connections.py [--clients 50] [--seconds 20]
    flock /tmp/slotbot-redis.lock .venv/bin/python bench/bench_connections.py --bot   # + bench_bot.py at once

Starts the web process as the Procfile does (uvicorn core.asgi, with the
Procfile's pool size for web), then `--clients` REST clients at once, each in
a loop of GET /api/availability/ (availability first over 500 resources) and
GET /api/resources/, for `--seconds`. With `--bot`, bench/bench_bot.py (the
bot bench: 50 sandbox users booking through the real bot, its own database)
runs at the same time. A sampler reads pg_stat_activity every 50 ms and
prints the peak number of client connections per database and on the whole
server against max_connections, with the request rate, errors and latency.
Uses its own database, slotbot_bench_connections, created and dropped here.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SERVER = "postgres://postgres@127.0.0.1:5432"
DATABASE = "slotbot_bench_connections"
BOT_DATABASE = "slotbot_bench_bot"
PORT = 8765
RESOURCES = 500


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--bot", action="store_true", help="run bench/bench_bot.py at the same time")
    return parser.parse_args()


def procfile_pool_size(process, bound="MAX"):
    """The DATABASE_POOL_{bound}_SIZE default the Procfile gives `process`."""
    for line in (REPO / "Procfile").read_text().splitlines():
        if line.startswith(f"{process}:"):
            found = re.search("DATABASE_POOL_" + bound + r"_SIZE=\$\{\w+:-(\d+)\}", line)
            return int(found.group(1)) if found else None
    return None


def environment():
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "core.settings",
        "DATABASE_URL": f"{SERVER}/{DATABASE}",
        "SECRET_KEY": "bench-only-secret-key",
        "TIME_ZONE": "Europe/Berlin",
        "TELEGRAM_BOT_TOKEN": "123456:slotbot-bench-token",
        "LOG_LEVEL": "WARNING",
        "DATABASE_POOL_MAX_SIZE": str(procfile_pool_size("web") or 10),
        "DATABASE_POOL_MIN_SIZE": str(procfile_pool_size("web", "MIN") or 1),
    }


def prepare():
    """The database, migrated, with RESOURCES resources and a user with an API token; returns the token."""
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    script = f"""
from django.core.management import call_command
call_command("migrate", verbosity=0)
from rest_framework.authtoken.models import Token
from bookings.models import Resource, ResourceKind
from core.models import User
Resource.objects.bulk_create(
    Resource(name=f"Connections bench {{i:03d}}", kind=ResourceKind.EQUIPMENT, category="Bench") for i in range({RESOURCES})
)
user = User.objects.create_user(username="connections-bench", telegram_id=77)
print(Token.objects.create(user=user).key)
"""
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + script],
        cwd=REPO,
        env=environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def drop():
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


class Sampler(threading.Thread):
    """Peak client connections per database and on the whole server, from pg_stat_activity."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peaks, self.peak_total, self.running = {}, 0, True

    def run(self):
        import psycopg

        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
            (self.max_connections,) = conn.execute("SHOW max_connections").fetchone()
            while self.running:
                rows = conn.execute(
                    "SELECT coalesce(datname, ''), count(*) FROM pg_stat_activity "
                    "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() GROUP BY 1"
                ).fetchall()
                for name, count in rows:
                    self.peaks[name] = max(self.peaks.get(name, 0), count)
                self.peak_total = max(self.peak_total, sum(count for _, count in rows))
                time.sleep(0.05)


def client(token, deadline, latencies, errors):
    start = datetime.now().astimezone() + timedelta(days=2)
    start = start.replace(hour=10, minute=0, second=0, microsecond=0)
    query = f"start={start.isoformat()}&end={(start + timedelta(hours=1)).isoformat()}".replace("+", "%2B")
    urls = [f"http://127.0.0.1:{PORT}/api/availability/?{query}", f"http://127.0.0.1:{PORT}/api/resources/"]
    headers = {"Authorization": f"Token {token}"}
    n = 0
    while time.monotonic() < deadline:
        began = time.perf_counter()
        try:
            with urllib.request.urlopen(urllib.request.Request(urls[n % 2], headers=headers), timeout=30) as answer:
                json.loads(answer.read())
            latencies.append(time.perf_counter() - began)
        except urllib.error.HTTPError as exc:
            errors.append(f"{exc.code} {json.loads(exc.read() or b'{}').get('code', '')}".strip())
        except OSError as exc:
            errors.append(type(exc).__name__)
        n += 1


def wait_for_web():
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health/", timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the web process did not start")


def main():
    args = parse_args()
    print(
        "Procfile pool sizes (DATABASE_POOL_MAX_SIZE per process): "
        + ", ".join(f"{p}={procfile_pool_size(p)}" for p in ("web", "bot", "worker", "beat"))
    )
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    token = prepare()
    sampler = Sampler()
    sampler.start()
    web = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "core.asgi:application", "--host", "127.0.0.1", "--port", str(PORT),
         "--log-level", "warning"],
        cwd=REPO,
        env=environment(),
    )  # fmt: skip
    bot = None
    try:
        wait_for_web()
        if args.bot:
            bot = subprocess.Popen([sys.executable, "bench/bench_bot.py"], cwd=REPO, stdout=subprocess.PIPE, text=True)
            time.sleep(3)  # its database and sandbox are up; its users start booking
        latencies, errors = [], []
        deadline = time.monotonic() + args.seconds
        threads = [
            threading.Thread(target=client, args=(token, deadline, latencies, errors)) for _ in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        bot_output = bot.communicate(timeout=600)[0] if bot else ""
    finally:
        sampler.running = False
        web.terminate()
        web.wait(timeout=30)
        if bot and bot.poll() is None:
            bot.terminate()
        drop()
    ordered = sorted(latencies) or [0]
    print(f"\n{args.clients} REST clients for {args.seconds:g} s: {len(latencies) / args.seconds:.0f} requests/s, "
          f"p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {ordered[int(len(ordered) * 0.95) - 1] * 1000:.0f} ms, "
          f"errors: {len(errors)} {sorted(set(map(str, errors)))}")  # fmt: skip
    if bot:
        print("bot bench (at the same time):")
        print("\n".join("    " + line for line in bot_output.splitlines() if line.strip()))
    print(f"\npeak client connections: web database {sampler.peaks.get(DATABASE, 0)}"
          + (f", bot bench database {sampler.peaks.get(BOT_DATABASE, 0)}" if bot else "")
          + f"; whole server {sampler.peak_total} of max_connections {sampler.max_connections}"
          " (the whole server includes other databases' sessions)")  # fmt: skip


if __name__ == "__main__":
    main()
