"""DATABASE_* settings: the pool and timeouts on PostgreSQL, SQLite untouched, bad values named."""

import json
import os
import subprocess
import sys

import pytest

READ = (
    "import json; from django.conf import settings; d = settings.DATABASES['default'];"
    "o = dict(d.get('OPTIONS', {})); p = o.get('pool');"
    "p and p.update(connection_class=p['connection_class'].call_timeout);"
    "print(json.dumps({'CONN_MAX_AGE': d.get('CONN_MAX_AGE'), 'OPTIONS': o}))"
)


def _settings(**env):
    base = {key: value for key, value in os.environ.items() if not key.startswith("DATABASE_")}
    return subprocess.run(
        [sys.executable, "-c", READ],
        env={**base, "DJANGO_SETTINGS_MODULE": "core.settings", "SECRET_KEY": "x", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_postgres_gets_the_pool_and_timeouts_from_the_environment():
    result = _settings(
        DATABASE_URL="postgres://u@db.example:5432/slotbot",
        DATABASE_POOL_MIN_SIZE="2",
        DATABASE_POOL_MAX_SIZE="7",
        DATABASE_POOL_TIMEOUT="3.5",
        DATABASE_CONNECT_TIMEOUT="4",
        DATABASE_STATEMENT_TIMEOUT_MS="8000",
    )
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert config["CONN_MAX_AGE"] == 0  # Django's pool refuses persistent connections
    options = config["OPTIONS"]
    assert (options["pool"]["min_size"], options["pool"]["max_size"], options["pool"]["timeout"]) == (2, 7, 3.5)
    assert options["connect_timeout"] == 4
    assert options["options"] == "-c statement_timeout=8000"
    assert options["pool"]["connection_class"] == 9.0  # the client's deadline: statement timeout + grace
    assert options["keepalives"] == 1


def test_statement_timeout_zero_turns_both_limits_off():
    result = _settings(DATABASE_URL="postgres://u@db.example/slotbot", DATABASE_STATEMENT_TIMEOUT_MS="0")
    options = json.loads(result.stdout)["OPTIONS"]
    assert "options" not in options
    assert options["pool"]["connection_class"] is None


def test_sqlite_keeps_its_own_settings_and_no_pool(tmp_path):
    result = _settings(DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["OPTIONS"] == {"transaction_mode": "IMMEDIATE", "timeout": 20}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_POOL_MAX_SIZE": "ten"}, "DATABASE_POOL_MAX_SIZE: expected a whole number, got 'ten'"),
        ({"DATABASE_POOL_MIN_SIZE": "5", "DATABASE_POOL_MAX_SIZE": "2"}, "DATABASE_POOL_MAX_SIZE: must be at least"),
        ({"DATABASE_POOL_TIMEOUT": "0"}, "DATABASE_POOL_TIMEOUT: must be between"),
        ({"DATABASE_CONNECT_TIMEOUT": "0"}, "DATABASE_CONNECT_TIMEOUT: must be at least 1"),
        ({"DATABASE_STATEMENT_TIMEOUT_MS": "-1"}, "DATABASE_STATEMENT_TIMEOUT_MS: must be at least 0"),
    ],
)
def test_a_bad_database_setting_stops_start_up_naming_the_variable(env, message):
    result = _settings(DATABASE_URL="postgres://u@db.example/slotbot", **env)
    assert result.returncode != 0
    assert message in result.stderr
