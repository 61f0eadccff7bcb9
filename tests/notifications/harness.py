"""Real processes for the notification suites: a Celery worker, a private redis-server.

Both are started with subprocess against the test database (pytest-django's
test_slotbot) and a Redis database of their own, so tests never touch the
shared Redis data on 6379 except their own DB number.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection

from core.celery import QUEUES
from core.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, *, timeout=30.0, interval=0.05, message="condition"):
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


def test_database_url():
    """The URL of the database pytest-django created (test_slotbot), for child processes."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(**overrides):
    """Environment for a child process of ours: the test database and the given settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    env.update(
        DJANGO_SETTINGS_MODULE="core.settings",
        DATABASE_URL=test_database_url(),
        SECRET_KEY="test-only-secret-key",
        TIME_ZONE=settings.TIME_ZONE,
        TELEGRAM_BOT_TOKEN=settings.TELEGRAM_BOT_TOKEN,
        PYTHONPATH=str(ROOT),
        # System checks are the test suite's business, not every worker start's.
        CELERY_SKIP_CHECKS="1",
    )
    env.update({key: str(value) for key, value in overrides.items() if value is not None})
    return env


class Worker:
    """`celery -A core worker` on every queue, as a subprocess with its own log file."""

    def __init__(self, env, *, concurrency=2):
        self.env = env
        self.concurrency = concurrency
        self.process = None
        self.log = Path(tempfile.mkstemp(prefix="slotbot-worker-", suffix=".log")[1])

    def start(self):
        self.log.write_text("")
        command = [
            CELERY,
            "-A",
            "core",
            "worker",
            "-Q",
            ",".join(QUEUES),
            "--pool=prefork",
            f"--concurrency={self.concurrency}",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            "--loglevel=INFO",
            f"--logfile={self.log}",
            f"--hostname=test-{os.getpid()}-{time.monotonic_ns()}@%h",
        ]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, start_new_session=True)
        wait_for(
            lambda: "ready." in self.log.read_text() or self.process.poll() is not None,
            timeout=60,
            message="the worker to start",
        )
        assert self.process.poll() is None, f"the worker exited:\n{self.log.read_text()[-3000:]}"
        return self

    def kill(self):
        """SIGKILL the whole worker (main process and its pool children) at once."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, chars=4000):
        return self.log.read_text()[-chars:]


class RedisServer:
    """A redis-server of the test's own, on a free port, that the test may stop and start."""

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="slotbot-redis-")
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = redis.Redis(port=self.port)
        wait_for(lambda: _pings(client), message="redis-server to start")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _pings(client):
    try:
        return client.ping()
    except redis.ConnectionError:
        return False


@contextmanager
def publishing_to(url):
    """Make this (test) process publish Celery tasks to `url`, as production does to REDIS_URL."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.broker_transport_options
    conf.broker_url = url
    conf.broker_transport_options = {"socket_connect_timeout": 1, "socket_timeout": 2}
    celery_app._after_fork()  # drop pooled connections to the old broker
    try:
        yield
    finally:
        conf.broker_url, conf.broker_transport_options = saved
        celery_app._after_fork()
