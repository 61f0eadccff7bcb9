"""Pools of identical units booked by count: the writes and reads of "2 of the 30 laptops".

A pool request books `quantity` units at once: `pool_book` picks the free
units (lowest id first) and books each through services.booking_create, so
every unit booking meets the same rules, policies and quotas as any other
and the exclusion constraint still decides every race per unit. Requests of
one pool queue on the pool's row (after the user's row), so concurrent
requests never assign one unit twice nor hand out more units than are free.
Cancelling and returning work on the whole request (`pool_request_cancel`,
`pool_request_return`) or on one unit (the ordinary booking services);
`pool_unit_swap` hands out another free unit of the pool at check-in.
"""

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import IntegrityError, transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from bookings import availability, errors, policies, rules, services, timeline
from bookings.actions import Action, refusal, require
from bookings.models import LIVE_STATUSES, Booking, BookingEvent, BookingStatus, Pool, PoolRequest, Resource

# Why a booking's unit changed, as written into its history (English, like the other reasons).
REASON_UNIT_SWAPPED = "unit swapped: %(old)s → %(new)s"


# --- Reads ------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolInterval:
    """From start to end, `free` of the pool's `total` units are free (each for the whole interval)."""

    start: datetime
    end: datetime
    free: int
    total: int


def pools_list(*, include_inactive: bool = False) -> QuerySet[Pool]:
    """The pools, each with `unit_count` (its active units)."""
    qs = Pool.objects.annotate(unit_count=Count("units", filter=Q(units__is_active=True)))
    return qs if include_inactive else qs.filter(is_active=True)


def pool_get(*, pool_id: int, include_inactive: bool = False) -> Pool | None:
    return pools_list(include_inactive=include_inactive).filter(pk=pool_id).first()


def pool_units(*, pool: Pool) -> list[Resource]:
    """The pool's active units, lowest id first (the order pool_book hands them out in)."""
    return list(pool.units.filter(is_active=True).order_by("pk").prefetch_related("opening_hours"))


def pool_free_counts(*, pool: Pool, day: date, now: datetime | None = None) -> list[PoolInterval]:
    """The intervals of a local date with how many units are free in each, in time order.

    A boundary falls wherever some unit's free time starts or ends, so within
    one interval the same units are free throughout; intervals with no free
    unit are left out. Four queries whatever the pool's size (units, their
    opening hours, live bookings, closures).
    """
    units = pool_units(pool=pool)
    if not pool.is_active or not units:
        return []
    free_by_unit = availability.free_intervals_of_many(resources=units, day=day, now=now)
    bounds = sorted({moment for spans in free_by_unit.values() for span in spans for moment in (span.start, span.end)})
    counted = []
    for start, end in itertools.pairwise(bounds):
        free = sum(1 for spans in free_by_unit.values() if any(s.start <= start and end <= s.end for s in spans))
        if not free:
            continue
        if counted and counted[-1].end == start and counted[-1].free == free:
            counted[-1] = PoolInterval(counted[-1].start, end, free, len(units))
        else:
            counted.append(PoolInterval(start, end, free, len(units)))
    return counted


def pool_longest_booking(*, pool: Pool, start: datetime, end: datetime, now: datetime | None = None):
    """The longest length the pool's units allow for a booking from `start` that ends by `end`, or None."""
    now = now or timezone.now()
    units = pool_units(pool=pool)
    if not units:
        return None
    for length in sorted(rules.durations(units[0]), reverse=True):
        until = rules.add_elapsed(start, length)
        if until > end:
            continue
        try:
            rules.validate_booking_times(units[0], start, until, now=now)
        except errors.BookingError:
            continue
        return length
    return None


def pool_free_units(*, pool: Pool, start: datetime, end: datetime, now: datetime | None = None) -> list[Resource]:
    """The units a booking from start to end would be accepted for, lowest id first (two queries and the units)."""
    return availability.free_among(candidates=pool_units(pool=pool), start=start, end=end, now=now)


