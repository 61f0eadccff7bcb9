"""Russian words through the real bot: one label per booking status, the same word for one action everywhere."""

import pytest
from django.utils import translation
from django.utils.translation import gettext, pgettext

from bookings import services
from bookings.models import Booking, BookingStatus

pytestmark = pytest.mark.django_db(transaction=True)

# The bookings catalogue's word for each status (context "booking status").
RUSSIAN_STATUS = {
    "pending": "ждёт одобрения",
    "confirmed": "подтверждена",
    "active": "идёт",
    "completed": "завершена",
    "expired": "истекла",
    "cancelled": "отменена",
    "rejected": "отклонена",
}


@pytest.fixture
def ivan(sandbox, bot, django_user_model):
    """A Russian-speaking user, registered with the bot."""
    ivan = sandbox.user("Иван", username="ivan", language_code="ru")
    ivan.send("/start")
    ivan.expect_message(containing="Здравствуйте")
    ivan.user = django_user_model.objects.get(telegram_id=ivan.id)
    return ivan


def test_each_status_label_is_the_bookings_catalogues_word_under_its_context():
    with translation.override("en"):
        english = {status.value: str(status.label) for status in BookingStatus}
    with translation.override("ru"):
        assert {status.value: str(status.label) for status in BookingStatus} == RUSSIAN_STATUS
        assert {value: pgettext("booking status", word) for value, word in english.items()} == RUSSIAN_STATUS
        # Without the context the same English word is another app's: auth's "active" describes an account.
        assert gettext("active") == "активный"


def test_my_bookings_in_russian_show_the_bookings_catalogues_label_for_each_status(ivan, open_resource, slot):
    bookings = {}
    for hours_ahead, status in enumerate(BookingStatus.values, start=3):
        start, end = slot(hours_ahead=hours_ahead)
        booking = services.booking_create(user=ivan.user, resource=open_resource, start=start, end=end)
        Booking.objects.filter(pk=booking.pk).update(status=status)  # test set-up, not a transition
        bookings[status] = booking.pk

    ivan.send("/my")
    text = ivan.expect_message(containing="Предстоящие").text

    lines = {int(line.split()[0][1:]): line for line in text.splitlines() if line.startswith("#")}
    assert {status: lines[pk].rsplit(" — ", 1)[1] for status, pk in bookings.items()} == RUSSIAN_STATUS
    assert "активный" not in text
