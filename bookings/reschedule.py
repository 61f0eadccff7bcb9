"""Extend and move a booking: the same row gets new times, after every rule a new booking meets.

`booking_extend` gives a confirmed or active booking a later end;
`booking_move` gives a pending or confirmed booking, before it starts, a new
start and end. Either is one transaction on the booking's own row: the
checks (rules, closures, access, quotas counting the booking only with its
new times, overlap with every other live booking) run under the same locks
booking_create takes (the owner's row, then the resource's), then one
conditional UPDATE (`WHERE status, start, end` are what we saw) changes it.
Anything refused leaves the booking exactly as it was. On PostgreSQL the
exclusion constraint still decides a race: an UPDATE it refuses is
`slot_taken`, never a 500.

A move of a booking whose resource needs approval makes it pending again
(the admins are asked as for a new request), unless staff moved it. A move
frees the part of its old time the new one does not cover: `time_freed` is
sent for it inside the transaction, like every other signal of the domain,
so a receiver's rows (the waitlist's offer) commit or roll back with the move.
An extension frees nothing.

`booking_extensions_possible` is the selector behind the Extend buttons: the
same checks without the locks, so a button is shown only when pressing it
would work (the press decides again).
"""

from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings import availability, errors, policies, rules
from bookings.actions import Action, Asker, require
from bookings.models import REASON_EXTENDED, REASON_MOVED, Booking, BookingEvent, BookingStatus
from bookings.services import EXCLUSION_VIOLATION, lock_resource, lock_user, suspension_refuse
from bookings.signals import booking_rescheduled, time_freed
from core.models import User

# The extensions the bot offers (minutes): Extend +30 min, +1 h.
EXTENSION_CHOICES = (30, 60)
# The longest extension one request may ask for (the resource's maximum length still binds).
MAX_EXTENSION_MINUTES = 24 * 60

EXTENDED, MOVED = "extended", "moved"


def booking_extend(*, booking: Booking, by: User, minutes: int, now: datetime | None = None) -> Booking:
    """Give a confirmed or active booking `minutes` more at its end, or raise a BookingError.

    Refusals: not_allowed, wrong_status (pending, overdue, finished), not_extendable (past
    its end), invalid_extension, the rules of the new end (not_on_slot_grid, too_long,
    outside_opening_hours, out_of_service), closed, not_permitted, quota_exceeded,
    suspended, slot_taken.
    """
    now = now or timezone.now()
    require(Action.EXTEND, booking=booking, user=by, now=now)
    end = _extended_end(booking, minutes)
    rules.validate_extension(booking.resource, booking.start, end)
    return _reschedule(booking, by=by, start=booking.start, end=end, now=now, change=EXTENDED)


def booking_move(*, booking: Booking, by: User, start: datetime, end: datetime, now: datetime | None = None) -> Booking:
    """Give a pending or confirmed booking, before it starts, a new start and end; or raise a BookingError.

    Every rule of a new booking applies to the new time (validate_booking_times, closures,
    access, quotas, overlap with anything but itself). Refusals: not_allowed, wrong_status,
    not_movable (already started), those rules' codes, suspended, slot_taken.
    """
    now = now or timezone.now()
    require(Action.MOVE, booking=booking, user=by, now=now)
    rules.validate_booking_times(booking.resource, start, end, now=now)
    return _reschedule(booking, by=by, start=start, end=end, now=now, change=MOVED)


def booking_extensions_possible(
    booking: Booking, now: datetime | None = None, *, user: Asker = None, choices=EXTENSION_CHOICES
) -> tuple[int, ...]:
    """Which of `choices` (minutes) booking_extend would accept now for `user` (the owner by default).

    The service's checks without its locks: what the Extend buttons offer. The press decides.
    """
    now = now or timezone.now()
    user = booking.user if user is None else user
    if _refusal(lambda: require(Action.EXTEND, booking=booking, user=user, now=now)):
        return ()
    chat_ids = policies.user_chat_memberships(user=booking.user, resources=[booking.resource])
    possible = []
    for minutes in choices:
        end = _extended_end(booking, minutes)

        def check(end=end):
            rules.validate_extension(booking.resource, booking.start, end)
            blocked_until = end + _buffer(booking)
            _check(booking, start=booking.start, end=end, blocked_until=blocked_until, now=now, chat_ids=chat_ids)

        if not _refusal(check):
            possible.append(minutes)
    return tuple(possible)


def booking_move_refusal(
    booking: Booking, *, start: datetime, end: datetime, user: Asker = None, now: datetime | None = None
) -> errors.BookingError | None:
    """The BookingError booking_move would raise for this move now, or None: the confirm screen says so
    before the user presses Move. The service's checks without its locks; the press decides."""
    now = now or timezone.now()
    user = booking.user if user is None else user

    def check():
        require(Action.MOVE, booking=booking, user=user, now=now)
        rules.validate_booking_times(booking.resource, start, end, now=now)
        chat_ids = policies.user_chat_memberships(user=booking.user, resources=[booking.resource])
        utc_start, utc_end = start.astimezone(UTC), end.astimezone(UTC)
        blocked_until = utc_end + booking.resource.buffer
        _check(booking, start=utc_start, end=utc_end, blocked_until=blocked_until, now=now, chat_ids=chat_ids)

    return _refusal(check)


