"""rules.today_in: the one answer to "what date is it" for a zone."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bookings import rules


def test_today_differs_by_zone_at_the_same_moment():
    moment = datetime(2030, 1, 1, 23, 30, tzinfo=UTC)
    assert rules.today_in(ZoneInfo("UTC"), now=moment) == date(2030, 1, 1)
    assert rules.today_in(ZoneInfo("Asia/Tokyo"), now=moment) == date(2030, 1, 2)
    assert rules.today_in(ZoneInfo("America/New_York"), now=moment) == date(2030, 1, 1)


def test_today_defaults_to_the_sites_zone(settings):
    moment = datetime(2030, 1, 1, 23, 30, tzinfo=UTC)
    settings.TIME_ZONE = "Asia/Tokyo"
    assert rules.today_in(now=moment) == date(2030, 1, 2)
