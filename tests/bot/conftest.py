"""Fixtures for the bot suite: the real Slotbot Application polling a real sandbox.

The sandbox runs in a background thread, the bot in another (its own event
loop); tests act as Telegram users over the sandbox's HTTP user API. The bot
reaches the database from its own threads, so every test here uses
`django_db(transaction=True)`.
"""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from bookings import rules
from bot.app import build_application
from bot.flood import FloodGuard
from bot.sync import close_db_threads
from sandbox.testing import run_sandbox

TOKEN = "123456:slotbot-test-token"
GENEROUS = FloodGuard(limit=10_000, window_seconds=1)


@pytest.fixture
def sandbox():
    """A sandbox without flood limits (tests here are not about Telegram's limits)."""
    with run_sandbox(tokens=[TOKEN], flood_limits=False) as client:
        yield client


@pytest.fixture
def errors_seen():
    """Errors that reached the bot's error handler during the test."""
    return []


@pytest.fixture
def make_bot(sandbox, errors_seen, settings):
    """make_bot(**build_application options) → an Application polling the sandbox for the test."""
    running = []

    def start(**options):
        options.setdefault("rate_limit", False)
        options.setdefault("flood_guard", GENEROUS)
        application = build_application(token=TOKEN, base_url=sandbox.base_url, **options)

        async def count_error(update, context):
            errors_seen.append(context.error)

        application.add_error_handler(count_error)
        polling = sandbox.polling(application, poll_timeout=0.5)
        polling.__enter__()
        running.append(polling)
        return application

    yield start
    for polling in running:
        polling.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def own_cache(settings):
    """A fresh in-memory cache per test: flood counts and admin memberships of the
    sandbox's users (whose ids repeat from test to test) never carry over, and no
    test touches a Redis that REDIS_URL may name."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"bot-test-{uuid.uuid4()}"}
    }


@pytest.fixture(autouse=True)
def close_bot_connections():
    """The bot reaches the ORM from its database threads, each with its own connection.
    The Application closes them on shutdown; this closes them after every test as well
    (a test may stop no Application), so the test database can be flushed and dropped."""
    yield
    close_db_threads()


@pytest.fixture
def bot(make_bot):
    return make_bot()


@pytest.fixture
def alice(sandbox):
    return sandbox.user("Alice", username="alice", language_code="en")


@pytest.fixture
def bob(sandbox):
    return sandbox.user("Bob", username="bob", language_code="en")


@pytest.fixture
def open_resource(make_resource):
    """A resource open around the clock, so bookings a few hours from the real now are valid."""
    return make_resource(name="Projector", category="AV", hours=None, location="Room 101")


@pytest.fixture
def slot():
    """slot(hours_ahead, length_hours=1): a grid-aligned (start, end) from the real clock."""

    def make(hours_ahead=3, length_hours=1):
        start = timezone.now().astimezone(rules.site_zone()).replace(minute=0, second=0, microsecond=0)
        start += timedelta(hours=hours_ahead)
        return start, start + timedelta(hours=length_hours)

    return make


@pytest.fixture
def boss(sandbox):
    return sandbox.user("Boss", username="boss")


@pytest.fixture
def admin_group(sandbox, boss, settings, make_user):
    """The admin chat with Boss in it; Boss is a staff user linked to Telegram."""
    group = sandbox.group("Slotbot admins", members=[boss])
    settings.TELEGRAM_ADMIN_CHAT_ID = group.id
    make_user(username="boss", is_staff=True, telegram_id=boss.id, telegram_username="boss")
    return group
