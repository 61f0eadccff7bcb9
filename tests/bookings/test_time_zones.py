"""Days seen from another zone: a user in Tokyo, the site (and its opening hours) in Berlin.

Clock: Monday 2030-06-03 08:00 in Berlin (UTC+2) = 15:00 in Tokyo (UTC+9).
The default resource is open 08:00–20:00 Berlin time daily = 15:00–03:00 Tokyo
time, so a Tokyo date holds the evening of one Berlin day and the morning of
the next. The selectors answer in the user's dates; the times are instants.
"""

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookings import selectors

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
TUESDAY = date(2030, 6, 4)


@pytest.fixture(autouse=True)
def site_in_berlin(settings):
    """Before `now` is made: the figures below are Berlin's (tests/settings.py's default, pinned)."""
    settings.TIME_ZONE = "Europe/Berlin"


def tokyo_times(starts):
    return [s.start.astimezone(TOKYO) for s in starts]


def half_hours(first_hour, last_hour):
    """Every :00 and :30 from first_hour:00 to last_hour:30."""
    return [time(h, m) for h in range(first_hour, last_hour + 1) for m in (0, 30)]


def test_a_tokyo_day_offers_the_free_starts_that_fall_on_it_from_two_berlin_days(resource, now):
    starts = tokyo_times(selectors.resource_free_starts(resource=resource, day=TUESDAY, zone=TOKYO, now=now))

    assert {s.date() for s in starts} == {TUESDAY}
    # Monday 17:00–19:30 in Berlin, then Tuesday 08:00–19:30 in Berlin (a booking lasts at least 30 min).
    assert [s.time() for s in starts] == half_hours(0, 2) + half_hours(15, 23)


def test_the_site_zone_is_the_default_day(resource, now):
    starts = selectors.resource_free_starts(resource=resource, day=TUESDAY, now=now)

    assert [s.start.time() for s in starts] == half_hours(8, 19)


def test_free_days_follow_the_users_dates(make_resource, now):
    mondays_only = make_resource(hours=((0, 1), (8, 20)))
    week = {"first": now.date(), "last": now.date() + timedelta(days=6), "now": now}

    in_berlin = selectors.resource_free_days(resource=mondays_only, **week)
    in_tokyo = selectors.resource_free_days(resource=mondays_only, zone=TOKYO, **week)

    assert in_berlin == {date(2030, 6, 3)}
    assert in_tokyo == {date(2030, 6, 3), TUESDAY}  # Berlin's Monday evening is Tuesday in Tokyo


def test_the_last_bookable_date_east_of_the_site_is_the_day_after_the_sites(resource, now):
    last_in_berlin = now.date() + timedelta(days=resource.max_advance_days)

    assert selectors.resource_bookable_dates(resource=resource, now=now) == (now.date(), last_in_berlin)
    assert selectors.resource_bookable_dates(resource=resource, zone=TOKYO, now=now) == (
        now.date(),
        last_in_berlin + timedelta(days=1),
    )
    last_starts = selectors.resource_free_starts(
        resource=resource, day=last_in_berlin + timedelta(days=1), zone=TOKYO, now=now
    )
    assert [s.time() for s in tokyo_times(last_starts)] == half_hours(0, 2)