def pool_requests_of(*, user, upcoming_only: bool = True, now: datetime | None = None) -> list[PoolRequest]:
    """The user's pool requests with their unit bookings (live ones only when `upcoming_only`), soonest first."""
    now = now or timezone.now()
    bookings = Booking.objects.select_related("resource", "user").order_by("resource_id")
    qs = PoolRequest.objects.filter(user=user).select_related("pool")
    if upcoming_only:
        bookings = bookings.filter(status__in=LIVE_STATUSES)
        qs = qs.filter(end__gt=now, bookings__status__in=LIVE_STATUSES).distinct()
    return list(qs.order_by("start", "pk").prefetch_related(Prefetch("bookings", queryset=bookings)))


def pool_request_get(*, request_id: int, user=None) -> PoolRequest | None:
    """The request with its bookings, restricted to `user`'s own unless user is staff or None."""
    qs = PoolRequest.objects.select_related("pool", "user").prefetch_related(
        Prefetch("bookings", queryset=Booking.objects.select_related("resource", "user").order_by("resource_id"))
    )
    if user is not None and not user.is_staff:
        qs = qs.filter(user=user)
    return qs.filter(pk=request_id).first()


def pool_request_actions(*, request: PoolRequest, user, now: datetime | None = None) -> list[Action]:
    """Cancel and Return of the whole request: each offered when at least one unit booking allows it now."""
    now = now or timezone.now()
    bookings = list(request.bookings.all())
    return [
        action
        for action in (Action.CANCEL, Action.RETURN)
        if any(refusal(action, booking=b, user=user, now=now) is None for b in bookings)
    ]


def swap_candidates(*, booking: Booking, now: datetime | None = None) -> list[Resource]:
    """The other units of the booking's pool that are free for the rest of its interval."""
    pool_id = booking.resource.pool_id
    if pool_id is None:
        return []
    units = [u for u in pool_units(pool=booking.resource.pool) if u.pk != booking.resource_id]
    return [u for u in units if not _unit_busy(u, booking)]


# --- Writes -----------------------------------------------------------------------


def pool_book(
    *, user, pool: Pool, start: datetime, end: datetime, quantity: int, note: str = "", now=None, receipt=True
):
    """Book `quantity` free units of `pool` from start to end for `user`: a PoolRequest with one booking per unit.

    All or nothing, in one transaction: a unit booking refused by a rule or a
    policy (a quota counts each unit) refuses the whole request. Fewer free
    units than asked raises NotEnoughUnits with how many are free; a quantity
    below 1 or above the pool's size, InvalidQuantity.
    """
    now = now or timezone.now()
    units = pool_units(pool=pool)
    if not pool.is_active:
        raise errors.ResourceInactive()
    if not units:
        raise errors.NotEnoughUnits(free=0)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= len(units):
        raise errors.InvalidQuantity(limit=len(units))
    rules.validate_note(note)
    # The units are identical: a time their rules refuse is refused as such, not as "not enough units".
    rules.validate_booking_times(units[0], start, end, now=now)
    chat_ids = policies.user_chat_memberships(user=user, resources=units)  # may ask Telegram: no lock held
    try:
        with transaction.atomic():
            services.lock_user(user)  # user first, then the pool, then each unit: booking_create's order
            _lock_pool(pool)
            free = availability.free_among(candidates=units, start=start, end=end, now=now)
            if len(free) < quantity:
                raise errors.NotEnoughUnits(free=len(free))
            request = PoolRequest.objects.create(
                pool=pool, user=user, start=start.astimezone(UTC), end=end.astimezone(UTC), quantity=quantity, note=note
            )
            for unit in free[:quantity]:
                services.booking_create(
                    user=user,
                    resource=unit,
                    start=start,
                    end=end,
                    note=note,
                    now=now,
                    receipt=receipt,
                    pool_request=request,
                    chat_ids=chat_ids,
                )
    except errors.AlreadyBooked:
        # The user's own booking of one unit for this very time is not "their pool request".
        raise errors.NotEnoughUnits(free=len(pool_free_units(pool=pool, start=start, end=end, now=now))) from None
    return pool_request_get(request_id=request.pk)


