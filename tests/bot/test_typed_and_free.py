"""Typed /book, availability-first /free, and /my with check-in, return and cancel."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings import services
from bookings.models import Booking, BookingStatus
from bot import callbacks as cb
from bot.parsing import parse_duration

pytestmark = pytest.mark.django_db(transaction=True)


def typed(start, hours):
    """'/book …' arguments for a start in Europe/Berlin (the user's default zone)."""
    local = start.astimezone(timezone.get_default_timezone())
    return f"{local:%Y-%m-%d} {local:%H:%M} {hours}h"


def test_typed_book_books_the_resource_by_name_prefix(bot, alice, open_resource, slot):
    start, end = slot(hours_ahead=5, length_hours=2)
    alice.send(f"/book proj {typed(start, 2)}")
    alice.expect_message(containing="Booked: Projector")
    booking = Booking.objects.get()
    assert (booking.start, booking.end, booking.status) == (start, end, BookingStatus.CONFIRMED)


@pytest.mark.parametrize(
    "arguments, expected",
    [
        ("", "Usage: /book"),
        ("projector someday 14:00 2h", "could not read the date"),
        ("projector tomorrow 25:00 2h", "could not read the time"),
        ("projector tomorrow 14:00 forever", "could not read the length"),
        ("telescope tomorrow 14:00 2h", "No resource is called «telescope»"),
    ],
)
def test_typed_book_explains_what_it_cannot_read(bot, alice, open_resource, arguments, expected):
    alice.send(f"/book {arguments}".strip())
    alice.expect_message(containing=expected)
    assert not Booking.objects.exists()


def test_free_lists_what_is_free_and_books_with_a_tap(bot, alice, make_resource, open_resource, slot):
    make_resource(name="Meeting room", kind="space", hours=None)
    start, end = slot(hours_ahead=26)  # tomorrow's calendar page at a whole hour
    services.booking_create(user=_someone(), resource=open_resource, start=start, end=end)
    local = start.astimezone(timezone.get_default_timezone())
    alice.send("/free")
    days = alice.expect_message(containing="Choose a day")
    alice.press(days.buttons[1]).answer()  # tomorrow
    alice.expect_message(containing="from what time")
    alice.press(f"{local:%H:%M}").answer()
    alice.expect_message(containing="for how long")
    alice.press("1 h").answer()
    free = alice.expect_message(containing="is free for all of")
    assert "Meeting room" in free.buttons and "Projector" not in free.buttons
    alice.press("Meeting room").answer()
    alice.expect_message(containing="Meeting room")
    alice.press("✅ Confirm").answer()
    alice.expect_message(containing="Booked")
    assert Booking.objects.filter(resource__name="Meeting room", start=start, end=end).exists()


def test_free_pages_through_what_is_free_and_a_stale_page_shows_the_last(bot, alice, make_resource, slot):
    for n in range(10):
        make_resource(name=f"Desk {n}", kind="space", hours=None)
    start, _end = slot(hours_ahead=26)
    alice.send("/start")
    alice.expect_message(containing="Hello")
    alice.press(cb.data(cb.FREE_LIST, start, 60, 0), forge=True).answer()
    first = alice.expect_message(containing="free for all of")
    assert "1/2" in first.buttons and "Desk 0" in first.buttons and "Desk 9" not in first.buttons
    alice.press(cb.data(cb.FREE_LIST, start, 60, 7), forge=True).answer()  # a page that no longer exists
    last = alice.expect_message(containing="free for all of")
    assert "2/2" in last.buttons and "Desk 9" in last.buttons and "Desk 0" not in last.buttons


def test_my_bookings_check_in_return_early_and_cancel(bot, alice, make_resource, slot):
    needs_check_in = make_resource(name="Camera", hours=None, requires_check_in=True, check_in_opens_minutes=120)
    later = make_resource(name="Lab bench", hours=None)
    alice.send("/start")
    alice.expect_message(containing="Hello")
    user = _user(alice)
    soon_start, soon_end = slot(hours_ahead=1)
    soon = services.booking_create(user=user, resource=needs_check_in, start=soon_start, end=soon_end)
    far_start, far_end = slot(hours_ahead=30)
    far = services.booking_create(user=user, resource=later, start=far_start, end=far_end)

    alice.send("/my")
    listing = alice.expect_message(containing="Upcoming")
    alice.press(next(b for b in listing.buttons if "Camera" in b)).answer()
    alice.expect_message(containing="Camera")
    assert alice.press("✅ Check in").answer()["text"].startswith("Checked in")
    alice.expect_message(containing="active")
    soon.refresh_from_db()
    assert soon.status == BookingStatus.ACTIVE
    assert alice.press("↩️ Return early").answer()["text"].startswith("Returned")
    soon.refresh_from_db()
    assert soon.status == BookingStatus.COMPLETED

    alice.press("« Back").answer()
    listing = alice.expect_message(containing="Lab bench")
    alice.press(next(b for b in listing.buttons if "Lab bench" in b)).answer()
    alice.expect_message(containing="Lab bench")
    alice.press("✖️ Cancel booking").answer()
    alice.expect_message(containing="Cancel your booking")
    far.refresh_from_db()
    assert far.status == BookingStatus.CONFIRMED  # nothing happens before the second press
    alice.press("Yes, cancel it").answer()
    alice.expect_message(containing="cancelled")
    far.refresh_from_db()
    assert far.status == BookingStatus.CANCELLED


def test_durations_are_parsed_in_every_documented_form():
    assert [parse_duration(w) for w in ("2h", "90m", "1h30m", "1.5h", "1,5ч", "90мин")] == [
        timedelta(hours=2),
        timedelta(minutes=90),
        timedelta(minutes=90),
        timedelta(minutes=90),
        timedelta(minutes=90),
        timedelta(minutes=90),
    ]


def _user(sandbox_user):
    from core.models import User

    return User.objects.get(telegram_id=sandbox_user.id)


def _someone():
    from core.models import User

    return User.objects.create_user(username="someone", password="pw-for-tests")
