"""The waitlist: wait for a taken interval, get it offered (held for you) when it is free again.

`waitlist_join` puts a user in line for [start, end) of a resource that is
taken now (`slot_taken`); first come, first offered. When time on the
resource becomes free (`time_freed`: a cancel, a rejection, an expiry, an
early return, a move, a lifted closure, a declined or lapsed offer), the
offer task runs on commit of that change (`waitlist_offer_resource`, the
`waitlist` queue) and offers the freed time to the first waiter whose whole
interval is now bookable under every rule, quotas included: it books it for
them through services.booking_create, as a *held* booking (a live status the
exclusion constraint counts) until `held_until` (WAITLIST_HOLD_MINUTES).

The holder takes it (`offer_take`: held → confirmed, or pending when the
resource needs approval) or declines it (`offer_decline`: held → cancelled);
an offer not taken by `held_until` lapses (held → expired, the sweep
`waitlist_sweep`). Either way its time is freed and the next waiter is
offered it. Take and lapse are both one conditional UPDATE on the held row
(`WHERE status = 'held'`, and the clock on opposite sides of `held_until`),
so exactly one of them wins a race.

Entries past their start disappear (the sweep deletes them; reads skip them).
"""

import logging
from datetime import UTC, datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from kombu.exceptions import KombuError, OperationalError

from bookings import availability, errors, policies, rules, services
from bookings.actions import require_staff
from bookings.models import (
    OPEN_WAITLIST_STATES,
    REASON_OFFER_DECLINED,
    REASON_OFFER_LAPSED,
    Booking,
    BookingStatus,
    Resource,
    WaitlistEntry,
    WaitlistState,
)
from bookings.signals import time_freed
from core import tasknames
from core.models import User

logger = logging.getLogger(__name__)


# --- Joining and leaving -------------------------------------------------------------


def waitlist_join(
    *, user: User, resource: Resource, start: datetime, end: datetime, now: datetime | None = None
) -> WaitlistEntry:
    """Put `user` in line for [start, end) of `resource`, or raise a BookingError.

    The interval must be one the user could book (the resource's rules, access),
    and taken now: waitlist_slot_free otherwise. At most WAITLIST_MAX_ENTRIES open
    entries per user (waitlist_full). Joining the same interval again gives the
    same entry (a double tap does not queue twice).
    """
    now = now or timezone.now()
    rules.validate_booking_times(resource, start, end, now=now)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    access = policies.resources_bookable_by(user=user, resources=[resource])[resource.pk]
    if not access.bookable:
        raise policies.not_permitted(access)
    with transaction.atomic():
        services.lock_user(user)  # the cap, one request of the user at a time
        mine = WaitlistEntry.objects.filter(user=user, state__in=OPEN_WAITLIST_STATES, start__gt=now)
        same = mine.filter(resource=resource, start=start, end=end).first()
        if same is not None:
            return same
        blocked_until = end + resource.buffer
        if not availability.live_bookings_meeting(resource_ids=[resource.pk], start=start, end=blocked_until).exists():
            raise errors.WaitlistSlotFree()
        limit = settings.WAITLIST_MAX_ENTRIES
        if mine.count() >= limit:
            raise errors.WaitlistFull(limit=limit)
        try:
            with transaction.atomic():
                return WaitlistEntry.objects.create(user=user, resource=resource, start=start, end=end, created_at=now)
        except IntegrityError:
            # An entry past its start that the sweep has not dropped yet keeps the key: drop it and queue afresh.
            WaitlistEntry.objects.filter(user=user, resource=resource, start=start, end=end).filter(
                state__in=OPEN_WAITLIST_STATES, start__lte=now
            ).delete()
            return WaitlistEntry.objects.create(user=user, resource=resource, start=start, end=end, created_at=now)


