"""UnavailableMiddleware: a database that cannot be reached is a 503 JSON answer, not a 500 page.

The REST API's exception handler (bookings/api/errors.py) answers the same
for DRF views; this covers the other views (admin, the Telegram webhook);
/health/ reports the database itself. The body is the API's error shape,
{"code": "unavailable", "detail": ...}, with Retry-After, so a client or a
load balancer retries, and Telegram re-delivers a webhook update later.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.utils.deprecation import MiddlewareMixin
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# What a database that is down, unreachable or out of connections raises
# through Django (psycopg's and the pool's errors are wrapped into these).
DATABASE_ERRORS = (OperationalError, InterfaceError)
# Seconds a client is asked to wait: about the time a restart or fail-over takes.
RETRY_AFTER_SECONDS = 5


def unavailable_body():
    return {"code": "unavailable", "detail": _("The service is temporarily unavailable. Please try again shortly.")}


def unavailable_headers():
    return {"Retry-After": str(RETRY_AFTER_SECONDS)}


class UnavailableMiddleware(MiddlewareMixin):
    """Turns a view's database error into 503 "unavailable" (sync and async views alike)."""

    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_ERRORS):
            return None
        logger.warning("database unavailable for %s %s: %s", request.method, request.path, exception)
        return JsonResponse(unavailable_body(), status=503, headers=unavailable_headers())
