"""One booking reads the same in the bot's reply, in /my and in its notification message, in both languages."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from bookings import formats
from bookings.models import Booking
from notifications import texts as notification_texts
from notifications.models import Notification, NotificationKind

pytestmark = pytest.mark.django_db(transaction=True)

LENGTH = {"en": "1h", "ru": "1ч"}
GREETING = {"en": "Hello", "ru": "Здравствуйте"}
BOOKED = {"en": "Booked", "ru": "Забронировано"}
UPCOMING = {"en": "Upcoming", "ru": "Предстоящие"}


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_booking_crossing_midnight_is_written_identically_by_the_bot_and_the_notifications(
    bot, sandbox, open_resource, django_user_model, language
):
    person = sandbox.user("Sam", username="sam", language_code=language)
    person.send("/start")
    person.expect_message(containing=GREETING[language])
    tomorrow = timezone.now().astimezone(timezone.get_default_timezone()).date() + timedelta(days=1)
    person.send(f"/book projector {tomorrow:%Y-%m-%d} 23:30 {LENGTH[language]}")
    booked = person.expect_message(containing=BOOKED[language]).text
    person.send("/my")
    my_line = next(
        line for line in person.expect_message(containing=UPCOMING[language]).text.splitlines() if "#" in line
    )

    booking = Booking.objects.select_related("user", "resource").get()
    user = booking.user
    notification = Notification(
        user=user, chat_id=person.id, booking=booking, kind=NotificationKind.CONFIRMED, dedupe_key="test"
    )
    message = notification_texts.render(notification).text
    with translation.override(language):
        expected = formats.booking_span(booking.start, booking.end, user.zone)
        days = [formats.day_label(tomorrow), formats.day_label(tomorrow + timedelta(days=1))]

    assert expected == f"{days[0]}, 23:30 – {days[1]}, 00:30"
    assert f", {expected}." in booked
    assert f", {expected} — " in my_line
    assert f", {expected}." in message
