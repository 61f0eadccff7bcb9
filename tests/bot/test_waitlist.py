"""The waitlist in the chat (the sandbox): Notify me when free under slot_taken, /my with Remove,
and the offer message's Take it / No thanks, each press re-checked on the server."""

import pytest

from bookings import services, waitlist
from bookings.models import Booking, BookingStatus, WaitlistEntry, WaitlistState
from bot import callbacks as cb
from core import callbacks as codec
from notifications.models import NotificationKind
from tests.bot.test_loans import post_notification
from tests.bot.test_reschedule import started
from tests.bot.test_typed_and_free import typed

pytestmark = pytest.mark.django_db(transaction=True)

NOTIFY = "🔔 Notify me when free"


@pytest.fixture(autouse=True)
def offers_in_process(monkeypatch):
    """The offer task runs in-process on commit of the freeing change (no worker in this suite)."""
    monkeypatch.setattr(waitlist, "enqueue_offer", lambda rid: waitlist.waitlist_offer_resource(resource_id=rid))


def test_a_taken_slot_is_waited_for_offered_and_taken_in_the_chat(bot, sandbox, alice, bob, open_resource, slot):
    owner = started(bob)
    user = started(alice)
    start, end = slot(hours_ahead=5)
    theirs = services.booking_create(user=owner, resource=open_resource, start=start, end=end)

    alice.send(f"/book proj {typed(start, 1)}")
    refused = alice.expect_message(containing="Someone has just taken this time")
    assert NOTIFY in refused.buttons
    alice.press(NOTIFY).answer()
    alice.expect_message(containing="You are on the waitlist for Projector")
    entry = WaitlistEntry.objects.get(user=user)
    assert (entry.start, entry.end, entry.state) == (start, end, WaitlistState.WAITING)

    alice.send("/my")
    mine = alice.expect_message(containing="Waiting for")
    assert any(label.startswith("Remove: Projector") for label in mine.buttons)

    services.booking_cancel(booking=theirs, by=owner)  # the offer is made on commit
    offered = Booking.objects.get(user=user, status=BookingStatus.HELD)
    post_notification(sandbox, NotificationKind.WAITLIST_OFFER)
    offer = alice.expect_message(containing="Free now")
    assert {"Take it", "No thanks"} <= set(offer.buttons)

    # Only the holder may answer it: Bob's forged Take it finds nothing.
    bob_answer = bob.press(codec.encode(codec.WAITLIST_TAKE, offered.pk), forge=True).answer()
    assert "expired" in bob_answer["text"]
    assert Booking.objects.get(pk=offered.pk).status == BookingStatus.HELD

    alice.press("Take it").answer()
    alice.expect_message(containing="Taken: Projector")
    assert Booking.objects.get(pk=offered.pk).status == BookingStatus.CONFIRMED
    # A second press of the (now stale) offer says so and changes nothing.
    stale = alice.press(codec.encode(codec.WAITLIST_DECLINE, offered.pk), forge=True).answer()
    assert "not open any more" in stale["text"]
    assert Booking.objects.get(pk=offered.pk).status == BookingStatus.CONFIRMED


def test_remove_in_my_takes_the_user_off_the_waitlist(bot, alice, bob, open_resource, slot):
    owner = started(bob)
    user = started(alice)
    start, end = slot(hours_ahead=6)
    services.booking_create(user=owner, resource=open_resource, start=start, end=end)
    entry = waitlist.waitlist_join(user=user, resource=open_resource, start=start, end=end)
    alice.send("/my")
    alice.expect_message(containing="Waiting for")
    answer = alice.press(cb.data(cb.WAITLIST_LEAVE, entry.pk)).answer()
    assert "Removed from the waitlist" in answer["text"]
    assert WaitlistEntry.objects.get(pk=entry.pk).state == WaitlistState.LEFT
