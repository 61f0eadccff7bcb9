"""The waitlist through the services (bookings.waitlist): join, the offer on each freeing event, take,
decline, lapse, and who comes next.

The default resource is equipment open 8:00–20:00 every day; the clock stands at Monday 08:00.
The offer task is run in-process on commit of the freeing change (the `offers` fixture), at the
test's clock, so each freeing event is seen to produce its offer.
"""

from datetime import timedelta

import pytest

from bookings import errors, policies, services, waitlist
from bookings.models import (
    REASON_OFFER_DECLINED,
    REASON_OFFER_LAPSED,
    Booking,
    BookingStatus,
    Closure,
    QuotaRule,
    WaitlistEntry,
    WaitlistState,
)
from bookings.reschedule import booking_move
from notifications.models import Notification, NotificationKind

from .conftest import assert_no_overlaps, history

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(now):
    """The time the offer task runs at (tests move it, e.g. past a hold)."""
    return {"now": now}


@pytest.fixture
def offers(monkeypatch, clock, django_capture_on_commit_callbacks):
    """Run the offer task in-process on commit (at clock["now"]); offers(fn) runs fn and returns the offers made."""
    made = []

    def run_offer(resource_id):
        made.extend(waitlist.waitlist_offer_resource(resource_id=resource_id, now=clock["now"]))
        return True

    monkeypatch.setattr(waitlist, "enqueue_offer", run_offer)

    def run(fn):
        made.clear()
        with django_capture_on_commit_callbacks(execute=True):
            fn()
        return list(made)

    return run


@pytest.fixture
def waiters(make_user):
    return [make_user(first_name=name, telegram_id=1000 + n) for n, name in enumerate(["Wanda", "Walt", "Wes"])]


def join(user, resource, start, end, now):
    return waitlist.waitlist_join(user=user, resource=resource, start=start, end=end, now=now)


def held_of(user):
    return list(Booking.objects.filter(user=user, status=BookingStatus.HELD))


def entry_state(entry):
    return WaitlistEntry.objects.get(pk=entry.pk).state


# --- Joining ---------------------------------------------------------------------------


def test_joining_a_free_time_is_refused_the_user_should_book_it(resource, user, at, now):
    with pytest.raises(errors.WaitlistSlotFree) as refused:
        join(user, resource, at(10), at(11), now)
    assert refused.value.code == "waitlist_slot_free"
    assert not WaitlistEntry.objects.exists()


def test_joining_a_taken_time_twice_gives_one_entry(resource, user, other_user, book, at, now):
    book(resource, at(10), at(11), by=other_user)
    first = join(user, resource, at(10), at(11), now)
    again = join(user, resource, at(10), at(11), now)
    assert first.pk == again.pk and first.state == WaitlistState.WAITING
    assert WaitlistEntry.objects.count() == 1


def test_joining_breaks_no_booking_rule_and_a_broken_one_changes_nothing(resource, user, other_user, book, at, now):
    book(resource, at(10), at(11), by=other_user)
    with pytest.raises(errors.OutsideOpeningHours):
        join(user, resource, at(20), at(21), now)
    with pytest.raises(errors.InvalidTimeRange):
        join(user, resource, at(11), at(10), now)
    assert not WaitlistEntry.objects.exists()


def test_a_user_waits_for_at_most_the_configured_number_of_times(settings, resource, user, other_user, book, at, now):
    settings.WAITLIST_MAX_ENTRIES = 2
    for hour in (10, 12, 14):
        book(resource, at(hour), at(hour + 1), by=other_user)
    join(user, resource, at(10), at(11), now)
    join(user, resource, at(12), at(13), now)
    with pytest.raises(errors.WaitlistFull) as refused:
        join(user, resource, at(14), at(15), now)
    assert refused.value.code == "waitlist_full" and "2" in refused.value.message
    assert WaitlistEntry.objects.filter(user=user).count() == 2


