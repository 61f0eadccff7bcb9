"""One way to write a booking's time: day labels, clock times and spans, localised, in a given zone."""

import zoneinfo
from datetime import date, datetime

import pytest
from django.utils import translation

from bookings import formats

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(("language", "expected"), [("en", "Wed 2 Dec"), ("ru", "Ср 2 дек")])
def test_a_day_is_labelled_with_weekday_and_month_names_in_the_reader_s_language(language, expected):
    with translation.override(language):
        assert formats.day_label(date(2026, 12, 2)) == expected


@pytest.mark.parametrize(("language", "expected"), [("en", "Wed 2 Dec, 10:15–10:20"), ("ru", "Ср 2 дек, 10:15–10:20")])
def test_a_span_within_one_day_names_the_day_once(language, expected):
    start, end = datetime(2026, 12, 2, 10, 15, tzinfo=BERLIN), datetime(2026, 12, 2, 10, 20, tzinfo=BERLIN)
    with translation.override(language):
        assert formats.booking_span(start, end, BERLIN) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Wed 2 Dec, 23:30 – Thu 3 Dec, 00:30"), ("ru", "Ср 2 дек, 23:30 – Чт 3 дек, 00:30")],
)
def test_a_span_crossing_midnight_shows_both_days(language, expected):
    start, end = datetime(2026, 12, 2, 23, 30, tzinfo=BERLIN), datetime(2026, 12, 3, 0, 30, tzinfo=BERLIN)
    with translation.override(language):
        assert formats.booking_span(start, end, BERLIN) == expected


def test_a_span_is_written_in_the_reader_s_zone_where_it_may_cross_midnight():
    # 16:30–17:30 in Berlin is 00:30–01:30 the next day in Tokyo (UTC+9 against UTC+1 in December).
    start, end = datetime(2026, 12, 2, 16, 30, tzinfo=BERLIN), datetime(2026, 12, 2, 17, 30, tzinfo=BERLIN)
    with translation.override("en"):
        assert formats.booking_span(start, end, BERLIN) == "Wed 2 Dec, 16:30–17:30"
        assert formats.booking_span(start, end, TOKYO) == "Thu 3 Dec, 00:30–01:30"
        assert formats.clock(start, TOKYO) == "00:30"
