"""Recurring series in the bot, end to end against the sandbox: typed forms in English and Russian,
the preview's buttons, Repeat… from the confirm screen, cancelling from /my, and Extend series."""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from bookings import rules, series, services
from bookings.models import Booking, BookingSeries, BookingStatus
from core import callbacks as shared
from notifications.models import Notification, NotificationKind, NotificationStatus
from tests.notifications.harness import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def tomorrow():
    return rules.today_in(timezone.get_default_timezone()) + timedelta(days=1)


def at_ten(day):
    return rules.local_datetime(day, time(10))


def summary_skipped(alice):
    return (
        Notification.objects.filter(user__telegram_id=alice.id, kind=NotificationKind.SERIES_BOOKED)
        .exclude(status=NotificationStatus.SKIPPED)
        .count()
        == 0
    )


def test_typed_daily_series_previews_then_books_the_free_ones(bot, alice, open_resource, errors_seen):
    alice.send("/book proj daily 10:00 1h x3")
    shown = alice.expect_message(containing="Projector")
    assert "every day, 3 times" in shown.text
    assert shown.text.count("✓") == 3 and "3 of 3 occurrences can be booked." in shown.text
    assert {"Book the 3 free ones", "Book all or none", "✖️ Cancel"} <= set(shown.buttons)
    assert not Booking.objects.exists()  # a preview books nothing
    alice.press("Book the 3 free ones").answer()
    booked = alice.expect_message(containing="Series booked")
    assert booked.text.count("✓") == 3
    made = BookingSeries.objects.get()
    assert made.bookings.filter(status=BookingStatus.CONFIRMED).count() == 3
    # The reply is the series' receipt: its held summary message is dropped.
    wait_for(lambda: summary_skipped(alice), message="the held series summary to be skipped")
    assert not errors_seen


def test_a_taken_occurrence_shows_its_reason_and_all_or_none_then_refuses(
    bot, alice, open_resource, make_user, errors_seen
):
    second = tomorrow() + timedelta(days=1)
    services.booking_create(
        user=make_user(), resource=open_resource, start=at_ten(second), end=at_ten(second) + timedelta(hours=1)
    )
    alice.send("/book Projector daily 10:00 1h x3")
    shown = alice.expect_message(containing="2 of 3 occurrences can be booked.")
    assert "✗" in shown.text and "This time is already booked." in shown.text
    answer = alice.press("Book all or none").answer()
    assert "1 occurrence cannot be booked, so none was" in answer["text"]
    assert not BookingSeries.objects.exists()
    alice.press("Book the 2 free ones").answer()
    alice.expect_message(containing="Series booked")
    assert BookingSeries.objects.get().bookings.count() == 2
    assert not errors_seen


def test_typed_weekly_series_on_weekdays_with_until(bot, alice, open_resource, errors_seen):
    last = tomorrow() + timedelta(days=13)
    alice.send(f"/book Projector every mon,wed 10:00 1h until {last:%Y-%m-%d}")
    shown = alice.expect_message(containing="every week on Mon, Wed")
    assert shown.text.count("✓") == 4  # two Mondays and two Wednesdays in any 14 days
    assert not errors_seen


def test_an_unreadable_repetition_names_it(bot, alice, open_resource):
    alice.send("/book Projector every tue 10:00 1h")
    alice.expect_message(containing="could not read the repetition")


def test_russian_typed_series_is_answered_in_russian(bot, sandbox, open_resource, errors_seen):
    olga = sandbox.user("Olga", username="olga", language_code="ru")
    olga.send("/book Projector ежедневно 10:00 1ч х2")
    shown = olga.expect_message(containing="каждый день, 2 раза")
    assert "Забронировать свободные: 2" in shown.buttons
    olga.press("Забронировать свободные: 2").answer()
    olga.expect_message(containing="Серия забронирована")
    assert Booking.objects.filter(series__isnull=False).count() == 2
    assert not errors_seen


def test_repeat_from_the_confirm_screen_every_day_until_a_chosen_day(bot, alice, open_resource, errors_seen):
    alice.send("/resources")
    alice.expect_message(containing="What are you looking for?")
    alice.press("Equipment").answer()
    alice.expect_message(containing="Equipment")
    alice.press("Projector").answer()
    alice.expect_message(containing="Room 101")
    alice.press("📅 Book").answer()
    calendar = alice.expect_message(containing="choose a day")
    alice.press([label for label in calendar.buttons if label.isdigit()][1]).answer()
    starts = alice.expect_message(containing="choose a start")
    alice.press(starts.buttons[0]).answer()
    lengths = alice.expect_message(containing="for how long")
    alice.press(lengths.buttons[0]).answer()
    alice.expect_message(containing="Book Projector")
    alice.press("🔁 Repeat…").answer()
    alice.expect_message(containing="how often?")
    alice.press("Every day").answer()
    until = alice.expect_message(containing="until which day?")
    alice.press(next(label for label in until.buttons if label.isdigit())).answer()  # the next day
    shown = alice.expect_message(containing="2 of 2 occurrences can be booked.")
    assert "every day, until" in shown.text
    alice.press("Book all or none").answer()
    alice.expect_message(containing="Series booked")
    assert Booking.objects.filter(series__isnull=False).count() == 2
    assert not errors_seen


@pytest.fixture
def alices_series(alice, open_resource, bot):
    alice.send("/start")
    alice.expect_message(containing="Hello, Alice")
    from core.models import User

    owner = User.objects.get(telegram_id=alice.id)
    start = at_ten(tomorrow())
    return series.series_create(
        user=owner, resource=open_resource, start=start, end=start + timedelta(hours=1), rrule="FREQ=DAILY;COUNT=4"
    ).series


def test_in_my_an_occurrence_cancels_this_and_following(alice, alices_series, errors_seen):
    second = alices_series.bookings.order_by("start")[1]
    alice.send("/my")
    mine = alice.expect_message(containing="Upcoming")
    alice.press(next(label for label in mine.buttons if label.startswith(f"#{second.pk} "))).answer()
    card = alice.expect_message(containing="Part of a series: every day, 4 times")
    assert {"✖️ Cancel booking", "✖️ This and following", "✖️ Whole series"} <= set(card.buttons)
    alice.press("✖️ This and following").answer()
    alice.expect_message(containing="Cancel this and the following occurrences")
    assert alice.press("Yes, cancel it").answer()["text"] == "3 occurrences cancelled."
    statuses = list(alices_series.bookings.order_by("start").values_list("status", flat=True))
    assert statuses == ["confirmed", "cancelled", "cancelled", "cancelled"]
    assert not errors_seen


def test_extend_series_on_the_ending_message_adds_occurrences(alice, alices_series, errors_seen):
    alice.press(shared.encode(shared.SERIES_EXTEND, alices_series.pk), forge=True).answer()
    extended = alice.expect_message(containing="Series extended: 4 more occurrences")
    assert extended.text.count("✓") == 4
    assert alices_series.bookings.count() == 8
    assert not errors_seen


def test_a_52_occurrence_preview_fits_one_message_with_each_reason_once(bot, alice, make_resource, errors_seen):
    make_resource(name="Lab", max_advance_days=366)  # open 8:00–20:00
    alice.send("/book Lab daily 22:00 1h x52")
    shown = alice.expect_message(containing="0 of 52 occurrences can be booked.")
    assert shown.text.count("✗") == 52 and shown.text.count("[1]") == 53
    assert shown.text.count("The resource is not open for the whole of this time.") == 1
    assert shown.buttons == ["✖️ Cancel"]
    assert not errors_seen
