"""`python manage.py dev`: the whole stack in one command, on the embedded default.

Starts, each as a child process with its output prefixed by its name:
the sandbox (a local Telegram), web (uvicorn core.asgi), the bot
(manage.py runbot), a Celery worker on every queue, and beat. Prints the
sandbox's chat page. Ctrl-C (or SIGTERM) stops every child and waits for it.

On the sandbox it also sets up the demo admin (`set_up_demo_admin`): a
sandbox group "Slotbot admins" with the bot in it, a sandbox user "Demo
Admin" in that group, and a staff Django user linked to that Telegram
account; TELEGRAM_ADMIN_CHAT_ID of the children points at the group. So one
person can be a user (private chats on the page), the admin (Approve/Reject
in the group, acting as Demo Admin) and a developer (web, admin, API) at once.

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
from dataclasses import dataclass
from pathlib import Path

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.celery import QUEUES
from core.telegram_urls import telegram_file_url

STOP_TIMEOUT = 10

# The demo admin. A fixed Telegram id (the sandbox numbers its own from
# 100000001), so the staff user stays linked to the same account across
# restarts of a sandbox that forgets its users.
DEMO_ADMIN_GROUP_TITLE = "Slotbot admins"
DEMO_ADMIN_TELEGRAM_ID = 90_000_001
DEMO_ADMIN_USERNAME = "demo_admin"
DEMO_ADMIN_FIRST_NAME = "Demo Admin"


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
        demo_admin = None
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
            (
                "web",
                # Django has no ASGI lifespan handler: saying so spares uvicorn's "unsupported" notice.
                [python, "-m", "uvicorn", "core.asgi:application", "--host", host, "--port", str(web_port)]
                + ["--lifespan", "off"],
            ),
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
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            for name, command in programs:
                children.start(name, command, env)
                if name == "sandbox":
                    _wait_for_port(host, sandbox_port, children)
                    if "TELEGRAM_ADMIN_CHAT_ID" not in os.environ:
                        demo_admin = set_up_demo_admin(sandbox_url=f"http://{host}:{sandbox_port}/")
                        env["TELEGRAM_ADMIN_CHAT_ID"] = str(demo_admin.chat_id)
            self.stdout.write(self.style.SUCCESS(self._banner(host, web_port, sandbox_port, no_sandbox)))
            if demo_admin is not None:
                self.stdout.write(demo_admin.instructions(f"http://{host}:{sandbox_port}/"))
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
        if os.geteuid() == 0:
            # Development containers run everything as root, so Celery warns that
            # the worker has superuser rights. It only warns (it refuses outright
            # only for pickle, and Slotbot accepts JSON alone, so C_FORCE_ROOT is
            # not needed); production runs the Procfile as an unprivileged user,
            # where the warning still speaks.
            warning = "ignore:You're running the worker with superuser privileges"
            env["PYTHONWARNINGS"] = ",".join(filter(None, [env.get("PYTHONWARNINGS"), warning]))
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


@dataclass(frozen=True)
class DemoAdmin:
    chat_id: int
    telegram_id: int
    username: str

    def instructions(self, page_url):
        return "\n".join(
            [
                "  Be the admin too:",
                f'    On {page_url} open the group "{DEMO_ADMIN_GROUP_TITLE}" and act as "{DEMO_ADMIN_FIRST_NAME}".',
                "    Book a resource that needs approval (e.g. the camera) as any user in a private chat:",
                "    the request arrives in the group with Approve / Reject buttons, as in production.",
                f"    Demo Admin is the staff user '{self.username}' (Telegram id {self.telegram_id}),",
                f"    and the children run with TELEGRAM_ADMIN_CHAT_ID={self.chat_id}.",
                "",
            ]
        )


def set_up_demo_admin(*, sandbox_url):
    """The admin group, its admin and the staff user, created once however often this runs.

    Talks to the sandbox over its user API (sandbox/README.md), as any client
    does; the product never imports the sandbox.
    """
    api = httpx.Client(base_url=sandbox_url.rstrip("/") + "/sandbox/api", timeout=10)
    with api:
        users = _sandbox(api.get("/users"))
        if not any(user["id"] == DEMO_ADMIN_TELEGRAM_ID for user in users):
            _sandbox(
                api.post(
                    "/users",
                    json={
                        "id": DEMO_ADMIN_TELEGRAM_ID,
                        "first_name": DEMO_ADMIN_FIRST_NAME,
                        "username": DEMO_ADMIN_USERNAME,
                        "language_code": "en",
                        # As if they had pressed Start: the bot may write to them privately.
                        "started": True,
                    },
                )
            )
        group = _admin_group(_sandbox(api.get("/chats")))
        if group is None:
            group = _sandbox(
                api.post(
                    "/groups",
                    json={"title": DEMO_ADMIN_GROUP_TITLE, "members": [DEMO_ADMIN_TELEGRAM_ID], "type": "group"},
                )
            )
        members = {member["id"] for member in group["members"] if member["status"] not in ("left", "kicked")}
        chat_id = group["chat"]["id"]
        if DEMO_ADMIN_TELEGRAM_ID not in members:
            _sandbox(api.post(f"/groups/{chat_id}/members", json={"user_id": DEMO_ADMIN_TELEGRAM_ID}))
        for bot in _sandbox(api.get("/bots")):
            if bot["id"] not in members:
                _sandbox(api.post(f"/groups/{chat_id}/members", json={"bot": bot["id"]}))
    user = _demo_staff_user()
    return DemoAdmin(chat_id=chat_id, telegram_id=DEMO_ADMIN_TELEGRAM_ID, username=user.username)


def _admin_group(chats):
    return next(
        (
            chat
            for chat in chats
            if chat["chat"]["type"] in ("group", "supergroup") and chat["chat"].get("title") == DEMO_ADMIN_GROUP_TITLE
        ),
        None,
    )


def _demo_staff_user():
    """The staff user of the demo admin's Telegram account (found by that id, else by name)."""
    User = get_user_model()
    user = (
        User.objects.filter(telegram_id=DEMO_ADMIN_TELEGRAM_ID).first()
        or User.objects.filter(username=DEMO_ADMIN_USERNAME).first()
        or User(username=DEMO_ADMIN_USERNAME, first_name=DEMO_ADMIN_FIRST_NAME)
    )
    if user.pk is None:
        user.set_unusable_password()  # an admin in the bot; for /admin/ use createsuperuser
    user.telegram_id = DEMO_ADMIN_TELEGRAM_ID
    user.telegram_chat_id = DEMO_ADMIN_TELEGRAM_ID  # a private chat's id is the user's id
    user.telegram_username = DEMO_ADMIN_USERNAME
    user.is_staff = True
    user.is_active = True
    user.save()
    return user


def _sandbox(response):
    if response.status_code >= 400:
        raise CommandError(f"sandbox: {response.request.method} {response.request.url.path}: {response.text}")
    return response.json()


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
        # The sandbox last: a bot that outlives its Telegram logs a traceback on the way out.
        others = [process for name, process in self.processes.items() if name != "sandbox"]
        self._stop(others)
        self._stop([process for name, process in self.processes.items() if name == "sandbox"])

    def _stop(self, processes):
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for process in processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _interrupt(signum, frame):
    """SIGTERM stops us as Ctrl-C does: the children are stopped once, in order, by `finally`."""
    raise KeyboardInterrupt


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