def waitlist_leave(*, entry: WaitlistEntry, by: User, now: datetime | None = None) -> WaitlistEntry:
    """The user (or staff) leaves the line; an entry holding an offer declines it (its time goes on).
    waitlist_entry_gone when the entry is not open any more (left, served, lapsed)."""
    now = now or timezone.now()
    _require_owner_or_staff(entry, by)
    if entry.state == WaitlistState.OFFERED and entry.booking_id:
        booking = Booking.objects.select_related("resource", "user").get(pk=entry.booking_id)
        offer_decline(booking=booking, by=booking.user, now=now)  # the holder's No thanks, staff or not
        entry.refresh_from_db()
        return entry
    left = WaitlistEntry.objects.filter(pk=entry.pk, state=WaitlistState.WAITING).update(state=WaitlistState.LEFT)
    if not left:
        raise errors.WaitlistEntryGone()
    entry.state = WaitlistState.LEFT
    return entry


def _require_owner_or_staff(entry, user):
    if not user or entry.user_id != user.pk:
        require_staff(user)


# --- Reads ---------------------------------------------------------------------------


def user_waitlist(*, user: User, now: datetime | None = None) -> QuerySet[WaitlistEntry]:
    """The user's open entries (waiting, or holding an offer) not yet past their start, soonest first."""
    now = now or timezone.now()
    return (
        WaitlistEntry.objects.filter(user=user, state__in=OPEN_WAITLIST_STATES, start__gt=now)
        .select_related("resource", "booking")
        .order_by("start", "id")
    )


def waitlist_entry_get(*, entry_id: int, user: User) -> WaitlistEntry | None:
    """The user's own open entry with this id (staff: anyone's), or None: a forged id finds nothing."""
    entry = WaitlistEntry.objects.filter(pk=entry_id).select_related("resource", "user", "booking").first()
    if entry is None or (entry.user_id != user.pk and not user.is_staff):
        return None
    return entry


def offer_get(*, booking_id: int, user: User) -> Booking | None:
    """The held booking with this id if it is `user`'s own (only the holder may take or decline it), or None."""
    booking = Booking.objects.filter(pk=booking_id).select_related("resource", "user").first()
    if booking is None or booking.user_id != user.pk:
        return None
    return booking


def offer_actions(*, booking: Booking, user, now: datetime | None = None) -> list[str]:
    """["take", "decline"] when `booking` is a held offer of `user` still open now, else []: the buttons
    (the bot's offer message, the API's `actions`) exactly when the press would be accepted."""
    now = now or timezone.now()
    mine = user is not None and getattr(user, "pk", None) is not None and booking.user_id == user.pk
    if not mine or booking.status != BookingStatus.HELD or booking.held_until is None or booking.held_until <= now:
        return []
    return [TAKE, DECLINE]


TAKE, DECLINE = "take", "decline"


def waiting_count(*, resource: Resource, start: datetime, end: datetime, now: datetime | None = None) -> int:
    """How many wait for time meeting [start, end) of `resource` (for the admin and the bot's join screen)."""
    now = now or timezone.now()
    return WaitlistEntry.objects.filter(
        resource=resource, state=WaitlistState.WAITING, start__lt=end, end__gt=start, start__gt=now
    ).count()


# --- The offer: take it, decline it, let it lapse ------------------------------------


def offer_take(*, booking: Booking, by: User, now: datetime | None = None) -> Booking:
    """The holder takes their offer: held → confirmed (pending when the resource needs approval).

    One conditional UPDATE (`status = held AND held_until > now`); the lapse sweep's
    is the opposite condition, so of a take and a lapse at once exactly one wins.
    Refusals: not_allowed (not the holder), offer_lapsed, offer_stale.
    """
    now = now or timezone.now()
    if by is None or booking.user_id != by.pk:
        raise errors.NotAllowed()
    to_status = BookingStatus.PENDING if booking.resource.requires_approval else BookingStatus.CONFIRMED
    with transaction.atomic():
        taken = Booking.objects.filter(pk=booking.pk, status=BookingStatus.HELD, held_until__gt=now).update(
            status=to_status, updated_at=now
        )
        if not taken:
            booking.refresh_from_db()
            if booking.status == BookingStatus.HELD:
                # Its time is up, the sweep has not seen it yet: it lapses now, and the next waiter is offered it.
                waitlist_lapse_due(now=now, booking_ids=[booking.pk])
                raise errors.OfferLapsed()
            if booking.status == BookingStatus.EXPIRED and _entry_state(booking) == WaitlistState.LAPSED:
                raise errors.OfferLapsed()
            raise errors.OfferStale()
        booking.status, booking.updated_at = to_status, now
        WaitlistEntry.objects.filter(booking=booking, state=WaitlistState.OFFERED).update(state=WaitlistState.TAKEN)
        services._record([booking], from_status=BookingStatus.HELD, to_status=to_status, by=by, reason="", at=now)
    return booking


