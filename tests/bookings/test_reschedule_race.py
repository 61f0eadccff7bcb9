"""Extend and move under concurrency, on PostgreSQL and on SQLite: the losers hear slot_taken.

Threads with their own connections (concurrency.run_together) extend, move and
book into the same time at once. The locks (owner, then resource) and the
overlap check decide; on PostgreSQL an UPDATE the exclusion constraint refuses
is slot_taken too. Either way no live bookings overlap afterwards.
"""

import pytest

from bookings import availability, errors, services
from bookings.models import Booking, BookingStatus
from bookings.reschedule import booking_extend, booking_move

from .concurrency import run_together
from .conftest import assert_no_overlaps

pytestmark = pytest.mark.django_db(transaction=True)


def outcomes_of(results):
    winners = [result for kind, result in results if kind == "ok"]
    losers = [result for kind, result in results if kind == "error"]
    return winners, losers


def test_an_extension_and_a_new_booking_of_the_time_after_it_get_one_winner(resource, user, make_user, at, now):
    booking = services.booking_create(user=user, resource=resource, start=at(10), end=at(11), now=now)
    others = [make_user() for _ in range(5)]
    calls = [lambda: booking_extend(booking=booking, by=user, minutes=60, now=now)]
    calls += [
        lambda who=who: services.booking_create(user=who, resource=resource, start=at(11), end=at(12), now=now)
        for who in others
    ]
    winners, losers = outcomes_of(run_together(calls))
    assert len(winners) == 1, losers
    assert all(isinstance(e, errors.SlotTaken) and e.code == "slot_taken" for e in losers), losers
    assert_no_overlaps()


def test_moves_of_two_bookings_into_the_same_time_get_one_winner(resource, user, other_user, at, now):
    mine = services.booking_create(user=user, resource=resource, start=at(10), end=at(11), now=now)
    theirs = services.booking_create(user=other_user, resource=resource, start=at(12), end=at(13), now=now)
    calls = [
        lambda: booking_move(booking=mine, by=user, start=at(15), end=at(16), now=now),
        lambda: booking_move(booking=theirs, by=other_user, start=at(15, 30), end=at(16, 30), now=now),
    ]
    winners, losers = outcomes_of(run_together(calls))
    assert len(winners) == 1 and [e.code for e in losers] == ["slot_taken"]
    assert_no_overlaps()
    # The loser still holds its old time.
    loser = theirs if winners[0].pk == mine.pk else mine
    fresh = Booking.objects.get(pk=loser.pk)
    assert (fresh.start, fresh.end, fresh.status) == (loser.start, loser.end, BookingStatus.CONFIRMED)


def test_two_presses_of_one_extend_button_extend_once(resource, user, at, now):
    booking = services.booking_create(user=user, resource=resource, start=at(10), end=at(11), now=now)
    calls = [
        lambda: booking_extend(
            booking=Booking.objects.select_related("resource", "user").get(pk=booking.pk), by=user, minutes=30, now=now
        )
        for _ in range(4)
    ]
    winners, losers = outcomes_of(run_together(calls))
    assert len(winners) == 1 and {e.code for e in losers} == {"booking_changed"}, losers
    assert Booking.objects.get(pk=booking.pk).end == at(11, 30)


@pytest.mark.postgres
def test_an_extension_the_constraint_refuses_is_slot_taken(resource, user, other_user, at, now, monkeypatch):
    """Without the service's pre-check the UPDATE meets the exclusion constraint: slot_taken, not a 500."""
    booking = services.booking_create(user=user, resource=resource, start=at(10), end=at(11), now=now)
    services.booking_create(user=other_user, resource=resource, start=at(11), end=at(12), now=now)
    monkeypatch.setattr(availability, "live_bookings_meeting", lambda **kwargs: Booking.objects.none())
    with pytest.raises(errors.SlotTaken):
        booking_extend(booking=booking, by=user, minutes=30, now=now)
    assert Booking.objects.get(pk=booking.pk).end == at(11)
    assert_no_overlaps()


@pytest.mark.postgres
def test_a_move_the_constraint_refuses_is_slot_taken(resource, user, other_user, at, now, monkeypatch):
    booking = services.booking_create(user=user, resource=resource, start=at(10), end=at(11), now=now)
    services.booking_create(user=other_user, resource=resource, start=at(14), end=at(15), now=now)
    monkeypatch.setattr(availability, "live_bookings_meeting", lambda **kwargs: Booking.objects.none())
    with pytest.raises(errors.SlotTaken):
        booking_move(booking=booking, by=user, start=at(14, 30), end=at(15, 30), now=now)
    assert Booking.objects.get(pk=booking.pk).start == at(10)
