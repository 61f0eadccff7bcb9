"""The waitlist in the chat: Notify me when free under a slot_taken answer, the entries in /my with
Remove, and the offer message's Take it / No thanks (bookings.waitlist decides every press).

A press names a resource and an interval (join), an entry (leave) or a held booking (take, decline);
each is looked up as the pressing user's own, so a forged or stale button finds nothing.
"""

from datetime import timedelta

from django.conf import settings

from bookings import errors, rules, selectors, waitlist
from bookings.models import BookingStatus
from bot import callbacks as cb
from bot import keyboards, texts
from bot.handlers.base import Expired, Screen, view_only
from core.callbacks import WAITLIST_DECLINE, WAITLIST_TAKE


def join_button(resource, start, end):
    """Notify me when free, for [start, end) of `resource` (shown where slot_taken is)."""
    minutes = int(rules.length_of(start, end).total_seconds() // 60)
    return cb.button(texts.NOTIFY_ME, cb.WAITLIST_JOIN, resource.pk, start, minutes)


def join(actor, resource_id, start, minutes):
    resource = selectors.resource_get(resource_id=resource_id)
    if resource is None:
        raise Expired()
    end = rules.add_elapsed(start, timedelta(minutes=minutes))
    entry = waitlist.waitlist_join(user=actor.user, resource=resource, start=start, end=end)
    text = texts.waitlist_joined(
        resource.name, texts.when(entry.start, entry.end, actor.zone), settings.WAITLIST_HOLD_MINUTES
    )
    return Screen(text, [[cb.button(texts.MENU_MY, cb.MY, 0)], keyboards.to_menu()])


def leave(actor, entry_id):
    from bot.handlers import my

    entry = waitlist.waitlist_entry_get(entry_id=entry_id, user=actor.user)
    if entry is None or entry.user_id != actor.user.pk:
        raise Expired()
    waitlist.waitlist_leave(entry=entry, by=actor.user)
    screen = my.my_bookings(actor)
    screen.notice = str(texts.WAITLIST_LEFT)
    return screen


def my_section(actor):
    """/my's lines and Remove buttons for the user's open waitlist entries."""
    entries = list(waitlist.user_waitlist(user=actor.user))
    if not entries:
        return [], []
    lines = ["", str(texts.WAITLIST_TITLE)] + [texts.waitlist_line(e, actor.zone) for e in entries]
    rows = [[cb.button(texts.waitlist_remove_button_label(e, actor.zone), cb.WAITLIST_LEAVE, e.pk)] for e in entries]
    return lines, rows


def offer_rows(booking, user):
    """Take it / No thanks on a held booking's card, while the domain says the holder may answer it."""
    if not waitlist.offer_actions(booking=booking, user=user):
        return []
    return [
        [
            cb.button(texts.TAKE_IT, WAITLIST_TAKE, booking.pk),
            cb.button(texts.NO_THANKS, WAITLIST_DECLINE, booking.pk),
        ]
    ]


def take(actor, booking_id):
    booking = _own_offer(actor, booking_id)
    try:
        booking = waitlist.offer_take(booking=booking, by=actor.user)
    except (errors.OfferStale, errors.OfferLapsed) as gone:
        return Screen(gone.message, [keyboards.to_menu()], notice=gone.message)  # the buttons go with it
    text = texts.offer_taken(booking, actor.zone, pending=booking.status == BookingStatus.PENDING)
    return Screen(text, [[cb.button(texts.MENU_MY, cb.MY, 0)], keyboards.to_menu()])


def decline(actor, booking_id):
    booking = _own_offer(actor, booking_id)
    try:
        booking = waitlist.offer_decline(booking=booking, by=actor.user)
    except (errors.OfferStale, errors.OfferLapsed) as gone:
        return Screen(gone.message, [keyboards.to_menu()], notice=gone.message)
    return Screen(texts.offer_declined(booking, actor.zone), [keyboards.to_menu()])


def _own_offer(actor, booking_id):
    booking = waitlist.offer_get(booking_id=booking_id, user=actor.user)
    if booking is None:
        raise Expired()  # not theirs (or no such booking): only the holder may answer an offer
    return booking


PRESSES = {
    cb.WAITLIST_JOIN: view_only(join),
    cb.WAITLIST_LEAVE: view_only(leave),
    WAITLIST_TAKE: view_only(take),
    WAITLIST_DECLINE: view_only(decline),
}
