"""Fixtures for the notification suites: the sandbox, a Redis DB, a real Celery worker.

`stack` gives a running sandbox (Telegram), a Redis database of the module's
own (broker + shared rate limiter), a Celery worker subprocess on every queue
against the test database, and this process publishing to the same broker.
Tests using it need `@pytest.mark.django_db(transaction=True)`, so that the
worker sees what the test commits.
"""

import zlib
from dataclasses import dataclass
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from bookings import services as bookings_services
from core import ratelimit
from core.celery import app as celery_app
from notifications import sender
from sandbox.testing import run_sandbox
from tests.notifications.harness import Worker, process_env, publishing_to, wait_for

TOKEN = "123456:slotbot-test-token"


@dataclass
class Stack:
    sandbox: object
    admin_group: object
    redis_url: str
    worker: Worker
    env: dict

    def send_task(self, name):
        celery_app.send_task(name)

    def chat_messages(self, chat_id):
        return self.sandbox.bot_messages(chat_id)

    def wait_for_messages(self, chat_id, count, *, timeout=30.0):
        """Wait until the chat holds at least `count` bot messages; return them all."""

        def enough():
            messages = self.chat_messages(chat_id)
            return messages if len(messages) >= count else None

        return wait_for(
            enough,
            timeout=timeout,
            message=f"{count} message(s) in chat {chat_id}; worker log:\n{self.worker.tail()}",
        )


def redis_db_for(name):
    """A Redis database number of this module's own (1–15; 0 is the shared default)."""
    return 1 + zlib.crc32(name.encode()) % 15


@pytest.fixture(scope="module")
def sandbox():
    with run_sandbox(tokens=[TOKEN]) as client:
        yield client


@pytest.fixture(scope="module")
def module_stack(request, sandbox, django_db_setup, django_db_blocker):
    redis_url = f"redis://127.0.0.1:6379/{redis_db_for(request.module.__name__)}"
    redis.Redis.from_url(redis_url).flushdb()
    admin = sandbox.user("Ada Admin", username="ada", started=True)
    group = sandbox.group("Slotbot admins", members=[admin])
    with django_db_blocker.unblock():
        env = process_env(
            REDIS_URL=redis_url,
            TELEGRAM_BASE_URL=sandbox.base_url,
            TELEGRAM_ADMIN_CHAT_ID=group.id,
            ADMIN_DIGEST_SECONDS=1,
            NOTIFICATION_MAX_ATTEMPTS=12,
        )
    worker = Worker(env).start()
    try:
        with publishing_to(redis_url):
            yield Stack(sandbox, group, redis_url, worker, env)
    finally:
        worker.stop()


@pytest.fixture
def stack(module_stack, settings):
    """The module's stack, with this process's settings pointing where the worker's do."""
    settings.REDIS_URL = module_stack.redis_url
    settings.TELEGRAM_BASE_URL = module_stack.sandbox.base_url
    settings.TELEGRAM_ADMIN_CHAT_ID = module_stack.admin_group.id
    settings.ADMIN_DIGEST_SECONDS = 1
    ratelimit.get_rate_limiter.cache_clear()
    sender._sender = None
    module_stack.sandbox.clear_faults()
    yield module_stack
    module_stack.sandbox.clear_faults()
    ratelimit.get_rate_limiter.cache_clear()
    sender._sender = None


@pytest.fixture
def telegram_user(sandbox, make_user):
    """make(name): a sandbox user who started the bot, and the Slotbot user linked to them."""

    def make(name, **fields):
        account = sandbox.user(
            name, username=name.lower(), started=True, language_code=fields.get("language_code") or "en"
        )
        fields.setdefault("first_name", name)
        user = make_user(telegram_id=account.id, telegram_chat_id=account.id, **fields)
        return account, user

    return make


@pytest.fixture
def demo_resource(make_resource):
    """make(**rules): a resource open around the clock on a 5-minute grid, as the demo's."""

    def make(**fields):
        fields.setdefault("slot_minutes", 5)
        fields.setdefault("min_duration_minutes", 5)
        return make_resource(hours=None, **fields)

    return make


def grid_now(minutes=5):
    """The current time rounded down to the 5-minute grid."""
    now = timezone.now().replace(second=0, microsecond=0)
    return now - timedelta(minutes=now.minute % minutes)


@pytest.fixture
def book():
    """book(user, resource, start, minutes=5): a booking made a minute before `start`."""

    def make(user, resource, start, minutes=5, **fields):
        return bookings_services.booking_create(
            user=user,
            resource=resource,
            start=start,
            end=start + timedelta(minutes=minutes),
            now=start - timedelta(minutes=1),
            **fields,
        )

    return make
