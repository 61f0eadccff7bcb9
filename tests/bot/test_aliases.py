"""Resources named in the user's language: the help's examples find the demo catalogue, /book books by alias."""

import re
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from bookings import selectors
from bookings.models import Booking, BookingStatus
from bot import texts
from bot.parsing import parse_book, parse_series

# "<code>/book …</code>" in the help and the usage; "…: /book …" in the command menu.
EXAMPLE = re.compile(r"(?:<code>|: )/book ([^<\n]+?)(?:</code>|$)", re.MULTILINE)


def book_examples(language):
    """Every '/book …' example of the help, the /book usage and the command menu, in `language`."""
    with translation.override(language):
        shown = [texts.help_text(is_admin=False), texts.book_usage()]
        shown += [str(description) for command, description in texts.COMMANDS if command == "book"]
    return [example for text in shown for example in EXAMPLE.findall(text) if "&lt;" not in example]


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_book_example_of_the_help_finds_exactly_one_demo_resource(language):
    call_command("seed_demo", verbosity=0)
    examples = book_examples(language)
    assert len(examples) >= 5, examples  # three in /help, one in the usage, one in the menu
    for example in examples:
        words, today = example.split(), date(2030, 6, 3)
        request = parse_series(words, today=today) or parse_book(words, today=today)  # series examples too
        found = selectors.resources_matching(text=request.resource)
        assert len(found) == 1, (example, [r.name for r in found])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "typed, resource",
    [
        ("проектор", "Projector Epson EB-W06"),  # the Russian help's own example
        ("переговрная", "Meeting room Orion"),  # with a typo
    ],
)
def test_book_in_russian_books_the_demo_resource_by_its_alias(bot, sandbox, typed, resource):
    call_command("seed_demo", verbosity=0)
    ivan = sandbox.user("Иван", username="ivan", language_code="ru")

    ivan.send(f"/book {typed} завтра 14:00 2ч")

    ivan.expect_message(containing=f"Забронировано: {resource}")
    booking = Booking.objects.select_related("resource").get()
    tomorrow = timezone.now().astimezone(timezone.get_default_timezone()).date() + timedelta(days=1)
    start = booking.start.astimezone(timezone.get_default_timezone())
    assert (booking.resource.name, booking.status) == (resource, BookingStatus.CONFIRMED)
    assert (start.date(), f"{start:%H:%M}", booking.end - booking.start) == (tomorrow, "14:00", timedelta(hours=2))
