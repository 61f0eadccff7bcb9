"""A user in Tokyo books a resource whose opening hours are Berlin's (the site's zone).

Every date the bot shows (calendar, the start screen's title) is the user's
date, and the starts offered for a date are those that fall on it in the
user's zone: Berlin's 08:00–20:00 is 15:00–03:00 (16:00–04:00 in winter) in
Tokyo, so a Tokyo date holds one Berlin day's morning and the previous
Berlin day's evening. Runs on the real clock, so expectations are computed
from Berlin's hours for the dates at hand.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from bot import callbacks as cb
from bot import texts
from bot.calendar import month_of
from core.models import User

pytestmark = pytest.mark.django_db(transaction=True)

BERLIN, TOKYO = ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Tokyo")
OPEN_HALF_HOURS = [time(h, m) for h in range(8, 20) for m in (0, 30)]  # starts 08:00–19:30 in Berlin


@pytest.fixture(autouse=True)
def site_in_berlin(settings):
    settings.TIME_ZONE = "Europe/Berlin"


@pytest.fixture
def alice_in_tokyo(bot, alice):
    alice.send("/start")
    alice.expect_message(containing="Hello")
    User.objects.filter(telegram_id=alice.id).update(time_zone="Asia/Tokyo")
    return alice


def tokyo_today():
    return timezone.now().astimezone(TOKYO).date()


def berlin_starts_on_tokyo_date(day):
    """The Berlin opening-hour starts of the two Berlin days that meet a Tokyo date, as Tokyo clock texts."""
    moments = (
        datetime.combine(berlin_day, start, tzinfo=BERLIN).astimezone(TOKYO)
        for berlin_day in (day - timedelta(days=1), day)
        for start in OPEN_HALF_HOURS
    )
    return sorted(f"{moment:%H:%M}" for moment in moments if moment.date() == day)


def test_a_tokyo_user_is_offered_the_starts_of_their_own_date(alice_in_tokyo, make_resource):
    resource = make_resource(name="Projector")  # open 08:00–20:00 Berlin time, every day
    day = tokyo_today() + timedelta(days=2)

    alice_in_tokyo.press(cb.data(cb.STARTS, resource.pk, day, 0), forge=True)
    starts = alice_in_tokyo.expect_message(containing="choose a start")

    assert texts.day_label(day) in starts.text
    assert "Asia/Tokyo" in starts.text
    assert [label for label in starts.buttons if label[:2].isdigit()] == berlin_starts_on_tokyo_date(day)

    alice_in_tokyo.press("00:00").answer()
    lengths = alice_in_tokyo.expect_message(containing="for how long")
    assert f"{texts.day_label(day)} 00:00" in lengths.text
    back = cb.parse(lengths.button_data[str(texts.BACK)])
    assert (back.action, back.values) == (cb.STARTS, (resource.pk, day, 0))


def test_the_calendar_shows_the_tokyo_dates_that_hold_free_starts(alice_in_tokyo, make_resource):
    berlin_today = timezone.now().astimezone(BERLIN).date()
    weekday = (berlin_today + timedelta(days=3)).weekday()
    one_day_a_week = make_resource(name="Projector", hours=((weekday, weekday + 1), (8, 20)))
    open_berlin_days = [
        berlin_today + timedelta(days=n)
        for n in range(one_day_a_week.max_advance_days + 1)
        if (berlin_today + timedelta(days=n)).weekday() == weekday
    ]
    # Each open Berlin day starts on that date in Tokyo and runs on past Tokyo's midnight.
    expected = {d for berlin_day in open_berlin_days for d in (berlin_day, berlin_day + timedelta(days=1))}

    alice_in_tokyo.press(cb.data(cb.CALENDAR, one_day_a_week.pk, month_of(tokyo_today())), forge=True)
    calendar = alice_in_tokyo.expect_message(containing="choose a day")

    shown_month = month_of(tokyo_today())
    assert {int(label) for label in calendar.buttons if label.isdigit()} == {
        d.day for d in expected if month_of(d) == shown_month
    }
