"""The waitlist under concurrency, with real concurrent clients (threads with their own connections),
on PostgreSQL and in the suite's SQLite pass: the holder taking an offer against the hold lapsing,
and two offer tasks at once. Conditional UPDATEs and the booking locks decide; exactly one side wins.
"""

from datetime import timedelta

import pytest

from bookings import errors, services, waitlist
from bookings.models import Booking, BookingStatus, WaitlistEntry, WaitlistState

from .concurrency import run_together
from .conftest import assert_no_overlaps

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_offer_task(monkeypatch):
    """The tests run the offering themselves; the on-commit task is not queued."""
    monkeypatch.setattr(waitlist, "enqueue_offer", lambda resource_id: True)


def _offer(resource, owner, waiter, start, end, now):
    booking = services.booking_create(user=owner, resource=resource, start=start, end=end, now=now)
    waitlist.waitlist_join(user=waiter, resource=resource, start=start, end=end, now=now)
    services.booking_cancel(booking=booking, by=owner, now=now)
    (offered,) = waitlist.waitlist_offer_resource(resource_id=resource.pk, now=now)
    return offered


def test_taking_an_offer_races_its_lapse_and_exactly_one_wins(resource, make_user, at, now):
    owner, waiter = make_user(), make_user()
    outcomes = set()
    for hour in (9, 11, 13, 15):
        offered = _offer(resource, owner, waiter, at(hour), at(hour + 1), now)
        deadline = offered.held_until
        results = run_together(
            [
                lambda offered=offered, deadline=deadline: waitlist.offer_take(
                    booking=Booking.objects.select_related("resource").get(pk=offered.pk),
                    by=waiter,
                    now=deadline - timedelta(seconds=1),
                ),
                lambda deadline=deadline, offered=offered: waitlist.waitlist_lapse_due(
                    now=deadline, booking_ids=[offered.pk]
                ),
            ]
        )
        (take_kind, take), (lapse_kind, lapsed) = results
        assert lapse_kind == "ok", lapsed
        status = Booking.objects.get(pk=offered.pk).status
        entry = WaitlistEntry.objects.get(booking_id=offered.pk)
        if take_kind == "ok":
            assert (lapsed, status, entry.state) == (0, BookingStatus.CONFIRMED, WaitlistState.TAKEN)
            outcomes.add("taken")
        else:
            assert isinstance(take, errors.OfferLapsed), take
            assert (lapsed, status, entry.state) == (1, BookingStatus.EXPIRED, WaitlistState.LAPSED)
            outcomes.add("lapsed")
    assert outcomes  # each round had exactly one winner, whichever it was
    assert_no_overlaps()


def test_two_offer_tasks_at_once_make_one_offer(resource, make_user, at, now):
    owner, first, second = make_user(), make_user(), make_user()
    booking = services.booking_create(user=owner, resource=resource, start=at(10), end=at(11), now=now)
    for waiter in (first, second):
        waitlist.waitlist_join(user=waiter, resource=resource, start=at(10), end=at(11), now=now)
    services.booking_cancel(booking=booking, by=owner, now=now)
    results = run_together([lambda: waitlist.waitlist_offer_resource(resource_id=resource.pk, now=now)] * 3)
    assert all(kind == "ok" for kind, _ in results), results
    made = [b for _, offers in results for b in offers]
    assert [b.user_id for b in made] == [first.pk]
    assert Booking.objects.filter(status=BookingStatus.HELD).count() == 1
    assert WaitlistEntry.objects.get(user=second).state == WaitlistState.WAITING
    assert_no_overlaps()
