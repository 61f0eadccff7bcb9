"""Two series for the same slots at the same moment, each client on its own connection.

On PostgreSQL the resource's row lock and the exclusion constraint decide; on
SQLite IMMEDIATE transactions serialise the writers. Either way one series
gets the slots and the other hears series_conflict (all or nothing) or books
only what is left (skip conflicts); never an IntegrityError, never an overlap.
"""

import pytest

from bookings import errors, series
from bookings.models import Booking, BookingSeries

from .concurrency import run_together
from .conftest import assert_no_overlaps

pytestmark = pytest.mark.django_db(transaction=True)


def book_series(user, resource, at, now, *, mode, rrule="FREQ=WEEKLY;COUNT=3"):
    return lambda: series.series_create(
        user=user, resource=resource, start=at(14, days=1), end=at(15, days=1), rrule=rrule, mode=mode, now=now
    )


def test_two_all_or_nothing_series_of_the_same_slots_one_wins_the_other_books_nothing(resource, make_user, at, now):
    users = [make_user(), make_user()]
    outcomes = run_together([book_series(u, resource, at, now, mode=series.ALL_OR_NOTHING) for u in users])
    winners = [result for kind, result in outcomes if kind == "ok"]
    losers = [result for kind, result in outcomes if kind == "error"]
    assert len(winners) == 1, outcomes
    assert len(losers) == 1 and isinstance(losers[0], errors.SeriesConflict), losers
    assert {o.code for o in losers[0].occurrences} == {"slot_taken"}
    assert BookingSeries.objects.count() == 1
    assert Booking.objects.count() == 3
    assert_no_overlaps()


def test_a_skip_conflicts_series_racing_another_books_only_what_is_left(resource, make_user, at, now):
    first, second = make_user(), make_user()
    calls = [
        book_series(first, resource, at, now, mode=series.ALL_OR_NOTHING, rrule="FREQ=WEEKLY;INTERVAL=2;COUNT=2"),
        book_series(second, resource, at, now, mode=series.SKIP_CONFLICTS, rrule="FREQ=WEEKLY;COUNT=4"),
    ]
    outcomes = run_together(calls)
    # Either order ends with every week booked exactly once: the fortnightly series got weeks 1 and 3
    # and the other the rest, or the other got all four and the fortnightly one nothing.
    errors_seen = [result for kind, result in outcomes if kind == "error"]
    assert all(isinstance(e, errors.SeriesConflict) for e in errors_seen), errors_seen
    assert Booking.objects.count() == 4
    assert Booking.objects.values("start").distinct().count() == 4
    assert_no_overlaps()