def pool_request_cancel(*, request: PoolRequest, by, reason: str = "", now=None) -> list[Booking]:
    """Cancel every unit booking of the request that may still be cancelled; returns those cancelled.

    When none may, the first unit's refusal is raised and nothing changes.
    """
    return _on_each(
        request,
        Action.CANCEL,
        by=by,
        now=now,
        call=lambda b, at: services.booking_cancel(booking=b, by=by, reason=reason, now=at),
    )


def pool_request_return(*, request: PoolRequest, by, now=None) -> list[Booking]:
    """Return every unit of the request that is out now; returns those returned."""
    return _on_each(
        request, Action.RETURN, by=by, now=now, call=lambda b, at: services.booking_finish(booking=b, by=by, now=at)
    )


def pool_unit_swap(*, booking: Booking, unit: Resource, by, now=None) -> Booking:
    """Hand out `unit` instead of the booking's unit: another unit of the same pool, free for the rest of the interval.

    Allowed to the owner or staff while the unit may be checked in, or once it
    is out (active). Atomic: the booking moves with a conditional UPDATE and a
    history row; a unit that is not free raises SlotTaken and nothing changes.
    """
    now = now or timezone.now()
    old = booking.resource
    if old.pool_id is None or unit.pool_id != old.pool_id or unit.pk == old.pk:
        raise errors.NotInPool()
    if not unit.is_active:
        raise errors.ResourceInactive()
    if booking.status != BookingStatus.ACTIVE:
        require(Action.CHECK_IN, booking=booking, user=by, now=now)
    elif refusal(Action.RETURN, booking=booking, user=by, now=now) is not None:
        require(Action.RETURN, booking=booking, user=by, now=now)
    seen = booking.status
    blocked_until = booking.end + unit.buffer
    try:
        with transaction.atomic():
            services.lock_user(booking.user)
            _lock_pool(old.pool)
            services.lock_resource(unit)
            if _unit_busy(unit, booking):
                raise errors.SlotTaken()
            moved = Booking.objects.filter(pk=booking.pk, status=seen, resource=old).update(
                resource=unit, blocked_until=blocked_until, updated_at=now
            )
            if not moved:
                booking.refresh_from_db()
                raise errors.WrongStatus(status=BookingStatus(booking.status).label)
            BookingEvent.objects.create(
                booking=booking,
                from_status=seen,
                to_status=seen,
                at=now,
                by=by,
                reason=REASON_UNIT_SWAPPED % {"old": old.name, "new": unit.name},
            )
            # Both units' day pictures change (bookings.timeline).
            timeline.timeline_versions_bump(resource_ids=[old.pk, unit.pk], start=booking.start, end=blocked_until)
    except IntegrityError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == services.EXCLUSION_VIOLATION:
            raise errors.SlotTaken() from None
        raise
    booking.resource, booking.blocked_until, booking.updated_at = unit, blocked_until, now
    return booking


# --- Machinery --------------------------------------------------------------------


def _lock_pool(pool):
    """Row lock on the pool: its requests and swaps one at a time (SQLite's IMMEDIATE transactions serialise)."""
    list(Pool.objects.select_for_update().filter(pk=pool.pk).values_list("pk", flat=True))


def _unit_busy(unit, booking):
    """Does a live booking or a closure of `unit` meet `booking`'s time (with the unit's buffer)?"""
    start, end = booking.start, booking.end + unit.buffer
    others = availability.live_bookings_meeting(resource_ids=[unit.pk], start=start - unit.buffer, end=end)
    if others.exclude(pk=booking.pk).exists():
        return True
    return bool(policies.closures_between(resource_ids=[unit.pk], start=booking.start, end=booking.end))


def _on_each(request, action, *, by, now, call):
    now = now or timezone.now()
    bookings = list(request.bookings.select_related("resource", "user").order_by("resource_id"))
    allowed = [b for b in bookings if refusal(action, booking=b, user=by, now=now) is None]
    if not allowed:
        if bookings:
            require(action, booking=bookings[0], user=by, now=now)
        raise errors.NotAllowed()
    with transaction.atomic():  # all of them or none
        return [call(b, now) for b in allowed]
