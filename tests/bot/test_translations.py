"""Russian words through the real bot: one label per booking status, the same word for one action everywhere."""

from datetime import timedelta

import pytest
from django.utils import translation
from django.utils.translation import gettext, pgettext

from bookings import services
from bookings.admin import BookingAdmin
from bookings.models import Booking, BookingStatus
from bot import texts
from notifications import keyboards as notification_keyboards

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
    "overdue": "просрочена",
    "held": "придержана для вас",
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
        bookings[status] = services.booking_create(user=ivan.user, resource=open_resource, start=start, end=end).pk
    # Test set-up, not transitions; all booked first, since an overdue booking blocks the time after it.
    for status, pk in bookings.items():
        Booking.objects.filter(pk=pk).update(status=status)

    ivan.send("/my")
    text = ivan.expect_message(containing="Предстоящие").text

    lines = {int(line.split()[0][1:]): line for line in text.splitlines() if line.startswith("#")}
    assert {status: lines[pk].rsplit(" — ", 1)[1] for status, pk in bookings.items()} == RUSSIAN_STATUS
    assert "активный" not in text


@pytest.fixture
def russian_admin(sandbox, settings, make_user):
    """A Russian-speaking admin in the admin group: (their sandbox user, the group)."""
    boss = sandbox.user("Босс", username="boss", language_code="ru")
    group = sandbox.group("Админы Slotbot", members=[boss])
    settings.TELEGRAM_ADMIN_CHAT_ID = group.id
    make_user(username="boss", is_staff=True, telegram_id=boss.id, telegram_username="boss", language_code="ru")
    return boss, group


def test_approve_and_reject_are_the_same_words_in_the_bot_the_approval_request_and_the_admin(
    ivan, russian_admin, make_resource, slot
):
    boss, group = russian_admin
    studio = make_resource(name="Studio", kind="space", hours=None, requires_approval=True)
    start, end = slot(hours_ahead=4)
    booking = services.booking_create(user=ivan.user, resource=studio, start=start, end=end)

    boss.send("/pending", chat=group)
    pending = boss.expect_message(containing=f"#{booking.pk}", chat=group)
    # "✅ Одобрить #7" → "Одобрить"
    in_bot = [label.split()[1] for label in pending.buttons if label.endswith(f" #{booking.pk}")]
    with translation.override("ru"):
        in_request = [button["text"] for button in notification_keyboards.for_admins(booking)["inline_keyboard"][0]]
        in_admin = [
            str(action.short_description).split()[0]
            for action in (BookingAdmin.approve_bookings, BookingAdmin.reject_bookings)
        ]
    assert in_bot == in_request == in_admin == ["Одобрить", "Отклонить"]


def test_a_booking_s_buttons_read_the_same_in_the_bot_and_on_notifications(make_user, make_resource, slot):
    lab = make_resource(name="Lab bench", hours=None, requires_check_in=True)
    start, end = slot(hours_ahead=4)
    booking = services.booking_create(user=make_user(), resource=lab, start=start, end=end)
    with translation.override("ru"):
        # What a reminder shows while check-in is open, then the message once it has started.
        while_check_in_opens = notification_keyboards.for_owner(booking, now=start - timedelta(minutes=5))
        booking.status = BookingStatus.ACTIVE
        while_running = notification_keyboards.for_owner(booking, now=start + timedelta(minutes=1))
        on_notifications = [
            button["text"]
            for markup in (while_check_in_opens, while_running)
            for button in markup["inline_keyboard"][0]
        ]
        # The bot's buttons carry an emoji before the same word.
        in_bot = [str(label).split(" ", 1)[1] for label in (texts.CHECK_IN, texts.CANCEL_BOOKING, texts.RETURN_EARLY)]
        in_admin = str(BookingAdmin.cancel_bookings.short_description).split()[0]
    assert on_notifications == in_bot == ["Отметиться", "Отменить бронь", "Вернуть досрочно"]
    assert in_admin == "Отменить"
