"""Benchmark: Slotbot's bot under an open load, in polling and in webhook mode, through the sandbox.

    .venv/bin/python bench/bench_bot_open.py [--rates 10,20,40] [--seconds 30] [--modes polling,webhook]
    .venv/bin/python bench/bench_bot_open.py --modes polling --rates 20 --profile var/bot-profile

Updates arrive at a fixed average rate whatever the bot answers (Poisson
arrivals: an open loop, unlike bench_bot.py's closed loop of users waiting for
their replies). Each arrival is one of 200 simulated users doing the next
thing a user does: a command (/start, /free, /my, /book typed, /resources,
/help) or a press of a button on the bot's last screen in their chat (the
pickers' day / start / length, a resource, Cancel and its confirmation, Back).
A user waits for the bot's reply and a second before acting again; who acts
is chosen among the users not waiting, so the arrival rate never depends on
the bot's speed.

Latency is from just before the user's message or press is posted to the
sandbox to the moment the sandbox reports the bot's first answer in that chat
(a new message, an edit, or the press's answerCallbackQuery), read from the
sandbox's event stream. The first --warmup seconds of each rate are not counted.

Every part runs in its own process, as in production: the sandbox
(`python -m sandbox`, flood limits off, since 40 updates/s is more than
Telegram's 30 messages/s), the bot (`manage.py runbot`: polling), or two web
processes (`uvicorn core.asgi:application`, webhook mode) behind a
round-robin proxy in this process (a platform's router), and this process's
simulated users. PostgreSQL on this host, no Redis (each bot process counts
flood limits in its own memory), TELEGRAM_RATE_LIMIT off. Uses its own
database, slotbot_bench_bot_open, created and dropped here. Prints figures only.

--profile DIR records the polling bot with py-spy (every thread, native
frames off) and writes DIR/bot.txt (py-spy's "raw" collapsed stacks) and a
summary of the hottest functions.
"""

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import benchkit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE = "slotbot_bench_bot_open"
TOKEN = "123456:slotbot-bench-open-token"
SECRET = "bench-open-webhook-secret"
PYTHON = sys.executable
RESOURCES = 30
COMMANDS = (("/start", 10), ("/free", 20), ("/my", 20), ("/book", 25), ("/resources", 15), ("/help", 5))
PRESS_SHARE = 0.5  # of arrivals for a user whose last screen has buttons
THINK_SECONDS = 1.0
REPLY_TIMEOUT = 10.0


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url():
    return f"postgres://postgres@127.0.0.1:5432/{DATABASE}"


