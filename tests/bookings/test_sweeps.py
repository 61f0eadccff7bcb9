"""The scheduled transitions: start due, complete ended, expire no-shows and unapproved.

Each sweep is idempotent, writes one history row per booking it moves (by
the system, with a reason), and on PostgreSQL two sweeps at once move each
booking exactly once.
"""

import pytest

from bookings import errors, services
from bookings.models import Booking, BookingEvent, BookingStatus
from bookings.signals import bookings_transitioned

from .concurrency import run_together
from .conftest import assert_no_overlaps, history

pytestmark = pytest.mark.django_db


def statuses(*bookings):
    return [Booking.objects.get(pk=b.pk).status for b in bookings]


def test_start_due_activates_confirmed_bookings_without_check_in_at_their_start(book, make_resource, resource, at):
    due = book(resource, at(10), at(11))
    later = book(resource, at(11), at(12))
    needs_check_in = book(make_resource(requires_check_in=True), at(10), at(11))
    pending = book(make_resource(requires_approval=True), at(10), at(11))

    assert services.bookings_start_due(now=at(10)) == 1
    assert statuses(due, later, needs_check_in, pending) == [
        BookingStatus.ACTIVE,
        BookingStatus.CONFIRMED,
        BookingStatus.CONFIRMED,
        BookingStatus.PENDING,
    ]
    assert history(due)[-1] == (BookingStatus.CONFIRMED, BookingStatus.ACTIVE, None, "start time reached")


def test_complete_ended_completes_active_bookings_at_their_end(book, resource, at):
    ended = book(resource, at(10), at(11))
    running = book(resource, at(11), at(13))
    services.bookings_start_due(now=at(11))
    assert services.bookings_complete_ended(now=at(11)) == 1
    assert statuses(ended, running) == [BookingStatus.COMPLETED, BookingStatus.ACTIVE]
    assert history(ended)[-1] == (BookingStatus.ACTIVE, BookingStatus.COMPLETED, None, "end time reached")


def test_expire_no_shows_expires_after_start_plus_grace_and_frees_the_rest(book, make_resource, at, user, other_user):
    resource = make_resource(requires_check_in=True, check_in_grace_minutes=15)
    no_show = book(resource, at(10), at(12))
    came = book(resource, at(12), at(13))
    services.booking_check_in(booking=came, by=user, now=at(11, 50))

    assert services.bookings_expire_no_shows(now=at(10, 14)) == 0
    assert services.bookings_expire_no_shows(now=at(10, 15)) == 1
    assert statuses(no_show, came) == [BookingStatus.EXPIRED, BookingStatus.ACTIVE]
    assert history(no_show)[-1] == (BookingStatus.CONFIRMED, BookingStatus.EXPIRED, None, "no check-in")

    taken_over = book(resource, at(10, 30), at(12), by=other_user, when=at(10, 16))
    assert taken_over.status == BookingStatus.CONFIRMED
    assert_no_overlaps()


def test_no_show_blocks_its_slot_until_expired(book, make_resource, at, other_user):
    resource = make_resource(requires_check_in=True)
    book(resource, at(10), at(12))
    with pytest.raises(errors.SlotTaken):
        book(resource, at(10, 30), at(12), by=other_user, when=at(10, 16))


def test_expire_unapproved_expires_pending_bookings_at_their_start(book, make_resource, at):
    resource = make_resource(requires_approval=True)
    due = book(resource, at(10), at(11))
    later = book(resource, at(12), at(13))
    assert services.bookings_expire_unapproved(now=at(10)) == 1
    assert statuses(due, later) == [BookingStatus.EXPIRED, BookingStatus.PENDING]
    assert history(due)[-1] == (BookingStatus.PENDING, BookingStatus.EXPIRED, None, "not approved before the start")


SWEEPS = [
    services.bookings_start_due,
    services.bookings_complete_ended,
    services.bookings_expire_no_shows,
    services.bookings_expire_unapproved,
]


def make_one_of_each_kind(book, make_resource, at):
    plain = make_resource()
    check_in = make_resource(requires_check_in=True)
    approval = make_resource(requires_approval=True)
    for hour in (9, 10, 11):
        book(plain, at(hour), at(hour + 1))
        book(check_in, at(hour), at(hour + 1))
        book(approval, at(hour), at(hour + 1))


def test_sweeps_are_idempotent(book, make_resource, at):
    make_one_of_each_kind(book, make_resource, at)
    first = [sweep(now=at(11, 30)) for sweep in SWEEPS]
    snapshot = sorted(Booking.objects.values_list("id", "status", "updated_at"))
    events = BookingEvent.objects.count()

    assert sum(first) > 0
    assert [sweep(now=at(11, 30)) for sweep in SWEEPS] == [0, 0, 0, 0]
    assert sorted(Booking.objects.values_list("id", "status", "updated_at")) == snapshot
    assert BookingEvent.objects.count() == events


def test_sweep_moves_more_bookings_than_one_batch(book, make_resource, at, monkeypatch):
    monkeypatch.setattr(services, "SWEEP_BATCH", 2)
    resources = [make_resource() for _ in range(5)]
    for resource in resources:
        book(resource, at(10), at(11))
    assert services.bookings_start_due(now=at(10)) == 5
    assert set(Booking.objects.values_list("status", flat=True)) == {BookingStatus.ACTIVE}


def test_sweep_sends_one_signal_per_batch_with_the_moved_bookings(book, resource, at):
    calls = []
    bookings_transitioned.connect(lambda sender, **kw: calls.append(kw), dispatch_uid="sweep-signal", weak=False)
    try:
        first = book(resource, at(9), at(10))
        second = book(resource, at(10), at(11))
        calls.clear()
        services.bookings_start_due(now=at(10))
    finally:
        bookings_transitioned.disconnect(dispatch_uid="sweep-signal")
    assert len(calls) == 1
    assert sorted(b.pk for b in calls[0]["bookings"]) == [first.pk, second.pk]
    assert (calls[0]["from_status"], calls[0]["to_status"], calls[0]["by"]) == (
        BookingStatus.CONFIRMED,
        BookingStatus.ACTIVE,
        None,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_move_each_booking_exactly_once(make_resource, make_user, at, now, monkeypatch):
    monkeypatch.setattr(services, "SWEEP_BATCH", 5)  # many small batches, so the sweeps interleave
    user = make_user()
    resources = [make_resource() for _ in range(10)]
    bookings = [
        services.booking_create(user=user, resource=r, start=at(h), end=at(h + 1), now=now)
        for r in resources
        for h in (8, 9, 10, 11, 12)
    ]

    outcomes = run_together([lambda: services.bookings_start_due(now=at(12))] * 4)

    assert [kind for kind, _ in outcomes] == ["ok"] * 4
    assert sum(moved for _, moved in outcomes) == len(bookings)
    started = BookingEvent.objects.filter(from_status=BookingStatus.CONFIRMED, to_status=BookingStatus.ACTIVE)
    assert started.count() == len(bookings)
    assert sorted(started.values_list("booking_id", flat=True)) == sorted(b.pk for b in bookings)
