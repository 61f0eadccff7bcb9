"""Counts in sentences take the right plural form: English's two, Russian's three.

The fixed clock is Monday 2030-06-03 08:00 Europe/Berlin; the default
resource is open 8:00–20:00 every day, on a 30-minute grid.
"""

import pytest
from django.utils import translation

from bookings import errors, rules, services

pytestmark = pytest.mark.django_db


def refusal(book, resource, start, end, error, language):
    with pytest.raises(error) as caught:
        book(resource, start, end)
    with translation.override(language):
        return caught.value.message


@pytest.mark.parametrize(
    ("days", "language", "expected"),
    [
        (1, "en", "at most 1 day ahead."),
        (2, "en", "at most 2 days ahead."),
        (1, "ru", "не более чем на 1 день вперёд."),
        (2, "ru", "не более чем на 2 дня вперёд."),
        (5, "ru", "не более чем на 5 дней вперёд."),
        (11, "ru", "не более чем на 11 дней вперёд."),
        (21, "ru", "не более чем на 21 день вперёд."),
    ],
)
def test_booking_too_far_ahead_says_the_days_in_the_right_plural(book, make_resource, at, days, language, expected):
    resource = make_resource(max_advance_days=days)
    message = refusal(book, resource, at(10, days=days + 1), at(11, days=days + 1), errors.TooFarAhead, language)
    assert message.endswith(expected)


@pytest.mark.parametrize(
    ("minutes", "language", "expected"),
    [
        (1, "en", "Check-in opens 1 minute before the start."),
        (15, "en", "Check-in opens 15 minutes before the start."),
        (1, "ru", "Отметиться можно за 1 минуту до начала."),
        (2, "ru", "Отметиться можно за 2 минуты до начала."),
        (5, "ru", "Отметиться можно за 5 минут до начала."),
    ],
)
def test_checking_in_too_early_says_the_minutes_in_the_right_plural(
    book, make_resource, at, staff, minutes, language, expected
):
    resource = make_resource(requires_check_in=True, check_in_opens_minutes=minutes)
    booking = book(resource, at(10), at(11))
    with pytest.raises(errors.CheckInNotOpen) as caught:
        services.booking_check_in(booking=booking, by=booking.user, now=at(8))
    with translation.override(language):
        assert caught.value.message == expected


@pytest.mark.parametrize(
    ("minutes", "language", "expected"),
    [(5, "en", "on a 5-minute grid."), (1, "ru", "по сетке в 1 минуту."), (5, "ru", "по сетке в 5 минут.")],
)
def test_a_time_off_the_grid_says_the_grid_in_the_right_plural(minutes, language, expected):
    with translation.override(language):
        assert errors.NotOnSlotGrid(minutes=minutes).message.endswith(expected)


def test_an_error_message_follows_the_reader_s_language_after_it_was_raised():
    error = errors.TooFarAhead(days=2)
    with translation.override("ru"):
        assert "2 дня" in error.message
    with translation.override("en"):
        assert "2 days" in error.message


@pytest.mark.parametrize(
    ("minutes", "english", "russian"),
    [(1, "1 min", "1 мин"), (45, "45 min", "45 мин"), (60, "1 h", "1 ч"), (90, "1 h 30 min", "1 ч 30 мин")],
)
def test_durations_read_the_same_through_ngettext(minutes, english, russian):
    with translation.override("en"):
        assert rules.format_minutes(minutes) == english
    with translation.override("ru"):
        assert rules.format_minutes(minutes) == russian
