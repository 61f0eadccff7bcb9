"""`manage.py dev` makes a newcomer a user, the admin and a developer at once, quietly."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from django.contrib.auth import get_user_model

from core.management.commands.dev import (
    DEMO_ADMIN_GROUP_TITLE,
    DEMO_ADMIN_TELEGRAM_ID,
    set_up_demo_admin,
)
from sandbox.testing import run_sandbox

TOKEN = "123456:slotbot-test-token"


@pytest.mark.django_db
def test_demo_admin_set_up_twice_leaves_one_group_with_the_bot_one_admin_and_one_staff_user():
    with run_sandbox(tokens=[TOKEN], flood_limits=False) as sandbox:
        first = set_up_demo_admin(sandbox_url=sandbox.url)
        second = set_up_demo_admin(sandbox_url=sandbox.url)

        assert first == second
        groups = [
            chat for chat in sandbox._get("/sandbox/api/chats") if chat["chat"].get("title") == DEMO_ADMIN_GROUP_TITLE
        ]
        assert len(groups) == 1
        assert groups[0]["chat"]["id"] == first.chat_id
        members = [member["id"] for member in groups[0]["members"]]
        bot_id = int(TOKEN.split(":")[0])
        assert sorted(members) == sorted([DEMO_ADMIN_TELEGRAM_ID, bot_id])
        admins = [user for user in sandbox._get("/sandbox/api/users") if user["id"] == DEMO_ADMIN_TELEGRAM_ID]
        assert len(admins) == 1

    staff = get_user_model().objects.filter(telegram_id=DEMO_ADMIN_TELEGRAM_ID)
    assert staff.count() == 1
    assert staff.get().is_staff
    instructions = first.instructions("http://127.0.0.1:8081/")
    assert instructions.count(DEMO_ADMIN_GROUP_TITLE) == 1
    assert "Approve" in instructions and str(first.chat_id) in instructions


@pytest.mark.django_db
def test_demo_admin_set_up_repairs_a_group_the_admin_or_the_bot_left():
    with run_sandbox(tokens=[TOKEN], flood_limits=False) as sandbox:
        admin = set_up_demo_admin(sandbox_url=sandbox.url)
        bot_id = int(TOKEN.split(":")[0])
        sandbox.http.delete(f"/sandbox/api/groups/{admin.chat_id}/members/{bot_id}")
        sandbox.http.delete(f"/sandbox/api/groups/{admin.chat_id}/members/{DEMO_ADMIN_TELEGRAM_ID}")
        again = set_up_demo_admin(sandbox_url=sandbox.url)
        group = next(c for c in sandbox._get("/sandbox/api/chats") if c["chat"]["id"] == again.chat_id)
        statuses = {member["id"]: member["status"] for member in group["members"]}
        assert statuses.get(bot_id) not in (None, "left", "kicked")
        assert statuses.get(DEMO_ADMIN_TELEGRAM_ID) not in (None, "left", "kicked")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# What each child prints once it is up (the worker's queue list, beat's banner, the bot's start).
READY_MARKS = ("[queues]", "Configuration ->", "Application started")
NOISE = ("superuser privileges", "No hostname was supplied", "lifespan", "Traceback")


def test_dev_starts_everything_with_the_admin_instructions_and_without_start_up_noise(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "TELEGRAM_", "REDIS_", "SENTRY_", "DJANGO_SETTINGS"))
    }
    env.update(
        DEBUG="1",
        SLOTBOT_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path}/dev.sqlite3",
        PYTHONUNBUFFERED="1",
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], env=env, check=True, timeout=180)
    process = subprocess.Popen(
        [*manage, "dev", "--web-port", str(_free_port()), "--sandbox-port", str(_free_port())],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            if all(any(mark in line for line in list(lines)) for mark in READY_MARKS):
                break
            time.sleep(0.2)
        time.sleep(2)  # a warning printed just after a banner still arrives
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(5)
    output = "".join(lines)
    for mark in READY_MARKS:
        assert mark in output, output
    assert output.count(f'open the group "{DEMO_ADMIN_GROUP_TITLE}"') == 1, output
    for noise in NOISE:
        assert noise not in output, output
