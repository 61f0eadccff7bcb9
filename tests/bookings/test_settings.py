"""Settings the booking domain relies on: the SQLite write lock, and start-up errors naming the variable.

Start-up is checked for real: a fresh interpreter imports the settings
with a crafted environment, and must stop with a message naming the
variable (never a traceback about something else).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from core import env

REPO = Path(__file__).resolve().parents[2]
OUR_VARIABLES = ("DEBUG", "SECRET_KEY", "DATABASE_URL", "TIME_ZONE", "DJANGO_SETTINGS_MODULE", "TELEGRAM_")


def start_django(tmp_path, **variables):
    """Set Django up in a fresh interpreter with only `variables` of ours set; returns the result."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(OUR_VARIABLES)}
    environment.update(DJANGO_SETTINGS_MODULE="core.settings", SLOTBOT_VAR_DIR=str(tmp_path), **variables)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_sqlite_takes_the_write_lock_when_a_transaction_begins():
    config = env.env_database("NO_SUCH_VARIABLE", "sqlite:////tmp/slotbot.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


@pytest.mark.django_db
def test_the_running_sqlite_connection_uses_immediate_transactions():
    if connection.vendor != "sqlite":
        pytest.skip("runs in the SQLite pass of the suite")
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_postgresql_url_gives_the_postgresql_backend(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://slotbot:secret@db.example:5432/slotbot")
    config = env.env_database("DATABASE_URL", "sqlite:///unused")
    assert (config["ENGINE"], config["NAME"], config["HOST"], config["PORT"]) == (
        "django.db.backends.postgresql",
        "slotbot",
        "db.example",
        5432,
    )
    assert "transaction_mode" not in config.get("OPTIONS", {})


def test_default_settings_start(tmp_path):
    result = start_django(tmp_path, DEBUG="1")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"DEBUG": "1", "DATABASE_URL": "mysql://root@localhost/slotbot"}, "DATABASE_URL"),
        ({"DEBUG": "1", "TIME_ZONE": "Mars/Olympus_Mons"}, "TIME_ZONE"),
        ({"DEBUG": "0"}, "SECRET_KEY"),
    ],
    ids=["bad-debug", "bad-database-url", "bad-time-zone", "missing-secret-key"],
)
def test_bad_configuration_stops_start_up_naming_the_variable(tmp_path, variables, named):
    result = start_django(tmp_path, **variables)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith(f"django.core.exceptions.ImproperlyConfigured: {named}:"), result.stderr


@pytest.mark.parametrize(
    ("parse", "value", "named"),
    [
        (lambda: env.env_bool("SLOTBOT_X"), "perhaps", "SLOTBOT_X: expected a boolean"),
        (lambda: env.env_int("SLOTBOT_X"), "ten", "SLOTBOT_X: expected a whole number"),
        (lambda: env.env_int("SLOTBOT_X", minimum=1), "0", "SLOTBOT_X: must be at least 1"),
        (lambda: env.env_float("SLOTBOT_X", 0.0, minimum=0, maximum=1), "2", "SLOTBOT_X: must be between"),
        (lambda: env.env_url("SLOTBOT_X", schemes=("redis",)), "http://x", "SLOTBOT_X: expected a URL"),
        (lambda: env.env_time_zone("SLOTBOT_X", "UTC"), "Europe/Nowhere", "SLOTBOT_X: unknown time zone"),
        (lambda: env.env_database("SLOTBOT_X", "sqlite:///x"), "redis://localhost", "SLOTBOT_X: expected postgres"),
    ],
)
def test_each_parser_names_the_variable_in_its_error(monkeypatch, parse, value, named):
    monkeypatch.setenv("SLOTBOT_X", value)
    with pytest.raises(ImproperlyConfigured, match=f"^{named}"):
        parse()


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("Yes", True), ("off", False), ("", False)])
def test_booleans_read_the_usual_spellings(monkeypatch, value, expected):
    monkeypatch.setenv("SLOTBOT_X", value)
    assert env.env_bool("SLOTBOT_X", default=not expected) is expected