def child_env(sandbox_port, var_dir, **extra):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "DEBUG", "SENTRY_DSN", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="core.settings",
        DATABASE_URL=database_url(),
        SECRET_KEY="bench-only-secret-key",
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_BASE_URL=f"http://127.0.0.1:{sandbox_port}/bot",
        TELEGRAM_RATE_LIMIT="0",
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        BOT_FLOOD_LIMIT="10000",
        BOT_FLOOD_WINDOW_SECONDS="1",
        TIME_ZONE=os.environ.get("TIME_ZONE", "Europe/Berlin"),
        LOG_LEVEL="WARNING",
        SLOTBOT_VAR_DIR=str(var_dir),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def setup_database():
    os.environ.update(
        DJANGO_SETTINGS_MODULE="core.settings",
        DATABASE_URL=database_url(),
        SECRET_KEY="bench-only-secret-key",
        TELEGRAM_BOT_TOKEN=TOKEN,
        TIME_ZONE=os.environ.get("TIME_ZONE", "Europe/Berlin"),
        LOG_LEVEL="CRITICAL",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    from bookings.models import Resource, ResourceKind

    for n in range(RESOURCES):
        kind = ResourceKind.EQUIPMENT if n % 2 else ResourceKind.SPACE
        Resource.objects.create(name=f"Bench {n:03d}", kind=kind)
    connections.close_all()


def cpu_seconds(pid):
    """User + system CPU seconds of a process and its children so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(int(child)) for child in children)


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Processes:
    """Child processes started here, stopped by their own pid."""

    def __init__(self):
        self.children = []

    def start(self, args, env, name):
        log = open(env["SLOTBOT_VAR_DIR"] + f"/{name}.log", "w")  # noqa: SIM115 (closed in stop)
        child = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.children.append((child, log, name))
        return child

    def stop(self, child=None, sig=signal.SIGINT):
        for entry in list(self.children):
            process, log, _name = entry
            if child is not None and process is not child:
                continue
            if process.poll() is None:
                process.send_signal(sig)
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            log.close()
            self.children.remove(entry)


class Load:
    """The simulated users: the event stream, the arrivals, the latencies."""

    def __init__(self, sandbox_url, users, resources, seed):
        self.url = sandbox_url
        self.users = users
        self.resources = resources
        self.random = random.Random(seed)
        self.keyboards = {}  # user id -> (message id, [callback_data])
        self.waiting = {}  # user id -> (started, kind, record)
        self.ready_at = dict.fromkeys(users, 0.0)
        self.latencies = []  # (kind, seconds)
        self.lost = 0
        self.skipped = 0  # arrivals that found every user waiting
        self.errors = Counter()
        self.session = None
        self._stream = None

    async def start(self):
        import aiohttp

        self.session = aiohttp.ClientSession(
            base_url=self.url, connector=aiohttp.TCPConnector(limit=200), timeout=aiohttp.ClientTimeout(total=30)
        )
        ready = asyncio.Event()
        self._stream = asyncio.create_task(self._read_events(ready))
        await asyncio.wait_for(ready.wait(), 10)

    async def close(self):
        self._stream.cancel()
        await asyncio.gather(self._stream, return_exceptions=True)
        await self.session.close()

    async def _read_events(self, ready):
        async with self.session.get("/sandbox/api/events", timeout=None) as response:
            ready.set()
            async for line in response.content:
                if not line.startswith(b"data:") or b'"change"' not in line[:40]:
                    continue
                now = time.perf_counter()
                event = json.loads(line[5:])
                if event.get("type") != "change" or not event.get("from_bot"):
                    continue
                user_id = int(event["chat_key"].rsplit(":", 1)[-1]) if event["chat_key"].startswith("p:") else None
                if user_id not in self.ready_at:
                    continue
                entry = event.get("entry") or {}
                if event["kind"] in ("new", "edit") and not entry.get("deleted"):
                    data = [
                        button["callback_data"]
                        for row in (entry.get("reply_markup") or {}).get("inline_keyboard", [])
                        for button in row
                        if button.get("callback_data")
                    ]
                    if data:
                        self.keyboards[user_id] = (entry["message_id"], data)
                    elif event["kind"] == "new":
                        self.keyboards.pop(user_id, None)
                waiting = self.waiting.pop(user_id, None)
                if waiting is not None:
                    started, kind, record = waiting
                    if record:
                        self.latencies.append((kind, now - started))
                    self.ready_at[user_id] = now + THINK_SECONDS

    def _command(self):
        command = self.random.choices([c for c, _ in COMMANDS], weights=[w for _, w in COMMANDS])[0]
        if command != "/book":
            return command
        resource = self.random.choice(self.resources)
        day = date.today() + timedelta(days=self.random.randint(1, 20))
        return f"/book {resource} {day.isoformat()} {self.random.randint(8, 18)}:00 1h"

    async def act(self, user_id, record):
        """One update from this user; the reply is matched by the event stream."""
        keyboard = self.keyboards.get(user_id)
        if keyboard and self.random.random() < PRESS_SHARE:
            message_id, data = keyboard
            kind = "press"
            path = f"/sandbox/api/chats/{user_id}/press"
            body = {"from_id": user_id, "message_id": message_id, "callback_data": self.random.choice(data)}
        else:
            text = self._command()
            kind = text.split()[0]
            path = f"/sandbox/api/chats/{user_id}/messages"
            body = {"from_id": user_id, "text": text}
        self.waiting[user_id] = (time.perf_counter(), kind, record)
        try:
            async with self.session.post(path, json=body) as response:
                if response.status >= 400:
                    self.errors[f"{kind}: {response.status} {(await response.text())[:80]}"] += 1
                    self.waiting.pop(user_id, None)
                    self.ready_at[user_id] = time.perf_counter()
        except Exception as error:  # a bench: count it, go on
            self.errors[f"{kind}: {error!r}"] += 1
            self.waiting.pop(user_id, None)

    def idle_user(self, now):
        idle = [u for u in self.users if u not in self.waiting and self.ready_at[u] <= now]
        return self.random.choice(idle) if idle else None

    async def run(self, rate, seconds, warmup):
        """Poisson arrivals at `rate` for warmup + seconds; then the stragglers' replies (or their loss)."""
        self.latencies, self.lost, self.skipped = [], 0, 0
        arrivals = 0
        loop = asyncio.get_running_loop()
        tasks = set()
        began = time.perf_counter()
        next_at = began
        end = began + warmup + seconds
        while True:
            next_at += self.random.expovariate(rate)
            if next_at >= end:
                break
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            user = self.idle_user(time.perf_counter())
            if user is None:
                self.skipped += 1
                continue
            record = next_at - began >= warmup
            arrivals += 1
            task = loop.create_task(self.act(user, record))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        deadline = time.perf_counter() + REPLY_TIMEOUT
        while any(w[2] for w in self.waiting.values()) and time.perf_counter() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        for user_id, (_started, _kind, record) in list(self.waiting.items()):
            self.lost += bool(record)
            self.waiting.pop(user_id, None)
        for task in tasks:
            task.cancel()
        return arrivals

    async def register_all(self, concurrency=10):
        """Everyone says /start once (not measured), so the measured runs see known users."""
        queue = list(self.users)

        async def one_by_one():
            while queue:
                user_id = queue.pop()
                self.waiting[user_id] = (time.perf_counter(), "/start", False)
                async with self.session.post(
                    f"/sandbox/api/chats/{user_id}/messages", json={"from_id": user_id, "text": "/start"}
                ):
                    pass
                deadline = time.perf_counter() + REPLY_TIMEOUT
                while user_id in self.waiting and time.perf_counter() < deadline:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
                self.waiting.pop(user_id, None)

        await asyncio.gather(*(one_by_one() for _ in range(concurrency)))
        self.ready_at = dict.fromkeys(self.users, 0.0)


async def round_robin_proxy(port, backends):
    """A platform router in front of the web processes: each POST to the next backend, keep-alive to each."""
    import aiohttp
    from aiohttp import web

    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
    turn = 0

    async def forward(request):
        nonlocal turn
        backend = backends[turn % len(backends)]
        turn += 1
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", SECRET_HEADER.lower())}
        async with session.post(f"{backend}{request.path}", data=body, headers=headers) as answer:
            return web.Response(status=answer.status, body=await answer.read())

    app = web.Application()
    app.router.add_post("/{tail:.*}", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()

    async def close():
        await runner.cleanup()
        await session.close()

    return close


SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def wait_for_http(url, seconds=60):
    import aiohttp

    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() < deadline:
            try:
                async with session.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


async def bot_api(session, method, **params):
    async with session.post(f"/bot{TOKEN}/{method}", json=params) as response:
        return await response.json()


def report(mode, rate, seconds, load):
    values = [seconds for _kind, seconds in load.latencies]
    if not values:
        print(f"{mode:<8} {rate:>5g}/s  no replies measured; errors {dict(load.errors)}")
        return None
    p50, p95, p99 = (percentile(values, share) * 1000 for share in (0.5, 0.95, 0.99))
    handled = len(values) / seconds
    kinds = Counter(kind for kind, _ in load.latencies)
    print(
        f"{mode:<8} {rate:>5g}/s  {len(values):>5} replies ({handled:5.1f}/s)  "
        f"p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  p99 {p99:7.1f} ms  max {max(values) * 1000:7.1f} ms  "
        f"lost {load.lost}  skipped {load.skipped}"
    )
    print(f"         mix: {', '.join(f'{k} {n}' for k, n in kinds.most_common())}")
    if load.errors:
        print(f"         errors: {dict(load.errors.most_common(3))}")
    return p95


def summarise_profile(raw_file, top=25):
    """py-spy raw output (collapsed stacks with counts) → own and total samples per function."""
    own, total, samples = Counter(), Counter(), 0
    for line in Path(raw_file).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        count = int(count)
        frames = stack.split(";")
        if frames[0].startswith(("process", "thread")):
            frames = frames[1:]
        samples += count
        if not frames:
            continue
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    idle = sum(n for frame, n in own.items() if any(word in frame for word in ("select (", "_wait", "wait (")))
    print(f"\nprofile: {samples} samples ({idle} waiting in select/wait), hottest by total (incl. callees):")
    for frame, count in total.most_common(top):
        print(f"  {count:>6} {100 * count / max(1, samples):5.1f}%  {frame[:130]}")
    print("hottest by own samples:")
    for frame, count in own.most_common(top):
        print(f"  {count:>6} {100 * count / max(1, samples):5.1f}%  {frame[:130]}")


async def run_mode(mode, options, sandbox_port, users, var_dir, processes):
    import aiohttp

    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    resources = [f"Bench {n:03d}" for n in range(RESOURCES)]
    close_proxy = None
    # Each process with the Procfile's pool: the bot's 10, a web process's 10 to 50.
    env = child_env(sandbox_port, var_dir, **benchkit.procfile_pool_environment("bot" if mode == "polling" else "web"))
    async with aiohttp.ClientSession(base_url=sandbox_url) as api:
        if mode == "polling":
            await bot_api(api, "deleteWebhook")
            args = [PYTHON, "manage.py", "runbot"]
            if options.profile:
                args = [
                    str(Path(PYTHON).parent / "py-spy"),
                    "record",
                    "--threads",
                    "--nonblocking",
                    "--rate",
                    "100",
                    "--format",
                    "raw",
                    "-o",
                    str(options.profile / "bot.txt"),
                    "--",
                    *args,
                ]
            mine = [processes.start(args, env, "bot")]
        else:
            ports = [free_port() for _ in range(options.web_processes)]
            mine = []
            for n, port in enumerate(ports):
                mine.append(
                    processes.start(
                        [
                            PYTHON,
                            "-m",
                            "uvicorn",
                            "core.asgi:application",
                            "--host",
                            "127.0.0.1",
                            "--port",
                            str(port),
                            "--no-access-log",
                            "--log-level",
                            "warning",
                        ],
                        env,
                        f"web{n}",
                    )
                )
            for port in ports:
                await wait_for_http(f"http://127.0.0.1:{port}/health/")
            proxy_port = free_port()
            close_proxy = await round_robin_proxy(proxy_port, [f"http://127.0.0.1:{port}" for port in ports])
            answer = await bot_api(
                api,
                "setWebhook",
                url=f"http://127.0.0.1:{proxy_port}/telegram/webhook/",
                secret_token=SECRET,
                drop_pending_updates=True,
            )
            assert answer.get("ok"), answer
        load = Load(sandbox_url, users, resources, options.seed)
        await load.start()
        try:
            await load.register_all()
            figures = {}
            pids = [child.pid for child in mine]
            for rate in options.rates:
                cpu_before = sum(cpu_seconds(pid) for pid in pids)
                arrivals = await load.run(rate, options.seconds, options.warmup)
                cpu = sum(cpu_seconds(pid) for pid in pids) - cpu_before
                figures[rate] = report(mode, rate, options.seconds, load)
                profiler = " (py-spy's own CPU included)" if options.profile and mode == "polling" else ""
                print(
                    f"         bot CPU {cpu * 1000 / max(1, arrivals):.1f} ms per update, {len(pids)} process(es){profiler}"
                )
            return figures
        finally:
            await load.close()
            if close_proxy is not None:
                await bot_api(api, "deleteWebhook")
                await close_proxy()
            for child in mine:
                processes.stop(child)


async def main_async(options, var_dir, processes):
    import aiohttp

    sandbox_port = free_port()
    processes.start(
        [PYTHON, "-m", "sandbox", "--port", str(sandbox_port), "--token", TOKEN, "--no-flood-limits"],
        child_env(sandbox_port, var_dir),
        "sandbox",
    )
    await wait_for_http(f"http://127.0.0.1:{sandbox_port}/sandbox/api/bots")
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{sandbox_port}") as api:
        users = []
        for n in range(options.users):
            body = {"first_name": f"User {n}", "language_code": "ru" if n % 5 == 0 else "en", "started": True}
            async with api.post("/sandbox/api/users", json=body) as response:
                users.append((await response.json())["id"])
    sandbox = processes.children[0][0]
    results = {}
    for mode in options.modes:
        results[mode] = await run_mode(mode, options, sandbox_port, users, var_dir, processes)
    processes.stop(sandbox)
    print()
    for mode, figures in results.items():
        fast = [rate for rate, p95 in figures.items() if p95 is not None and p95 < 100]
        print(f"{mode}: highest measured rate with p95 < 100 ms: {max(fast) if fast else 'none'} updates/s")
    if options.profile and "polling" in options.modes:
        summarise_profile(Path(options.profile) / "bot.txt")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rates", default="10,20,40", help="updates/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds per rate")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds per rate not measured")
    parser.add_argument("--modes", default="polling,webhook")
    parser.add_argument("--web-processes", type=int, default=2)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--profile", help="directory: record the polling bot with py-spy")
    parser.add_argument("--keep-logs", action="store_true", help="keep the child processes' logs (printed path)")
    options = parser.parse_args()
    options.rates = [float(rate) for rate in options.rates.split(",")]
    options.modes = [mode.strip() for mode in options.modes.split(",") if mode.strip()]
    if options.profile:
        options.profile = Path(options.profile).resolve()
        options.profile.mkdir(parents=True, exist_ok=True)

    benchkit.recreate_database(DATABASE)
    setup_database()
    processes = Processes()
    var_dir = Path(tempfile.mkdtemp(prefix="bench-bot-open-"))
    print(
        f"{options.users} users, Poisson arrivals, {options.warmup:g} s warm-up + {options.seconds:g} s measured "
        f"per rate, sandbox flood limits off, PostgreSQL, BOT_DB_THREADS={os.environ.get('BOT_DB_THREADS', '8')}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    try:
        asyncio.run(main_async(options, var_dir, processes))
    finally:
        processes.stop()
        benchkit.drop_database(DATABASE)
        if options.keep_logs:
            print(f"logs: {var_dir}")
        else:
            for child in var_dir.rglob("*"):
                if child.is_file():
                    child.unlink()


if __name__ == "__main__":
    main()