def test_leaving_takes_the_user_out_of_line_and_past_entries_disappear(resource, user, other_user, book, at, now):
    book(resource, at(10), at(11), by=other_user)
    entry = join(user, resource, at(10), at(11), now)
    assert list(waitlist.user_waitlist(user=user, now=now)) == [entry]
    assert list(waitlist.user_waitlist(user=user, now=at(10))) == []  # past its start: not listed
    with pytest.raises(errors.NotAllowed):
        waitlist.waitlist_leave(entry=entry, by=other_user, now=now)
    waitlist.waitlist_leave(entry=entry, by=user, now=now)
    assert entry_state(entry) == WaitlistState.LEFT
    with pytest.raises(errors.WaitlistEntryGone):
        waitlist.waitlist_leave(entry=WaitlistEntry.objects.get(pk=entry.pk), by=user, now=now)
    later = join(user, resource, at(10), at(11), now)
    assert waitlist.waitlist_drop_past(now=at(10)) == 1
    assert not WaitlistEntry.objects.filter(pk=later.pk).exists()


# --- Each freeing event gives one offer -------------------------------------------------


def _cancel(ctx):
    services.booking_cancel(booking=ctx["booking"], by=ctx["owner"], now=ctx["now"])


def _reject(ctx):
    services.booking_reject(booking=ctx["booking"], by=ctx["staff"], now=ctx["now"])


def _no_show(ctx):
    ctx["clock"]["now"] = ctx["at"](10, 16)
    services.bookings_expire_no_shows(now=ctx["at"](10, 16))


def _move(ctx):
    booking_move(booking=ctx["booking"], by=ctx["owner"], start=ctx["at"](15), end=ctx["at"](16), now=ctx["now"])


FREEING_EVENTS = {
    "cancel": ({}, _cancel),
    "reject": ({"requires_approval": True}, _reject),
    "no_show_expiry": ({"requires_check_in": True}, _no_show),
    "move": ({}, _move),
}


@pytest.mark.parametrize("event", sorted(FREEING_EVENTS))
def test_each_freeing_event_offers_the_time_to_the_first_waiter_once(
    event, make_resource, make_user, staff, waiters, at, now, clock, offers
):
    fields, free_it = FREEING_EVENTS[event]
    resource = make_resource(**fields)
    owner = make_user()
    # The no-show's waiter wants the rest of its slot (its start has passed by then).
    start = at(10, 30) if event == "no_show_expiry" else at(10)
    booking = services.booking_create(user=owner, resource=resource, start=at(10), end=at(11), now=now)
    first = join(waiters[0], resource, start, at(11), now)
    join(waiters[1], resource, start, at(11), now)

    made = offers(
        lambda: free_it({"booking": booking, "owner": owner, "staff": staff, "now": now, "at": at, "clock": clock})
    )

    assert [(b.user_id, b.status, b.start) for b in made] == [(waiters[0].pk, BookingStatus.HELD, start)]
    assert entry_state(first) == WaitlistState.OFFERED
    offer = Notification.objects.get(kind=NotificationKind.WAITLIST_OFFER)
    assert offer.booking_id == made[0].pk and offer.user_id == waiters[0].pk
    assert held_of(waiters[1]) == []
    assert_no_overlaps()


def test_an_early_return_offers_the_rest_of_the_slot(make_resource, make_user, waiters, at, now, clock, offers):
    resource = make_resource(requires_check_in=True)
    owner = make_user()
    booking = services.booking_create(user=owner, resource=resource, start=at(10), end=at(12), now=now)
    services.booking_check_in(booking=booking, by=owner, now=at(9, 50))
    join(waiters[0], resource, at(11), at(12), now)
    clock["now"] = at(10, 30)
    made = offers(lambda: services.booking_return(booking=booking, by=owner, now=at(10, 30)))
    assert [(b.user_id, b.start, b.end) for b in made] == [(waiters[0].pk, at(11), at(12))]