def offer_decline(*, booking: Booking, by: User, now: datetime | None = None) -> Booking:
    """The holder says No thanks: held → cancelled; its time goes to the next waiter. Refusals as offer_take."""
    now = now or timezone.now()
    if by is None or booking.user_id != by.pk:
        raise errors.NotAllowed()
    with transaction.atomic():
        declined = Booking.objects.filter(pk=booking.pk, status=BookingStatus.HELD).update(
            status=BookingStatus.CANCELLED, updated_at=now
        )
        if not declined:
            booking.refresh_from_db()
            if booking.status == BookingStatus.EXPIRED and _entry_state(booking) == WaitlistState.LAPSED:
                raise errors.OfferLapsed()
            raise errors.OfferStale()
        booking.status, booking.updated_at = BookingStatus.CANCELLED, now
        WaitlistEntry.objects.filter(booking=booking, state=WaitlistState.OFFERED).update(state=WaitlistState.DECLINED)
        # Cancelled from a live status: _record sends time_freed, so the next waiter is offered it on commit.
        services._record(
            [booking],
            from_status=BookingStatus.HELD,
            to_status=BookingStatus.CANCELLED,
            by=by,
            reason=REASON_OFFER_DECLINED,
            at=now,
        )
    return booking


def _entry_state(booking):
    return WaitlistEntry.objects.filter(booking=booking).values_list("state", flat=True).first()


def waitlist_lapse_due(*, now: datetime | None = None, booking_ids=None) -> int:
    """Held bookings past held_until → expired (their entries lapsed); each frees its time for the next waiter."""
    now = now or timezone.now()
    due = Booking.objects.filter(status=BookingStatus.HELD, held_until__lte=now)
    if booking_ids is not None:
        due = due.filter(pk__in=booking_ids)

    def lapse_entries(moved):
        WaitlistEntry.objects.filter(booking__in=moved, state=WaitlistState.OFFERED).update(state=WaitlistState.LAPSED)

    return services._sweep(due, BookingStatus.HELD, BookingStatus.EXPIRED, REASON_OFFER_LAPSED, now, then=lapse_entries)


# --- Offering -------------------------------------------------------------------------


def hold_deadline(start: datetime, now: datetime) -> datetime:
    """Until when an offer made now is held: WAITLIST_HOLD_MINUTES, but never past the booking's start."""
    return min(now + timedelta(minutes=settings.WAITLIST_HOLD_MINUTES), start)


def waitlist_offer_resource(*, resource_id: int, now: datetime | None = None) -> list[Booking]:
    """Offer free time of a resource to its waiters, first come first: a held booking for each first
    waiter whose whole interval is bookable now (every rule, quotas included). Returns the offers made.

    Each offer is its own transaction, under the locks booking_create takes (the waiter's row, then
    the resource's), so two offer tasks at once cannot both offer one interval: the exclusion
    constraint and the resource lock make the second meet the first's held booking (slot_taken).
    """
    now = now or timezone.now()
    resource = Resource.objects.filter(pk=resource_id).first()
    if resource is None or not resource.is_active or resource.out_of_service:
        return []
    offers = []
    waiting = (
        WaitlistEntry.objects.filter(resource=resource, state=WaitlistState.WAITING, start__gt=now)
        .select_related("user")
        .order_by("created_at", "id")
    )
    for entry in waiting:
        blocked_until = entry.end + resource.buffer
        if availability.live_bookings_meeting(
            resource_ids=[resource.pk], start=entry.start, end=blocked_until
        ).exists():
            continue  # still taken (cheap pre-check; booking_create decides)
        booking = _offer(entry, resource, now)
        if booking is not None:
            offers.append(booking)
    return offers


