"""Celery's Django fix-up, except that a prefork child keeps its database connection pool between tasks.

Celery 5.7's fix-up (celery.fixups.django) closes Django's psycopg pool at
every task's start and end in a prefork child, so every task opened a new
PostgreSQL connection (a server process forked, authentication, time zone)
and started the pool's threads again: in a peak of deliveries that was one
connection per message, the largest part of a message's cost. Upstream issue
celery/celery#10554 (fix proposed in #10555, not released).

Here a child closes the pool it inherited from the parent once, when it
starts (as Celery does), and then only hands its connection back to the pool
at task boundaries (Django's `close()` does that, and the pool drops a broken
connection). The pool is closed when the child exits. Everything else is
Celery's own fix-up.
"""

import os

from celery import signals
from celery.fixups.django import DjangoFixup, DjangoWorkerFixup


class PoolKeepingWorkerFixup(DjangoWorkerFixup):
    _pool_is_ours = False  # True in a prefork child once it dropped what the parent had

    def on_worker_process_init(self, **kwargs):
        super().on_worker_process_init(**kwargs)  # closes the inherited connections and pool
        self._pool_is_ours = True
        signals.worker_process_shutdown.connect(self.on_worker_process_shutdown, weak=False)

    def on_worker_process_shutdown(self, **kwargs):
        for connection in self._db.connections.all():
            close_pool = getattr(connection, "close_pool", None)  # PostgreSQL with a pool only
            if close_pool is not None:
                try:
                    close_pool()
                except (KeyError, *self.interface_errors, self.DatabaseError):
                    pass

    def _is_prefork(self):
        # Celery closes the pool at task boundaries only when this is True; a child's own pool stays.
        return super()._is_prefork() and not self._pool_is_ours


class PoolKeepingFixup(DjangoFixup):
    """Celery's DjangoFixup whose worker part is PoolKeepingWorkerFixup (made when the worker starts)."""

    @property
    def worker_fixup(self):
        if self._worker_fixup is None:
            self._worker_fixup = PoolKeepingWorkerFixup(self.app)
        return self._worker_fixup

    @worker_fixup.setter
    def worker_fixup(self, value):
        self._worker_fixup = value


def fixup(app, env="DJANGO_SETTINGS_MODULE"):
    """The app's Django fix-up (Celery(fixups=...)), installed as celery.fixups.django.fixup installs its own."""
    if not os.environ.get(env) or "django" in app.loader_cls.lower():
        return None
    return PoolKeepingFixup(app).install()
