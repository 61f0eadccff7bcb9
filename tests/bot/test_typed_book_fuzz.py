"""Fuzz of typed /book: the parser and the view behind it never fail on any words.

The parser either reads a request or raises BookSyntaxError naming the part;
the view `typed_book(actor, words)` always returns a screen that says what
happened, never raises, so the handler never falls back to the apology.
"""

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings.errors import BookingError
from bot import texts
from bot.handlers.base import Actor, Screen
from bot.handlers.booking import typed_book
from bot.parsing import BookSyntaxError, parse_book

PARTS = {"arguments", "resource", "date", "date_range", "time", "duration", "duration_range"}
digits = st.text(alphabet="0123456789", min_size=1, max_size=12) | st.integers(0, 5000).map(lambda n: "9" * n)
plausible = st.one_of(
    st.sampled_from(
        [
            "proj",
            "pro\x00j",
            "\x00",
            "\x1b[0m",
            "Projector",
            "today",
            "завтра",
            "14:00",
            "02:30",
            "2h",
            "1,5ч",
            "0m",
            "1.h",
            "h",
        ]
    ),
    st.builds("{}-{}-{}".format, digits, digits, digits),
    st.builds("{}.{}.{}".format, digits, digits, digits),
    st.builds("{}:{}".format, digits, digits),
    st.builds("{}{}".format, digits, st.sampled_from(["h", "m", "ч", "мин", "h30m", ".5h", ",25ч"])),
    st.text(alphabet="٠١٢٣٤٥٦٧٨٩𝟗0-.:hm", min_size=1, max_size=12),  # digits of other scripts
)
dates = st.one_of(
    st.sampled_from(["today", "tomorrow", "2030-03-31", "2030-10-27", "9999-12-31", "0001-01-01", "31.12.9999"]),
    st.dates().map(date.isoformat),
    st.dates().map(lambda d: d.strftime("%d.%m.%Y")),
)
times = st.one_of(st.sampled_from(["02:30", "02:00", "14:00", "9:30", "23"]), st.times().map(lambda t: f"{t:%H:%M}"))
lengths = st.one_of(
    st.builds("{}{}".format, digits, st.sampled_from(["h", "m", "ч", "мин", "h30m", ".5h", ",25ч"])),
    st.sampled_from(["2h", "1.5h", "90m", "0m", "1,5ч"]),
)
random_words = st.lists(st.one_of(plausible, st.text(min_size=1, max_size=20).filter(str.strip)), max_size=7)
# Mostly well-shaped commands, so the date, time and length parsers are all reached.
well_shaped = st.builds(
    lambda name, rest: [*name, *rest],
    st.lists(st.sampled_from(["proj", "Projector", "stand", "pro\x00j"]) | plausible, min_size=1, max_size=2),
    st.tuples(dates, times, lengths),
)
words = st.one_of(well_shaped, well_shaped, random_words)
FUZZ = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(words=words)
def test_the_parser_reads_any_words_or_names_the_part_it_cannot_read(words):
    part = None
    try:
        parse_book(words, today=date(2030, 6, 3))
    except BookSyntaxError as error:
        part = error.part
    assert part is None or part in PARTS


@pytest.mark.django_db
def test_typed_book_answers_any_words_and_never_with_the_apology(make_resource, user):
    make_resource(name="Projector", hours=None, max_advance_days=20_000)
    make_resource(name="Projector stand", hours=None)
    actor = Actor(user=user, chat_id=1, private=True)

    @FUZZ
    @given(words=words)
    def run(words):
        try:
            screen = typed_book(actor, words)
        except BookingError:
            return  # the handler shows its message (bot.handlers.base._render)
        assert isinstance(screen, Screen) and screen.text
        assert str(texts.APOLOGY) not in screen.text

    run()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "length", ["9" * 400 + "h", "9" * 5000 + "m", "9" * 5000 + "h", "1" + "0" * 320 + ".5h", "0m", "0h0m"]
)
def test_typed_book_answers_a_length_of_any_number_of_digits(make_resource, user, length):
    make_resource(name="Projector", hours=None)

    screen = typed_book(Actor(user=user, chat_id=1, private=True), ["proj", "2030-06-04", "10:00", length])

    assert "is out of range" in screen.text


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["pro\x00j", "\x00", "Pro\x07jector"])
def test_typed_book_refuses_a_resource_name_with_control_characters(make_resource, user, name):
    make_resource(name="Projector", hours=None)

    screen = typed_book(Actor(user=user, chat_id=1, private=True), [name, "tomorrow", "10:00", "1h"])

    assert "could not read the resource name" in screen.text
