"""The typed /book grammar, without Telegram or the database."""

from datetime import date, time, timedelta

import pytest

from bot.parsing import BookSyntaxError, SeriesRequest, parse_book, parse_day, parse_series, parse_time

TODAY = date(2030, 6, 3)


def test_resource_names_may_have_spaces_the_last_three_words_are_date_time_and_length():
    request = parse_book(["meeting", "room", "tomorrow", "9:30", "1h30m"], today=TODAY)
    assert (request.resource, request.day, request.time, request.duration) == (
        "meeting room",
        date(2030, 6, 4),
        time(9, 30),
        timedelta(minutes=90),
    )


@pytest.mark.parametrize(
    "word, expected",
    [
        ("today", date(2030, 6, 3)),
        ("Tomorrow", date(2030, 6, 4)),
        ("послезавтра", date(2030, 6, 5)),
        ("2030-07-01", date(2030, 7, 1)),
        ("04.06", date(2030, 6, 4)),
        ("01.01", date(2031, 1, 1)),  # already past this year: next year
        ("04.06.2031", date(2031, 6, 4)),
    ],
)
def test_dates_in_every_documented_form(word, expected):
    assert parse_day(word, today=TODAY) == expected


@pytest.mark.parametrize("word", ["31.02", "someday", "2030-13-01", "99.99.9999"])
def test_impossible_dates_name_the_date_as_the_problem(word):
    with pytest.raises(BookSyntaxError) as raised:
        parse_day(word, today=TODAY)
    assert raised.value.part == "date"


@pytest.mark.parametrize("word", ["24:00", "14:60", "2pm", ""])
def test_impossible_times_are_refused(word):
    with pytest.raises(BookSyntaxError):
        parse_time(word)


@pytest.mark.parametrize("words", [[], ["projector"], ["projector", "tomorrow", "14:00"]])
def test_too_few_words_ask_for_the_usage(words):
    with pytest.raises(BookSyntaxError) as raised:
        parse_book(words, today=TODAY)
    assert raised.value.part == "arguments"


# --- Recurring series -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (
            "bench 3 every tue 14:00 2h until 2027-01-31",
            SeriesRequest("bench 3", "WEEKLY", (1,), 1, time(14), timedelta(hours=2), date(2027, 1, 31), None),
        ),
        (
            "projector every mon,wed 9:00 1h x10",
            SeriesRequest("projector", "WEEKLY", (0, 2), 1, time(9), timedelta(hours=1), None, 10),
        ),
        (
            "lab daily 8:00 30m until 20.12",
            SeriesRequest("lab", "DAILY", (), 1, time(8), timedelta(minutes=30), date(2030, 12, 20), None),
        ),
        (
            "стенд каждый вт 14:00 2ч до 31.01.2027",
            SeriesRequest("стенд", "WEEKLY", (1,), 1, time(14), timedelta(hours=2), date(2027, 1, 31), None),
        ),
        (
            "лаборатория ежедневно 8:00 30м до 20.12",
            SeriesRequest("лаборатория", "DAILY", (), 1, time(8), timedelta(minutes=30), date(2030, 12, 20), None),
        ),
        (
            "проектор пн,ср 9:00 1ч x10",
            SeriesRequest("проектор", "WEEKLY", (0, 2), 1, time(9), timedelta(hours=1), None, 10),
        ),
        (
            "проектор пн,ср 9:00 1ч х10",  # a Cyrillic х
            SeriesRequest("проектор", "WEEKLY", (0, 2), 1, time(9), timedelta(hours=1), None, 10),
        ),
        (
            "room every 2 weeks fri 10:00 1h 5 times",
            SeriesRequest("room", "WEEKLY", (4,), 2, time(10), timedelta(hours=1), None, 5),
        ),
        (
            "room weekdays 9:00 1h x5",
            SeriesRequest("room", "WEEKLY", (0, 1, 2, 3, 4), 1, time(9), timedelta(hours=1), None, 5),
        ),
        (
            "room monthly 9:00 1h x3",
            SeriesRequest("room", "MONTHLY", (), 1, time(9), timedelta(hours=1), None, 3),
        ),
    ],
)
def test_typed_series_in_english_and_russian(typed, expected):
    assert parse_series(typed.split(), today=TODAY) == expected


@pytest.mark.parametrize("typed", ["projector tomorrow 14:00 2h", "big room 2030-06-04 9:00 1h", "x"])
def test_an_ordinary_book_is_no_series(typed):
    assert parse_series(typed.split(), today=TODAY) is None


@pytest.mark.parametrize(
    ("typed", "part"),
    [
        ("bench every tue 14:00 2h", "repeat"),
        ("bench every tue 14:00 2h until", "repeat"),
        ("bench every blue 14:00 2h x3", "repeat"),
        ("bench every tue 25:00 2h x3", "time"),
        ("bench every tue 14:00 forever x3", "duration"),
        ("bench every tue 14:00 2h until someday", "date"),
        ("bench every tue 14:00 2h x0", "repeat"),
        ("bench daily 14:00", "repeat"),
    ],
)
def test_an_unreadable_series_names_the_part(typed, part):
    with pytest.raises(BookSyntaxError) as raised:
        parse_series(typed.split(), today=TODAY)
    assert raised.value.part == part
