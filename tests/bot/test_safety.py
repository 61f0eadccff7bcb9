"""Buttons cannot be forged or replayed into changes; two users racing for one slot."""

import threading

import pytest

from bookings import services
from bookings.models import Booking, BookingStatus
from bot import callbacks as cb
from core.callbacks import BOOKING_CANCEL, BOOKING_CHECK_IN, encode
from core.models import User

pytestmark = pytest.mark.django_db(transaction=True)

EXPIRED = "This button has expired."


@pytest.fixture
def bobs_booking(bot, bob, open_resource, slot):
    bob.send("/start")
    bob.expect_message(containing="Hello")
    start, end = slot(hours_ahead=4)
    return services.booking_create(
        user=User.objects.get(telegram_id=bob.id), resource=open_resource, start=start, end=end
    )


@pytest.mark.parametrize(
    "data",
    [
        "garbage",
        "cy:",
        "cy:-1",
        "cy:ZZ",
        "zz:1",
        "mn:1",  # right action, wrong number of arguments
        "cy:" + "z" * 13,  # base-36 of more than a bigint
        "rl:0:0:" + "z" * 13,
        "bs:1:" + "z" * 13 + ":0",  # a day beyond any calendar
    ],
)
def test_forged_callback_data_is_refused(bot, alice, bobs_booking, data):
    alice.send("/start")
    alice.expect_message(containing="Hello")
    assert alice.press(data, forge=True).answer()["text"] == EXPIRED
    bobs_booking.refresh_from_db()
    assert bobs_booking.status == BookingStatus.CONFIRMED


@pytest.mark.parametrize("action", [BOOKING_CANCEL, cb.CANCEL_YES, BOOKING_CHECK_IN, cb.MY_BOOKING])
def test_another_users_booking_id_is_refused(bot, alice, bobs_booking, action):
    alice.send("/start")
    alice.expect_message(containing="Hello")
    assert alice.press(encode(action, bobs_booking.pk), forge=True).answer()["text"] == EXPIRED
    bobs_booking.refresh_from_db()
    assert bobs_booking.status == BookingStatus.CONFIRMED
    alice.expect_no_message(timeout=0.3)  # the message was not edited either


def test_a_stale_cancel_button_changes_nothing_twice(bot, bob, bobs_booking):
    bob.send("/my")
    bob.expect_message(containing="Upcoming")
    bob.press(encode(cb.CANCEL_YES, bobs_booking.pk), forge=True).answer()
    bob.expect_message(containing="cancelled")
    second = bob.press(encode(cb.CANCEL_YES, bobs_booking.pk), forge=True).answer()
    assert "cancelled" in second["text"] and second["show_alert"]
    assert bobs_booking.events.filter(to_status=BookingStatus.CANCELLED).count() == 1


def test_every_button_fits_telegrams_64_bytes_whatever_the_ids():
    from datetime import UTC, date, datetime

    biggest = 2**63 - 1
    samples = [
        cb.data(cb.BOOK, biggest, datetime(2999, 12, 31, 23, 59, tzinfo=UTC), 7 * 24 * 60),
        cb.data(cb.STARTS, biggest, date(2999, 12, 31), 9999),
        cb.data(cb.RESOURCES, 999, 999, 9999),
    ]
    assert all(len(s.encode()) <= 64 for s in samples)
    assert cb.parse(samples[0]).values[0] == biggest


def test_two_users_race_for_one_slot_one_wins_the_other_gets_alternatives(bot, alice, bob, open_resource, slot):
    start, _end = slot(hours_ahead=6)
    confirm = cb.data(cb.BOOK, open_resource.pk, start, 60)
    for user in (alice, bob):
        user.send("/start")
        user.expect_message(containing="Hello")
    answers = {}

    def press(user):
        answers[user.first_name] = user.press(confirm, forge=True).answer()

    racers = [threading.Thread(target=press, args=(user,)) for user in (alice, bob)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    results = {user.first_name: user.expect_message() for user in (alice, bob)}
    winners = [name for name, message in results.items() if "Booked" in message.text]
    losers = [name for name, message in results.items() if "just taken" in message.text]
    assert len(winners) == 1 and len(losers) == 1
    assert any("Projector:" in label for label in results[losers[0]].buttons)  # nearest free alternatives
    assert Booking.objects.filter(status=BookingStatus.CONFIRMED).count() == 1
    assert Booking.objects.get().user.first_name == winners[0]