def booking_move_days(booking: Booking, *, first, last, zone=None, now: datetime | None = None) -> set:
    """The dates from `first` to `last` (in `zone`) the move picker offers (its own time counting as free)."""
    return availability.free_days(
        resource=booking.resource, first=first, last=last, zone=zone, now=now, ignoring=booking.pk
    )


def booking_move_starts(booking: Booking, *, day, zone=None, now: datetime | None = None) -> list:
    """The move picker's starts on `day` (in `zone`): the resource's free starts, the booking's own time
    counting as free (a move may overlap it), with the lengths that fit (availability.FreeStart)."""
    return availability.free_starts(resource=booking.resource, day=day, zone=zone, now=now, ignoring=booking.pk)


def booking_move_lengths(booking: Booking, *, start: datetime, now: datetime | None = None) -> tuple[timedelta, ...]:
    """The lengths a move of `booking` to `start` may have (its own time counting as free)."""
    return availability.durations_at(resource=booking.resource, start=start, now=now, ignoring=booking.pk)


def _refusal(check):
    try:
        check()
    except errors.BookingError as error:
        return error
    return None


def _extended_end(booking, minutes):
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 < minutes <= MAX_EXTENSION_MINUTES:
        raise errors.InvalidExtension(limit=MAX_EXTENSION_MINUTES)
    # Real elapsed time, in UTC: on a DST day 23:00 + 1 h is an hour later, whatever the wall clock says.
    return booking.end.astimezone(UTC) + timedelta(minutes=minutes)


def _buffer(booking):
    """An extension keeps the buffer the booking was made with."""
    return booking.blocked_until - booking.end


def _check(booking, *, start, end, blocked_until, now, chat_ids):
    """The checks that need the database: suspension, policies (quotas without the booking's old times), overlap."""
    owner, resource = booking.user, booking.resource
    suspension_refuse(user=owner, now=now)
    policies.enforce_booking_policies(
        user=owner, resource=resource, start=start, end=end, now=now, chat_ids=chat_ids, exclude_booking_id=booking.pk
    )
    taken = availability.live_bookings_meeting(resource_ids=[resource.pk], start=start, end=blocked_until)
    if taken.exclude(pk=booking.pk).exists():
        raise errors.SlotTaken()


def _reschedule(booking, *, by, start, end, now, change):
    resource, owner = booking.resource, booking.user
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    # A move is booked afresh (the resource's buffer now); an extension keeps its own.
    blocked_until = end + (resource.buffer if change == MOVED else _buffer(booking))
    seen = booking.status
    if change == MOVED and resource.requires_approval and not by.is_staff:
        to_status = BookingStatus.PENDING  # a new time is a new request; staff moving it decide it themselves
    else:
        to_status = seen
    fields = {
        "start": start,
        "end": end,
        "blocked_until": blocked_until,
        "check_in_deadline": rules.check_in_deadline(resource, start, end),
        "status": to_status,
    }
    old_start, old_end, old_blocked = booking.start, booking.end, booking.blocked_until
    chat_ids = policies.user_chat_memberships(user=owner, resources=[resource])  # may ask Telegram: no lock held
    try:
        with transaction.atomic():
            lock_user(owner)  # the owner's quota: user row first, then the resource, as booking_create
            lock_resource(resource)
            _check(booking, start=start, end=end, blocked_until=blocked_until, now=now, chat_ids=chat_ids)
            updated = Booking.objects.filter(pk=booking.pk, status=seen, start=old_start, end=old_end).update(
                updated_at=now, **fields
            )
            if not updated:
                # Changed meanwhile (cancelled, started, moved by another press): nothing changes here.
                booking.refresh_from_db()
                require(Action.EXTEND if change == EXTENDED else Action.MOVE, booking=booking, user=by, now=now)
                raise errors.BookingChanged()
            for name, value in fields.items():
                setattr(booking, name, value)
            booking.updated_at = now
            reason = REASON_EXTENDED if change == EXTENDED else REASON_MOVED
            BookingEvent.objects.create(
                booking=booking, from_status=seen, to_status=to_status, at=now, by=by, reason=reason
            )
            booking_rescheduled.send(
                sender=Booking,
                booking=booking,
                change=change,
                from_status=seen,
                old_start=old_start,
                old_end=old_end,
                by=by,
                at=now,
            )
            if change == MOVED:
                for freed_start, freed_end in freed_intervals((old_start, old_blocked), (start, blocked_until)):
                    time_freed.send(sender=Booking, resource_id=resource.pk, start=freed_start, end=freed_end, at=now)
    except IntegrityError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == EXCLUSION_VIOLATION:
            raise errors.SlotTaken() from None
        raise
    return booking


def freed_intervals(old: tuple[datetime, datetime], new: tuple[datetime, datetime]) -> list[tuple[datetime, datetime]]:
    """The parts of `old` that `new` does not cover: none, one or two intervals, earliest first."""
    (old_start, old_end), (new_start, new_end) = old, new
    if new_end <= old_start or new_start >= old_end:
        return [(old_start, old_end)]
    freed = []
    if old_start < new_start:
        freed.append((old_start, new_start))
    if new_end < old_end:
        freed.append((new_end, old_end))
    return freed
