"""Pools in the bot, end to end against the sandbox: the pool card with free counts, the quantity,
the request in /my with its units, cancelling one unit and then the rest."""

from datetime import timedelta

import pytest

from bookings import pools
from bookings.models import Booking, BookingStatus, PoolRequest
from bot import callbacks

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def laptops(make_pool):
    return make_pool(5, hours=None)


def test_booking_two_laptops_from_the_pool_card_then_cancelling_one_and_the_rest(bot, alice, laptops, errors_seen):
    alice.send("/pools")
    alice.expect_message(containing="Pools of identical items")
    alice.press("Laptops (5)").answer()
    card = alice.expect_message(containing="Laptops: 5 of 5 free")
    interval = next(label for label in card.buttons if label.endswith(" · 5"))
    alice.press(interval).answer()
    asked = alice.expect_message(containing="How many units of Laptops")
    assert [label for label in asked.buttons if label.isdigit()] == ["1", "2", "3", "4", "5"]
    assert alice.press("2").answer()["text"] == "Booked 2 units."
    alice.expect_message(containing="Laptops ×2")
    request = PoolRequest.objects.get()
    first, second = request.bookings.order_by("resource_id")
    assert (first.resource.name, second.resource.name) == ("Laptops 1", "Laptops 2")
    assert {first.status, second.status} == {BookingStatus.CONFIRMED}

    alice.send("/my")
    mine = alice.expect_message(containing="Pool requests:")
    assert "Laptops 1, Laptops 2" in mine.text
    alice.press(next(label for label in mine.buttons if label.startswith("Laptops ×2"))).answer()
    card = alice.expect_message(containing="• Laptops 1")
    assert "✖️ Cancel all" in card.buttons
    alice.press(f"#{first.pk} Laptops 1").answer()
    alice.expect_message(containing=f"#{first.pk}")
    alice.press("✖️ Cancel booking").answer()
    alice.expect_message(containing="Cancel your booking")
    alice.press("Yes, cancel it").answer()
    alice.expect_message(containing="Status")
    first.refresh_from_db()
    assert first.status == BookingStatus.CANCELLED

    alice.send("/my")
    mine = alice.expect_message(containing="Pool requests:")
    alice.press(next(label for label in mine.buttons if label.startswith("Laptops ×1"))).answer()
    alice.expect_message(containing="• Laptops 2")
    assert alice.press("✖️ Cancel all").answer()["text"] == "Cancelled 1 unit."
    alice.expect_message(containing="Laptops 2")
    assert set(Booking.objects.values_list("status", flat=True)) == {BookingStatus.CANCELLED}
    assert not errors_seen


def test_asking_for_more_laptops_than_are_left_is_answered_not_enough_units(
    bot, alice, laptops, make_user, errors_seen
):
    alice.send("/pools")
    alice.expect_message(containing="Pools of identical items")
    alice.press("Laptops (5)").answer()
    card = alice.expect_message(containing="Laptops: 5 of 5 free")
    alice.press(next(label for label in card.buttons if label.endswith(" · 5"))).answer()
    asked = alice.expect_message(containing="How many units")
    _pool_id, start, minutes, _n = callbacks.parse(asked.button_data["2"]).values
    # Meanwhile someone else takes four of them for the same time.
    end = start + timedelta(minutes=minutes)
    pools.pool_book(user=make_user(), pool=laptops, start=start, end=end, quantity=4)
    answer = alice.press("2").answer()
    assert "only 1 is free" in answer["text"]
    assert Booking.objects.count() == 4 and not PoolRequest.objects.filter(user__telegram_id=alice.id).exists()
    assert not errors_seen


def test_at_check_in_the_unit_is_swapped_for_another_free_one(
    bot, alice, make_pool, make_user, slot, django_user_model, errors_seen
):
    laptops = make_pool(3, hours=None, requires_check_in=True, check_in_opens_minutes=24 * 60)
    alice.send("/start")
    alice.expect_message(containing="Hello")
    owner = django_user_model.objects.get(telegram_id=alice.id)
    start, end = slot(hours_ahead=3)
    booking = pools.pool_book(user=owner, pool=laptops, start=start, end=end, quantity=1).bookings.get()
    pools.pool_book(user=make_user(), pool=laptops, start=start, end=end, quantity=1)  # takes Laptops 2
    alice.send("/my")
    mine = alice.expect_message(containing="Pool requests:")
    alice.press(next(label for label in mine.buttons if label.startswith("Laptops ×1"))).answer()
    card = alice.expect_message(containing="• Laptops 1")
    assert any("Check in" in label for label in card.buttons)  # the swap is offered at check-in
    alice.press("🔁 Other unit").answer()
    choices = alice.expect_message(containing="Take another unit instead of Laptops 1")
    assert [label for label in choices.buttons if label.startswith("Laptops")] == ["Laptops 3"]
    assert alice.press("Laptops 3").answer()["text"] == "You take Laptops 3."
    alice.expect_message(containing="• Laptops 3")
    booking.refresh_from_db()
    assert booking.resource.name == "Laptops 3"
    assert not errors_seen