def test_lifting_a_closure_offers_its_time(resource, make_user, staff, waiters, at, now, offers):
    owner = make_user()
    services.booking_create(user=owner, resource=resource, start=at(10), end=at(11), now=now)
    entry = join(waiters[0], resource, at(10), at(11), now)
    # The closure cancels the booking (time freed), but its time is closed: nobody is offered it yet.
    made = offers(
        lambda: policies.closure_create(
            resource=resource, start=at(9), end=at(12), reason_kind="maintenance", by=staff, now=now
        )
    )
    assert made == [] and entry_state(entry) == WaitlistState.WAITING
    closure = Closure.objects.get()
    made = offers(lambda: policies.closure_delete(closure=closure, by=staff, now=now))
    assert [(b.user_id, b.start) for b in made] == [(waiters[0].pk, at(10))]
    assert not Closure.objects.exists()


def test_a_waiter_whose_whole_interval_is_not_free_is_skipped_for_the_next(
    resource, make_user, waiters, at, now, offers
):
    owner, neighbour = make_user(), make_user()
    booking = services.booking_create(user=owner, resource=resource, start=at(10), end=at(11), now=now)
    services.booking_create(user=neighbour, resource=resource, start=at(11), end=at(12), now=now)
    join(waiters[0], resource, at(10), at(12), now)  # wants more than will be free
    join(waiters[1], resource, at(10), at(11), now)
    made = offers(lambda: services.booking_cancel(booking=booking, by=owner, now=now))
    assert [b.user_id for b in made] == [waiters[1].pk]


def test_a_waiter_over_a_quota_is_passed_over_and_the_held_booking_counts_against_the_holder(
    resource, make_user, waiters, at, now, offers
):
    QuotaRule.objects.create(resource=resource, kind="live", limit=1)
    owner = make_user()
    booking = services.booking_create(user=owner, resource=resource, start=at(10), end=at(11), now=now)
    services.booking_create(user=waiters[0], resource=resource, start=at(14), end=at(15), now=now)
    join(waiters[0], resource, at(10), at(11), now)  # already at the limit
    join(waiters[1], resource, at(10), at(11), now)
    made = offers(lambda: services.booking_cancel(booking=booking, by=owner, now=now))
    assert [b.user_id for b in made] == [waiters[1].pk]
    # The hold counts: the holder may not book anything else of the resource meanwhile.
    with pytest.raises(errors.QuotaExceeded):
        services.booking_create(user=waiters[1], resource=resource, start=at(16), end=at(17), now=now)


def test_nobody_else_can_book_a_held_slot(resource, make_user, waiters, at, now, offers):
    owner = make_user()
    booking = services.booking_create(user=owner, resource=resource, start=at(10), end=at(11), now=now)
    join(waiters[0], resource, at(10), at(11), now)
    offers(lambda: services.booking_cancel(booking=booking, by=owner, now=now))
    with pytest.raises(errors.SlotTaken):
        services.booking_create(user=owner, resource=resource, start=at(10), end=at(11), now=now)
    assert_no_overlaps()


# --- Two freed slots, three waiters; decline; lapse ---------------------------------------


def test_two_freed_slots_and_three_waiters(resource, make_user, waiters, at, now, clock, offers):
    owner = make_user()
    ten = services.booking_create(user=owner, resource=resource, start=at(10), end=at(11), now=now)
    noon = services.booking_create(user=owner, resource=resource, start=at(12), end=at(13), now=now)
    wanda, walt, wes = waiters
    join(wanda, resource, at(10), at(11), now)
    join(walt, resource, at(10), at(11), now)
    join(wes, resource, at(12), at(13), now)

    made = offers(lambda: services.booking_cancel(booking=ten, by=owner, now=now))
    made += offers(lambda: services.booking_cancel(booking=noon, by=owner, now=now))
    assert sorted((b.user_id, b.start) for b in made) == sorted([(wanda.pk, at(10)), (wes.pk, at(12))])
    assert held_of(walt) == []

    # Wanda says No thanks: Walt, next in line, is offered ten o'clock.
    wanda_offer = held_of(wanda)[0]
    made = offers(lambda: waitlist.offer_decline(booking=wanda_offer, by=wanda, now=now))
    assert [(b.user_id, b.start) for b in made] == [(walt.pk, at(10))]
    assert history(wanda_offer)[-1] == ("held", "cancelled", wanda.pk, REASON_OFFER_DECLINED)

    # Wes takes his: confirmed, his entry served.
    taken = waitlist.offer_take(booking=held_of(wes)[0], by=wes, now=now)
    assert Booking.objects.get(pk=taken.pk).status == BookingStatus.CONFIRMED
    assert WaitlistEntry.objects.get(user=wes).state == WaitlistState.TAKEN
    assert_no_overlaps()


