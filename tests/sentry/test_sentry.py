"""Sentry for real: the SDK sends to a local HTTP endpoint, and errors arrive tagged, without personal data.

Three sources: a Celery task in a real worker process, a web request, a bot handler.
"""

import gzip
import json
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk
from django.test import override_settings
from django.urls import path

from core import sentry
from core.celery import app as celery_app
from tests.notifications.harness import Worker, process_env, publishing_to, wait_for

SECRET_COOKIE = "sessionid=very-secret-session"


class SentryInbox:
    """A local stand-in for Sentry's ingest: collects the events of POSTed envelopes."""

    def __init__(self):
        self.events = []
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                elif encoding == "br":
                    import brotli

                    body = brotli.decompress(body)
                inbox._read_envelope(body)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.dsn = f"http://public@127.0.0.1:{self.server.server_address[1]}/1"

    def _read_envelope(self, body):
        lines = body.split(b"\n")
        position = 1
        while position + 1 < len(lines) + 1 and position < len(lines):
            header = json.loads(lines[position] or b"{}")
            payload = lines[position + 1] if position + 1 < len(lines) else b""
            if header.get("type") == "event":
                self.events.append(json.loads(payload))
            position += 2

    def wait_for_event(self, matching, timeout=30):
        return wait_for(
            lambda: next((e for e in self.events if matching(e)), None),
            timeout=timeout,
            message=f"a Sentry event; got {[self.describe(e) for e in self.events]}",
        )

    @staticmethod
    def describe(event):
        values = (event.get("exception") or {}).get("values") or [{}]
        return values[-1].get("type"), values[-1].get("value"), event.get("tags")

    def close(self):
        self.server.shutdown()


def exception_type(event):
    return ((event.get("exception") or {}).get("values") or [{}])[-1].get("type")


@pytest.fixture
def inbox():
    inbox = SentryInbox()
    yield inbox
    inbox.close()


@pytest.fixture
def sentry_on(inbox, settings):
    """Sentry initialised in this process, pointing at the inbox; switched off afterwards."""
    settings.SENTRY_DSN = inbox.dsn
    settings.SENTRY_ENVIRONMENT = "test-env"
    settings.SENTRY_RELEASE = "slotbot@test"
    sentry._initialised = False
    assert sentry.init_sentry()
    yield inbox
    sentry_sdk.flush()
    sentry_sdk.init()  # no DSN: sends nothing
    sentry._initialised = False


def test_nothing_is_initialised_without_a_dsn(settings):
    settings.SENTRY_DSN = ""
    sentry._initialised = False
    assert sentry.init_sentry() is False


def test_scrubbing_drops_bodies_cookies_and_user_details(settings):
    settings.SENTRY_SEND_DEFAULT_PII = False
    event = {
        "request": {"data": {"note": "x"}, "cookies": {"a": "b"}, "headers": {"Cookie": "a=b", "Accept": "*/*"}},
        "user": {"id": "7", "username": "alice", "ip_address": "1.2.3.4"},
    }
    scrubbed = sentry.scrub_event(event, {})
    assert scrubbed["user"] == {"id": "7"}
    assert "data" not in scrubbed["request"] and "cookies" not in scrubbed["request"]
    assert scrubbed["request"]["headers"] == {"Cookie": "[Filtered]", "Accept": "*/*"}


# --- A web request ---------------------------------------------------------------------


def broken_view(request):
    raise ZeroDivisionError("broken view")


urlpatterns = [path("broken/", broken_view)]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__, DEBUG_PROPAGATE_EXCEPTIONS=False)
def test_exception_in_a_web_request_arrives_tagged_and_without_personal_data(sentry_on, client):
    client.raise_request_exception = False
    client.get("/broken/?email=alice@example.com", HTTP_COOKIE=SECRET_COOKIE, HTTP_AUTHORIZATION="Token abc")
    sentry_sdk.flush()

    event = sentry_on.wait_for_event(lambda e: exception_type(e) == "ZeroDivisionError")
    assert event["environment"] == "test-env" and event["release"] == "slotbot@test"
    assert event["transaction"].endswith("broken_view") or "/broken/" in event["transaction"]
    assert "process" in event["tags"]
    raw = json.dumps(event)
    assert "very-secret-session" not in raw and "alice@example.com" not in raw and "Token abc" not in raw


# --- A Celery task in a real worker ----------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_exception_in_a_celery_task_arrives_tagged_with_the_task(inbox):
    redis_url = "redis://127.0.0.1:6379/14"
    env = process_env(REDIS_URL=redis_url, SENTRY_DSN=inbox.dsn, SENTRY_ENVIRONMENT="test-env")
    worker = Worker(env, concurrency=1).start()
    try:
        with publishing_to(redis_url):
            celery_app.send_task("notifications.tasks.deliver", args=["not-a-number"])
        try:
            event = inbox.wait_for_event(lambda e: exception_type(e) == "ValueError", timeout=20)
        except AssertionError as error:
            raise AssertionError(f"{error}\nworker log:\n{worker.tail()}") from None
    finally:
        worker.stop()
    assert event["tags"]["process"] == "worker"
    assert event["environment"] == "test-env"
    assert event["tags"].get("celery_task_id")


# --- A bot handler ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_exception_in_a_bot_handler_arrives_with_the_update_and_no_message_text(sentry_on):
    from telegram.ext import CommandHandler

    from bot.app import build_application
    from bot.sync import close_db_threads
    from sandbox.testing import run_sandbox

    token = "123456:slotbot-test-token"

    async def boom(update, context):
        raise LookupError("handler failed")

    with run_sandbox(tokens=[token]) as sandbox:
        application = build_application(
            token=token, base_url=sandbox.base_url, rate_limit=False, register_commands=False
        )
        application.add_handler(CommandHandler("boom", boom), group=-2)  # before the flood check
        alice = sandbox.user("Alice", username="alice_private", started=True)
        try:
            with sandbox.polling(application):
                alice.send("/boom my secret words")
                event = sentry_on.wait_for_event(lambda e: exception_type(e) == "LookupError")
        finally:
            close_db_threads()  # the bot's database threads keep connections to the test database
    assert event["tags"].get("telegram.update_id")
    raw = json.dumps(event)
    assert "my secret words" not in raw and "alice_private" not in raw
