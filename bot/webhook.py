"""Webhook mode: Telegram POSTs updates to a Django endpoint.

The view accepts an update only with the right X-Telegram-Bot-Api-Secret-Token
(403 otherwise, and 403 for everything when no secret is configured), drops a
redelivered update_id (bot.state.update_first_seen: one INSERT that exactly
one process wins), and answers at once: the update is handed to this
process's Application, which runs on its own event loop in a background
thread, so the same code serves WSGI and ASGI servers alike.
"""

import asyncio
import hmac
import json
import logging
import threading

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from telegram import Update

from bot.app import build_application
from bot.state import update_first_seen

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name, not a secret)
MAX_BODY_BYTES = 1_000_000


class WebhookBot:
    """One Application per process, started on first use on a loop in a daemon thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self._loop = None
        self.application = None

    def submit(self, data):
        """Hand an update (parsed JSON) to the bot; returns the concurrent Future of its handling."""
        loop = self._ensure_running()
        update = Update.de_json(data, self.application.bot)
        return asyncio.run_coroutine_threadsafe(self.application.process_update(update), loop)

    def _ensure_running(self):
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="webhook-bot", daemon=True).start()
                application = build_application(with_updater=False, register_commands=False)
                asyncio.run_coroutine_threadsafe(application.initialize(), loop).result(timeout=30)
                self.application, self._loop = application, loop
            return self._loop

    def stop(self):
        with self._lock:
            if self._loop is None:
                return
            asyncio.run_coroutine_threadsafe(self.application.shutdown(), self._loop).result(timeout=30)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._loop, self.application = None, None


webhook_bot = WebhookBot()


def secret_is_valid(received):
    expected = settings.TELEGRAM_WEBHOOK_SECRET
    if not expected:
        logger.error("Refusing a webhook update: TELEGRAM_WEBHOOK_SECRET is not set, so no sender can be trusted")
        return False
    return hmac.compare_digest((received or "").encode(), expected.encode())


@csrf_exempt
@require_POST
def telegram_webhook(request):
    if not secret_is_valid(request.headers.get(SECRET_HEADER)):
        return HttpResponseForbidden()
    if len(request.body) > MAX_BODY_BYTES:
        return HttpResponseBadRequest()
    try:
        data = json.loads(request.body)
        update_id = int(data["update_id"])
    except (ValueError, KeyError, TypeError):
        return HttpResponseBadRequest()
    if update_first_seen(update_id):
        webhook_bot.submit(data)
    else:
        logger.info("Webhook update %s was already handled; ignoring the redelivery", update_id)
    return HttpResponse(status=200)
