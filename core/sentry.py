"""Sentry, initialised once per process from SENTRY_DSN; nothing at all without one.

Called from CoreConfig.ready(), which every process runs once Django is set up:
web (ASGI), the bot (manage.py runbot), the Celery worker and beat (Celery's
Django fix-up calls django.setup()). Integrations: Django (request errors),
Celery (task errors; with monitor_beat_tasks every beat schedule entry, i.e.
each sweep, becomes a Sentry cron monitor), logging (ERROR records become
events, which is how errors in bot handlers arrive: python-telegram-bot logs
them).

Personal data stays out unless SENTRY_SEND_DEFAULT_PII is set: no local
variables in stack frames (they hold users, notes, chat texts), and
`scrub_event` drops request bodies, cookies, auth headers and user fields
other than the id.
"""

import logging
import sys

import sentry_sdk
from django.conf import settings
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.logging import LoggingIntegration

logger = logging.getLogger(__name__)

_SENSITIVE_HEADERS = {"cookie", "authorization", "x-telegram-bot-api-secret-token", "x-csrftoken"}
_initialised = False


def process_role(argv=None):
    """Which Slotbot process this is, for the `process` tag: web, worker, beat, bot or other."""
    words = " ".join(argv if argv is not None else sys.argv)
    for needle, role in (
        ("worker", "worker"),
        ("beat", "beat"),
        ("runbot", "bot"),
        ("uvicorn", "web"),
        ("runserver", "web"),
        ("asgi", "web"),
    ):
        if needle in words:
            return role
    return "other"


def init_sentry():
    """Initialise sentry-sdk if SENTRY_DSN is set and this process has not yet. Returns whether it did."""
    global _initialised
    if _initialised or not settings.SENTRY_DSN:
        return False
    # Personal data is opt-in. Left unset, the SDK collects none (sentry-sdk 2.7x
    # deprecates passing send_default_pii in favour of data_collection, and
    # derives the same safe default when neither is given).
    pii = {"send_default_pii": True} if settings.SENTRY_SEND_DEFAULT_PII else {}
    sentry_sdk.init(
        dsn=settings.SENTRY_DSN,
        environment=settings.SENTRY_ENVIRONMENT,
        release=settings.SENTRY_RELEASE or None,
        **pii,
        include_local_variables=settings.SENTRY_SEND_DEFAULT_PII,
        traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE,
        integrations=[
            DjangoIntegration(),
            CeleryIntegration(monitor_beat_tasks=True),
            LoggingIntegration(level=logging.INFO, event_level=logging.ERROR),
        ],
        before_send=scrub_event,
    )
    sentry_sdk.set_tag("process", process_role())
    _initialised = True
    logger.info("Sentry enabled (environment %s)", settings.SENTRY_ENVIRONMENT)
    return True


def scrub_event(event, hint):
    """Drop personal data from an event before it leaves the process (unless PII is allowed)."""
    if settings.SENTRY_SEND_DEFAULT_PII:
        return event
    request = event.get("request")
    if request:
        request.pop("data", None)
        request.pop("cookies", None)
        request.pop("query_string", None)
        headers = request.get("headers") or {}
        for name in list(headers):
            if name.lower() in _SENSITIVE_HEADERS:
                headers[name] = "[Filtered]"
    user = event.get("user")
    if user:
        event["user"] = {"id": user["id"]} if "id" in user else {}
    return event