def _offer(entry, resource, now):
    user = entry.user
    chat_ids = policies.user_chat_memberships(user=user, resources=[resource])  # may ask Telegram: no lock held
    try:
        with transaction.atomic():
            services.lock_user(user)
            services.lock_resource(resource)
            # Still waiting (not left, not offered by a concurrent task)?
            entry = WaitlistEntry.objects.select_for_update().filter(pk=entry.pk, state=WaitlistState.WAITING).first()
            if entry is None:
                return None
            booking = services.booking_create(
                user=user,
                resource=resource,
                start=entry.start,
                end=entry.end,
                now=now,
                chat_ids=chat_ids,
                held_until=hold_deadline(entry.start, now),
            )
            entry.state, entry.booking, entry.offered_at = WaitlistState.OFFERED, booking, now
            entry.save(update_fields=["state", "booking", "offered_at"])
    except errors.BookingError as refusal:
        # Taken again, over a quota, suspended, closed …: this waiter stays in line, the next may fit.
        logger.debug("waitlist entry %s not offered: %s", entry.pk, refusal.code)
        return None
    return booking


def waitlist_drop_past(*, now: datetime | None = None) -> int:
    """Entries still waiting when their start has come disappear."""
    now = now or timezone.now()
    deleted, _ = WaitlistEntry.objects.filter(state=WaitlistState.WAITING, start__lte=now).delete()
    return deleted


def waitlist_sweep(*, now: datetime | None = None) -> dict:
    """The beat's safety net: lapse held offers past their time, drop past entries, and offer free time
    on every resource that has waiters (an offer task lost with its worker is made up for here)."""
    now = now or timezone.now()
    lapsed = waitlist_lapse_due(now=now)
    dropped = waitlist_drop_past(now=now)
    resource_ids = (
        WaitlistEntry.objects.filter(state=WaitlistState.WAITING, start__gt=now)
        .values_list("resource_id", flat=True)
        .distinct()
    )
    offered = sum(len(waitlist_offer_resource(resource_id=rid, now=now)) for rid in sorted(set(resource_ids)))
    return {"lapsed": lapsed, "dropped": dropped, "offered": offered}


# --- time_freed → the offer task, on commit -----------------------------------------


def _on_time_freed(sender, *, resource_id, start=None, end=None, at=None, **kwargs):
    """Queue the offer task when (and only if) the freeing change commits; nothing when nobody waits.

    A transaction that frees several intervals of one resource (a closure's cancels) may queue it more
    than once: each run offers what is free then, so a second one finds nothing left to do.
    """
    if not WaitlistEntry.objects.filter(resource_id=resource_id, state=WaitlistState.WAITING).exists():
        return
    transaction.on_commit(lambda: enqueue_offer(resource_id))


PUBLISH_ERRORS = (OperationalError, KombuError, OSError)


def enqueue_offer(resource_id: int) -> bool:
    """Put the offer task for `resource_id` on the `waitlist` queue; False when the broker is down
    (the freeing change is committed all the same, and the sweep offers the time)."""
    try:
        current_app.send_task(tasknames.WAITLIST_OFFER, kwargs={"resource_id": resource_id})
    except PUBLISH_ERRORS as exc:
        logger.warning("could not queue the waitlist offer for resource %s (%s); the sweep will", resource_id, exc)
        return False
    return True


def connect():
    time_freed.connect(_on_time_freed, dispatch_uid="bookings.waitlist.time_freed")
