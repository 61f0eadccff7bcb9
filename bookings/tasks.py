"""Celery tasks for the scheduled status sweeps: thin wrappers over bookings.services.

Beat runs each one every SWEEP_INTERVAL_SECONDS, each on its own queue
(core.celery routes them). They are idempotent (every transition is a
conditional UPDATE and rows another sweep holds are skipped), so acks_late
with reject_on_worker_lost is safe: a sweep lost with its worker runs again.
"""

import logging

from celery import shared_task

from bookings import services, waitlist
from core import tasknames

logger = logging.getLogger(__name__)

SWEEP_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


def _run(name, sweep):
    changed = sweep()
    if changed:
        logger.info("%s: %d booking(s) moved", name, changed)
    return changed


@shared_task(name=tasknames.START_DUE, **SWEEP_OPTIONS)
def start_due():
    return _run("start_due", services.bookings_start_due)


@shared_task(name=tasknames.COMPLETE_ENDED, **SWEEP_OPTIONS)
def complete_ended():
    return _run("complete_ended", services.bookings_complete_ended)


@shared_task(name=tasknames.EXPIRE_NO_SHOWS, **SWEEP_OPTIONS)
def expire_no_shows():
    return _run("expire_no_shows", services.bookings_expire_no_shows)


@shared_task(name=tasknames.EXPIRE_UNAPPROVED, **SWEEP_OPTIONS)
def expire_unapproved():
    return _run("expire_unapproved", services.bookings_expire_unapproved)


@shared_task(name=tasknames.MARK_OVERDUE, **SWEEP_OPTIONS)
def mark_overdue():
    return _run("mark_overdue", services.bookings_mark_overdue)


@shared_task(name=tasknames.WAITLIST_OFFER, **SWEEP_OPTIONS)
def waitlist_offer(resource_id):
    """Queued on commit of a change that freed time on the resource (bookings.waitlist)."""
    offers = waitlist.waitlist_offer_resource(resource_id=resource_id)
    if offers:
        logger.info("waitlist_offer: %d offer(s) on resource %s", len(offers), resource_id)
    return len(offers)


@shared_task(name=tasknames.WAITLIST_SWEEP, **SWEEP_OPTIONS)
def waitlist_sweep():
    done = waitlist.waitlist_sweep()
    if any(done.values()):
        logger.info("waitlist_sweep: %s", done)
    return done
