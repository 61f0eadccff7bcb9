"""A database that is gone: the web answers 503 "unavailable" promptly and recovers on its own.

The real ASGI app (uvicorn, as the Procfile runs it) reaches PostgreSQL
through a proxy the test controls (tests/core/db_proxy.py): cut (reset
connections), black-hole (accepted, nothing forwarded: packets dropped), then
restored. The client's timeout is the bound: before the timeouts and the
503 mapping, a black-holed database held each request for over 40 s and a
reset one answered 500 with an HTML page.
"""

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from tests.core.db_proxy import DatabaseProxy

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Far below the 40 s hang, far above the few seconds the settings below allow.
CLIENT_TIMEOUT = 20
# Test-sized versions of the production settings (README "Configuration").
FAST_DATABASE_ENV = {
    "DATABASE_CONNECT_TIMEOUT": "1",
    "DATABASE_STATEMENT_TIMEOUT_MS": "1500",
    "DATABASE_POOL_TIMEOUT": "2",
    "DATABASE_POOL_MIN_SIZE": "1",
    "DATABASE_POOL_MAX_SIZE": "4",
}


@pytest.fixture
def proxy():
    settings = connection.settings_dict
    with DatabaseProxy((settings["HOST"] or "127.0.0.1", int(settings["PORT"] or 5432))) as running:
        yield running


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def web(proxy, tmp_path):
    """uvicorn core.asgi on a free port, its DATABASE_URL pointing at the proxy."""
    settings = connection.settings_dict
    port = _free_port()
    env = {
        **os.environ,
        **FAST_DATABASE_ENV,
        "DJANGO_SETTINGS_MODULE": "core.settings",
        "DEBUG": "0",
        "SECRET_KEY": "test-only-secret-key",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SLOTBOT_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"postgres://{settings['USER']}@127.0.0.1:{proxy.port}/{settings['NAME']}",
        "REDIS_URL": "",
        "SENTRY_DSN": "",
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "core.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                httpx.get(f"{base_url}/health/", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail(f"uvicorn did not start:\n{process.stdout.read() if process.poll() is not None else ''}")
        with httpx.Client(base_url=base_url, timeout=CLIENT_TIMEOUT) as client:
            yield client
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def token(user):
    return Token.objects.create(user=user).key


def _assert_unavailable(response):
    assert response.status_code == 503, response.text[:500]
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["code"] == "unavailable"
    assert response.json()["detail"]
    assert int(response.headers["Retry-After"]) > 0


def _until_ok(client, path, headers, attempts=40):
    """The first answer that is not 503, polling while the pool reconnects."""
    for _ in range(attempts):
        response = client.get(path, headers=headers)
        if response.status_code != 503:
            return response
        time.sleep(0.5)
    return response


def test_api_answers_503_json_while_the_database_is_cut_or_silent_and_recovers_without_restart(web, proxy, token):
    headers = {"Authorization": f"Token {token}"}
    assert web.get("/api/resources/", headers=headers).status_code == 200

    proxy.cut()
    _assert_unavailable(web.get("/api/resources/", headers=headers))

    proxy.black_hole()
    _assert_unavailable(web.get("/api/resources/", headers=headers))

    proxy.restore()
    assert _until_ok(web, "/api/resources/", headers).status_code == 200


def test_non_api_views_answer_503_json_while_the_database_is_silent(web, proxy):
    """The admin and the webhook are Django views outside DRF: core.middleware answers for them."""
    proxy.black_hole()
    # A session cookie makes the admin look its session up in the database.
    _assert_unavailable(web.get("/admin/", headers={"Cookie": "sessionid=" + "a" * 32}))
    response = web.get("/health/")
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["ok"] is False
    proxy.restore()
    assert _until_ok(web, "/health/", {}).json()["checks"]["database"] == {"ok": True}
