"""The typed /book grammar, without Telegram or the database."""

from datetime import date, time, timedelta

import pytest

from bot.parsing import BookSyntaxError, parse_book, parse_day, parse_time

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
