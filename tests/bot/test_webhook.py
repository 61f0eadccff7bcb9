"""Webhook mode: the secret header is required, and a redelivered update is handled once."""

import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from bot.webhook import SECRET_HEADER, webhook_bot
from tests.notifications.harness import wait_for

from .conftest import TOKEN

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/telegram/webhook/"


@pytest.fixture
def webhook(sandbox, settings):
    """The webhook endpoint, with this process's bot pointed at the sandbox."""
    settings.TELEGRAM_BOT_TOKEN = TOKEN
    settings.TELEGRAM_BASE_URL = sandbox.base_url
    settings.TELEGRAM_BASE_FILE_URL = sandbox.base_file_url
    settings.TELEGRAM_RATE_LIMIT = False
    settings.TELEGRAM_WEBHOOK_SECRET = "right-secret"
    yield Client()
    webhook_bot.stop()


@pytest.fixture
def walter(sandbox):
    """A user who has started the bot (updates for him are made by hand here, not by the sandbox)."""
    return sandbox.user("Walter", started=True)


def start_update(user, update_id):
    person = {"id": user.id, "is_bot": False, "first_name": user.first_name, "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "from": person,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


def post(client, update, secret):
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return client.post(URL, update, content_type="application/json", headers=headers)


@pytest.mark.parametrize("secret", [None, "", "wrong-secret"])
def test_an_update_without_the_right_secret_is_forbidden(webhook, walter, secret):
    assert post(webhook, start_update(walter, 1), secret).status_code == 403
    walter.expect_no_message(timeout=0.3)


def test_with_no_secret_configured_every_update_is_forbidden(webhook, walter, settings):
    settings.TELEGRAM_WEBHOOK_SECRET = ""
    assert post(webhook, start_update(walter, 1), "").status_code == 403


def test_a_redelivered_update_is_handled_once(webhook, walter):
    update = start_update(walter, 42)
    assert post(webhook, update, "right-secret").status_code == 200
    walter.expect_message(containing="Hello, Walter")
    assert post(webhook, update, "right-secret").status_code == 200  # Telegram retried
    walter.expect_no_message(timeout=0.5)
    assert len(walter.bot_messages()) == 1


def member_update(user, update_id, old, new):
    """my_chat_member as Telegram sends it when the user blocks ("kicked") or unblocks ("member") the bot."""
    person = {"id": user.id, "is_bot": False, "first_name": user.first_name}
    bot = {"id": int(TOKEN.split(":")[0]), "is_bot": True, "first_name": "Slotbot", "username": "slotbot"}
    return {
        "update_id": update_id,
        "my_chat_member": {
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "from": person,
            "date": int(time.time()),
            "old_chat_member": chat_member(bot, old),
            "new_chat_member": chat_member(bot, new),
        },
    }


def chat_member(user, status):
    return {"user": user, "status": status, **({"until_date": 0} if status == "kicked" else {})}


def test_a_block_and_an_unblock_by_webhook_change_reachability(webhook, walter):
    assert post(webhook, start_update(walter, 50), "right-secret").status_code == 200
    walter.expect_message(containing="Hello, Walter")
    user = get_user_model().objects.get(telegram_id=walter.id)

    assert post(webhook, member_update(walter, 51, "member", "kicked"), "right-secret").status_code == 200
    wait_for(lambda: not get_user_model().objects.get(pk=user.pk).is_reachable, timeout=10, message="the block")
    assert post(webhook, member_update(walter, 52, "kicked", "member"), "right-secret").status_code == 200
    wait_for(lambda: get_user_model().objects.get(pk=user.pk).is_reachable, timeout=10, message="the unblock")
