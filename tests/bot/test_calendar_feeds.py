"""Calendar feeds in the chat, through the sandbox with the real PTB.

/settings → Calendar link shows a URL that serves the feed; Renew and
Revoke change which URL works. Add to calendar on the booking's receipt
sends that booking as an .ics document (sendDocument), read back from the
sandbox and parsed with vobject; a forged press on someone else's booking
sends nothing.
"""

from datetime import timedelta

import pytest
import vobject
from django.test import Client

from bookings import feed_views
from bookings.models import Booking
from core import callbacks
from core.ratelimit import LocalRateLimiter

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "https://slotbot.example.org"


@pytest.fixture(autouse=True)
def feed_settings(settings, monkeypatch):
    settings.TELEGRAM_BOT_USERNAME = "slotbot_test_bot"
    settings.PUBLIC_BASE_URL = BASE
    limiter = LocalRateLimiter()
    monkeypatch.setattr(feed_views, "get_rate_limiter", lambda: limiter)


def url_in(message):
    words = [w for w in message.text.split() if w.startswith(BASE + "/calendar/")]
    assert len(words) == 1, message.text
    return words[0]


def fetch(url):
    return Client().get(url.removeprefix(BASE))


def typed(start, hours):
    from django.utils import timezone

    local = start.astimezone(timezone.get_default_timezone())
    return f"{local:%Y-%m-%d} {local:%H:%M} {hours}h"


def test_settings_calendar_link_renew_and_revoke(bot, alice):
    alice.send("/settings")
    alice.expect_message(containing="Settings")
    alice.press("📅 Calendar link").answer()
    shown = alice.expect_message(containing="Your calendar link")
    first = url_in(shown)
    assert "Google Calendar" in shown.text and shown.buttons[:3] == ["🔄 Renew", "🚫 Revoke", "« Back"]
    assert fetch(first).status_code == 200

    assert "old one no longer works" in alice.press("🔄 Renew").answer()["text"]
    second = url_in(alice.expect_message(containing="Your calendar link"))
    assert second != first
    assert fetch(first).status_code == 404 and fetch(second).status_code == 200

    alice.press("🚫 Revoke").answer()
    alice.expect_message(containing="Calendar link revoked")
    assert fetch(second).status_code == 404

    alice.press("📅 New calendar link").answer()
    third = url_in(alice.expect_message(containing="Your calendar link"))
    assert fetch(third).status_code == 200


def test_calendar_link_speaks_russian(bot, sandbox):
    ivan = sandbox.user("Ivan", username="ivan", language_code="ru")
    ivan.send("/settings")
    settings_message = ivan.expect_message()
    calendar_button = [label for label in settings_message.buttons if label.startswith("📅")]
    assert calendar_button == ["📅 Ссылка на календарь"]
    ivan.press(calendar_button[0]).answer()
    assert "Ваша ссылка на календарь" in ivan.expect_message(containing="/calendar/").text


def test_add_to_calendar_on_the_receipt_sends_the_booking_as_an_ics_file(bot, sandbox, alice, open_resource, slot):
    start, end = slot(hours_ahead=5, length_hours=2)
    alice.send(f"/book proj {typed(start, 2)}")
    receipt = alice.expect_message(containing="Booked: Projector")
    assert "📅 Add to calendar" in receipt.buttons
    booking = Booking.objects.get()

    assert alice.press("📅 Add to calendar", receipt).answer()["text"] == "Calendar file sent."

    sent = alice.expect_message(containing="add it to your calendar")
    document = sent["document"]
    assert document["file_name"] == f"slotbot-booking-{booking.pk}.ics"
    body = sandbox.http.get(document["url"]).content
    event = vobject.readOne(body.decode("utf-8")).vevent
    assert event.uid.value == f"booking-{booking.pk}@slotbot.example.org"
    assert (event.dtstart.value, event.dtend.value) == (start, end)
    assert event.dtend.value - event.dtstart.value == timedelta(hours=2)
    assert event.summary.value == "Projector" and event.location.value == "Room 101"
    assert event.status.value == "CONFIRMED"


def test_add_to_calendar_is_checked_again_on_press(bot, alice, bob, open_resource, slot):
    start, _ = slot(hours_ahead=5)
    alice.send(f"/book proj {typed(start, 1)}")
    alice.expect_message(containing="Booked: Projector")
    booking = Booking.objects.get()
    bob.send("/start")
    bob.expect_message()

    answer = bob.press(callbacks.encode(callbacks.BOOKING_ICS, booking.pk), forge=True).answer()

    assert answer["text"] == "This button has expired."
    bob.expect_no_message()
    assert not [m for m in bob.bot_messages() if m.get("document")]


def test_the_calendar_link_is_never_shown_in_a_group(bot, sandbox, alice):
    group = sandbox.group("Team", members=[alice])
    alice.send("/settings", chat=group)
    alice.expect_message(containing="Settings", chat=group)

    answer = alice.press("📅 Calendar link", chat=group).answer()

    assert answer["show_alert"] and "private" in answer["text"]
    assert not any("/calendar/" in m.text for m in group.bot_messages())
