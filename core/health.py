"""GET /health/: are the database and the Celery broker reachable?"""

import logging

from django.db import connection
from django.http import JsonResponse

from core.celery import check_broker

logger = logging.getLogger(__name__)


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


# Name → a check that raises when that dependency is unreachable.
CHECKS = {"database": check_database, "broker": check_broker}


def health(request):
    report = {}
    healthy = True
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # a health check reports any failure, it never raises
            logger.warning("health check %s failed: %s", name, exc)
            report[name] = {"ok": False, "error": exc.__class__.__name__}
            healthy = False
        else:
            report[name] = {"ok": True}
    return JsonResponse({"ok": healthy, "checks": report}, status=200 if healthy else 503)