def test_an_offer_not_taken_in_time_lapses_to_the_next_waiter(resource, make_user, waiters, at, now, clock, offers):
    owner = make_user()
    booking = services.booking_create(user=owner, resource=resource, start=at(10), end=at(11), now=now)
    first = join(waiters[0], resource, at(10), at(11), now)
    join(waiters[1], resource, at(10), at(11), now)
    offered = offers(lambda: services.booking_cancel(booking=booking, by=owner, now=now))[0]
    assert offered.held_until == now + timedelta(minutes=10)

    assert waitlist.waitlist_lapse_due(now=now + timedelta(minutes=9)) == 0
    clock["now"] = now + timedelta(minutes=10)
    made = offers(lambda: waitlist.waitlist_lapse_due(now=clock["now"]))
    assert [b.user_id for b in made] == [waiters[1].pk]
    assert Booking.objects.get(pk=offered.pk).status == BookingStatus.EXPIRED
    assert history(offered)[-1] == ("held", "expired", None, REASON_OFFER_LAPSED)
    assert entry_state(first) == WaitlistState.LAPSED
    assert Notification.objects.filter(kind=NotificationKind.WAITLIST_LAPSED, user=waiters[0]).count() == 1
    with pytest.raises(errors.OfferLapsed):
        waitlist.offer_take(booking=offered, by=waiters[0], now=clock["now"])


def test_an_offer_is_held_no_longer_than_until_its_start(resource, make_user, waiters, at, now, offers):
    owner = make_user()
    booking = services.booking_create(user=owner, resource=resource, start=at(8, 30), end=at(9), now=now)
    join(waiters[0], resource, at(8, 30), at(9), now)
    offered = offers(lambda: services.booking_cancel(booking=booking, by=owner, now=now))[0]
    assert offered.held_until == min(now + timedelta(minutes=10), at(8, 30))


# --- Taking and declining ---------------------------------------------------------------


def test_only_the_holder_may_take_or_decline(resource, make_user, waiters, at, now, offers):
    owner = make_user()
    booking = services.booking_create(user=owner, resource=resource, start=at(10), end=at(11), now=now)
    join(waiters[0], resource, at(10), at(11), now)
    offered = offers(lambda: services.booking_cancel(booking=booking, by=owner, now=now))[0]
    for who in (waiters[1], owner):
        with pytest.raises(errors.NotAllowed):
            waitlist.offer_take(booking=offered, by=who, now=now)
        with pytest.raises(errors.NotAllowed):
            waitlist.offer_decline(booking=offered, by=who, now=now)
    assert Booking.objects.get(pk=offered.pk).status == BookingStatus.HELD


def test_taking_an_offer_of_a_resource_that_needs_approval_asks_the_admins(
    make_resource, make_user, staff, waiters, at, now, offers
):
    resource = make_resource(requires_approval=True)
    owner = make_user()
    booking = services.booking_create(user=owner, resource=resource, start=at(10), end=at(11), now=now)
    services.booking_approve(booking=booking, by=staff, now=now)
    join(waiters[0], resource, at(10), at(11), now)
    offered = offers(lambda: services.booking_cancel(booking=booking, by=owner, now=now))[0]
    taken = waitlist.offer_take(booking=offered, by=waiters[0], now=now)
    assert taken.status == BookingStatus.PENDING
    assert history(taken)[-1] == ("held", "pending", waiters[0].pk, "")


