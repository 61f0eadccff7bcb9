"""`python manage.py dev`: the whole stack in one command, on the embedded default.

Starts, each as a child process with its output prefixed by its name:
the sandbox (a local Telegram), web (uvicorn core.asgi), the bot
(manage.py runbot), a Celery worker on every queue, and beat. Prints the
sandbox's chat page. Ctrl-C (or SIGTERM) stops every child and waits for it.

With no variables set this runs on SQLite and the filesystem broker under
var/, with DEBUG on and the sweeps every few seconds. The Makefile's
`make run` migrates, compiles messages and seeds the demo first.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.celery import QUEUES
from core.telegram_urls import telegram_file_url

STOP_TIMEOUT = 10


class Command(BaseCommand):
    help = "Run sandbox, web, bot, Celery worker and beat together (development)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--web-port", type=int, default=8000)
        parser.add_argument("--sandbox-port", type=int, default=8081)
        parser.add_argument("--no-sandbox", action="store_true", help="talk to TELEGRAM_BASE_URL instead")
        parser.add_argument(
            "--celery-log-level",
            default="WARNING",
            help="worker and beat log level (INFO shows every sweep, every few seconds)",
        )

    def handle(self, *args, host, web_port, sandbox_port, no_sandbox, celery_log_level, **options):
        env = self._child_env(host, sandbox_port, no_sandbox)
        python = sys.executable
        celery = str(Path(python).with_name("celery"))
        programs = []
        if not no_sandbox:
            programs.append(
                (
                    "sandbox",
                    [
                        python,
                        "-m",
                        "sandbox",
                        "--host",
                        host,
                        "--port",
                        str(sandbox_port),
                        "--token",
                        env["TELEGRAM_BOT_TOKEN"],
                    ],
                )
            )
        programs += [
            ("web", [python, "-m", "uvicorn", "core.asgi:application", "--host", host, "--port", str(web_port)]),
            (
                "worker",
                [
                    celery,
                    "-A",
                    "core",
                    "worker",
                    "-Q",
                    ",".join(QUEUES),
                    "--pool=solo",
                    f"--loglevel={celery_log_level}",
                ],
            ),
            (
                "beat",
                [
                    celery,
                    "-A",
                    "core",
                    "beat",
                    f"--loglevel={celery_log_level}",
                    f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}",
                ],
            ),
            ("bot", [python, "manage.py", "runbot"]),
        ]
        Path(settings.CELERY_BEAT_SCHEDULE_FILENAME).parent.mkdir(parents=True, exist_ok=True)
        children = Children(self.stdout)
        signal.signal(signal.SIGTERM, lambda *_: children.stop_all())
        try:
            for name, command in programs:
                children.start(name, command, env)
                if name == "sandbox":
                    _wait_for_port(host, sandbox_port, children)
            self.stdout.write(self.style.SUCCESS(self._banner(host, web_port, sandbox_port, no_sandbox)))
            children.wait_until_one_exits()
        except KeyboardInterrupt:
            pass
        finally:
            children.stop_all()

    def _child_env(self, host, sandbox_port, no_sandbox):
        env = dict(os.environ)
        env.setdefault("DEBUG", "1")
        env.setdefault("PYTHONUNBUFFERED", "1")
        env.setdefault("TELEGRAM_BOT_TOKEN", settings.TELEGRAM_BOT_TOKEN or "123456:slotbot-sandbox-development-token")
        if not no_sandbox:
            env["TELEGRAM_BASE_URL"] = f"http://{host}:{sandbox_port}/bot"
            env["TELEGRAM_BASE_FILE_URL"] = telegram_file_url(env["TELEGRAM_BASE_URL"])
        return env

    def _banner(self, host, web_port, sandbox_port, no_sandbox):
        lines = ["", "Slotbot is running. Ctrl-C stops everything."]
        if not no_sandbox:
            lines.append(f"  Chat with the bot:  http://{host}:{sandbox_port}/   <- open this")
        lines += [f"  Web, admin, API:    http://{host}:{web_port}/admin/  http://{host}:{web_port}/api/", ""]
        return "\n".join(lines)


class Children:
    """The child processes, each in its own process group, output prefixed by name."""

    def __init__(self, stdout):
        self.stdout = stdout
        self.processes = {}
        self._lock = threading.Lock()

    def start(self, name, command, env):
        process = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,  # Ctrl-C reaches us only; we stop the children in order
        )
        self.processes[name] = process
        threading.Thread(target=self._relay, args=(name, process), daemon=True).start()

    def _relay(self, name, process):
        for line in process.stdout:
            with self._lock:
                self.stdout.write(f"{name:>7} | {line.rstrip()}")

    def wait_until_one_exits(self):
        while True:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise CommandError(f"{name} exited with status {process.returncode}; stopping the rest")
            time.sleep(0.5)

    def stop_all(self):
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _wait_for_port(host, port, children, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex((host, port)) == 0:
                return
        if any(p.poll() is not None for p in children.processes.values()):
            raise CommandError("the sandbox did not start (see its output above)")
        time.sleep(0.1)
    raise CommandError(f"nothing listens on {host}:{port} after {timeout} s")
