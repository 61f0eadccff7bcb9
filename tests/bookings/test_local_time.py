"""rules.local_datetime: a local date and time in a zone → an aware datetime, refusing what DST makes unclear.

Europe/Berlin: 2030-03-31 skips 02:00–03:00; 2030-10-27 repeats 02:00–03:00.
"""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bookings import errors, rules

BERLIN, TOKYO = ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Tokyo")


def test_an_ordinary_local_time_is_that_instant_in_the_zone():
    moment = rules.local_datetime(date(2030, 3, 31), time(1, 0), zone=BERLIN)

    assert moment.astimezone(UTC) == datetime(2030, 3, 31, 0, 0, tzinfo=UTC)
    assert moment.tzinfo is BERLIN


def test_the_zone_defaults_to_the_sites(settings):
    settings.TIME_ZONE = "Asia/Tokyo"

    assert rules.local_datetime(date(2030, 6, 3), time(9, 0)).utcoffset().total_seconds() == 9 * 3600


@pytest.mark.parametrize(
    "day, clock",
    [
        (date(2030, 3, 31), time(2, 30)),  # skipped
        (date(2030, 3, 31), time(2, 0)),  # skipped
        (date(2030, 10, 27), time(2, 30)),  # repeated
        (date(2030, 10, 27), time(2, 0)),  # repeated
    ],
)
def test_a_local_time_that_a_clock_change_skips_or_repeats_is_refused_naming_the_zone(day, clock):
    with pytest.raises(errors.UnclearLocalTime) as raised:
        rules.local_datetime(day, clock, zone=BERLIN)

    assert raised.value.code == "unclear_local_time"
    assert "Europe/Berlin" in raised.value.message


@pytest.mark.parametrize("clock", [time(1, 59), time(3, 0)])
def test_the_times_around_the_spring_gap_are_accepted(clock):
    moment = rules.local_datetime(date(2030, 3, 31), clock, zone=BERLIN)

    assert moment.astimezone(BERLIN).time() == clock


def test_the_same_wall_time_in_a_zone_without_dst_is_accepted():
    assert rules.local_datetime(date(2030, 3, 31), time(2, 30), zone=TOKYO).hour == 2