def test_a_declined_offer_cannot_be_taken_and_a_taken_one_not_declined(resource, make_user, waiters, at, now, offers):
    owner = make_user()
    first = services.booking_create(user=owner, resource=resource, start=at(10), end=at(11), now=now)
    second = services.booking_create(user=owner, resource=resource, start=at(12), end=at(13), now=now)
    join(waiters[0], resource, at(10), at(11), now)
    join(waiters[0], resource, at(12), at(13), now)
    declined = offers(lambda: services.booking_cancel(booking=first, by=owner, now=now))[0]
    taken = offers(lambda: services.booking_cancel(booking=second, by=owner, now=now))[0]
    waitlist.offer_decline(booking=declined, by=waiters[0], now=now)
    waitlist.offer_take(booking=taken, by=waiters[0], now=now)
    with pytest.raises(errors.OfferStale) as stale:
        waitlist.offer_take(booking=Booking.objects.get(pk=declined.pk), by=waiters[0], now=now)
    assert stale.value.code == "offer_stale"
    with pytest.raises(errors.OfferStale):
        waitlist.offer_decline(booking=Booking.objects.get(pk=taken.pk), by=waiters[0], now=now)


def test_the_offer_message_is_written_once_and_goes_stale_when_answered(resource, make_user, waiters, at, now, offers):
    from notifications import texts

    owner = make_user()
    booking = services.booking_create(user=owner, resource=resource, start=at(10), end=at(11), now=now)
    join(waiters[0], resource, at(10), at(11), now)
    offered = offers(lambda: services.booking_cancel(booking=booking, by=owner, now=now))[0]
    row = Notification.objects.select_related("booking__resource", "user").get(kind=NotificationKind.WAITLIST_OFFER)
    message = texts.render(row, now=now)
    buttons = [b["callback_data"] for b in message.reply_markup["inline_keyboard"][0]]
    assert buttons == [f"wtk:{_b36(offered.pk)}", f"wdc:{_b36(offered.pk)}"]
    waitlist.offer_take(booking=offered, by=waiters[0], now=now)
    row.refresh_from_db()
    row.booking.refresh_from_db()
    assert texts.render(row, now=now) is None  # answered before its turn: not sent


def _b36(number):
    from core.callbacks import _to_base36

    return _to_base36(number)


# --- Settings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"WAITLIST_HOLD_MINUTES": "0"}, "WAITLIST_HOLD_MINUTES: must be at least 1"),
        ({"WAITLIST_MAX_ENTRIES": "many"}, "WAITLIST_MAX_ENTRIES: expected a whole number"),
    ],
)
def test_bad_waitlist_settings_stop_start_up_naming_the_variable(tmp_path, variables, named):
    from .test_settings import start_django

    result = start_django(tmp_path, DEBUG="1", **variables)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == f"django.core.exceptions.ImproperlyConfigured: {named}, got " + (
        "0" if "HOLD" in named else "'many'"
    )


def test_the_sweep_lapses_drops_and_offers_in_one_run(resource, make_user, waiters, at, now, monkeypatch):
    from bookings import tasks

    monkeypatch.setattr(waitlist, "enqueue_offer", lambda resource_id: True)  # the sweep itself offers
    owner = make_user()
    ten = services.booking_create(user=owner, resource=resource, start=at(10), end=at(11), now=now)
    join(waiters[0], resource, at(10), at(11), now)
    services.booking_cancel(booking=ten, by=owner, now=now)  # its offer task "lost": nobody offered yet
    assert held_of(waiters[0]) == []
    monkeypatch.setattr(waitlist.timezone, "now", lambda: now)
    assert tasks.waitlist_sweep() == {"lapsed": 0, "dropped": 0, "offered": 1}
    assert len(held_of(waiters[0])) == 1
