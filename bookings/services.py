"""Writes of the booking domain: create a booking and move it through its statuses.

Every status change is one conditional UPDATE (`WHERE status = <from>`), so
running a transition twice, or two workers at once, changes nothing twice.
The history row and the `bookings_transitioned` signal (which notifications
turns into outbox rows) happen in the same transaction as the change.
"""

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from bookings import admission, errors, formats, policies, rules
from bookings.actions import FROM_STATUSES, Action, require, require_staff
from bookings.models import (
    LIVE_STATUSES,
    REASON_END_TIME,
    REASON_NO_CHECK_IN,
    REASON_NOT_APPROVED,
    REASON_NOT_RETURNED,
    REASON_RETURNED_EARLY,
    REASON_RETURNED_LATE,
    REASON_START_TIME,
    RETURN_REQUIRED_Q,
    Booking,
    BookingEvent,
    BookingStatus,
    PoolRequest,
    Resource,
    ResourceAlias,
    Strike,
    StrikeReason,
    Suspension,
    name_key,
)
from bookings.signals import (
    booking_receipt_resolved,
    bookings_transitioned,
    resource_out_of_service,
    resource_problem_reported,
    suspension_changed,
    time_freed,
)
from core.models import User

logger = logging.getLogger(__name__)

# PostgreSQL's SQLSTATE for an exclusion-constraint violation.
EXCLUSION_VIOLATION = "23P01"
SWEEP_BATCH = 2000


def booking_create(
    *,
    user: User,
    resource: Resource,
    start: datetime,
    end: datetime,
    note: str = "",
    now: datetime | None = None,
    receipt: bool = True,
    pool_request: PoolRequest | None = None,
    chat_ids: set[int] | None = None,
    series=None,
    held_until: datetime | None = None,
) -> Booking:
    """Book `resource` for `user` from start to end, or raise a BookingError.

    Needs approval → pending, otherwise confirmed. Overlap with a live booking
    (buffer included) raises SlotTaken: checked here for a clear answer and,
    on PostgreSQL, enforced by the exclusion constraint, which decides races.
    When the slot is held by this user's own live booking of exactly the same
    resource, start and end, AlreadyBooked (a SlotTaken) carries that booking.
    `receipt=False`: the interface the user booked in shows them the result in
    their chat itself (the bot's reply is the receipt). Listeners still write
    the receipt, held, in this transaction; the interface then reports
    booking_receipt_shown or booking_receipt_owed, and if it never does (its
    process died) the held receipt goes out when the hold ends.
    `pool_request` and `chat_ids`: set by bookings.pools.pool_book, which books
    each unit through here inside its own transaction (memberships asked before it).
    `series`: set by bookings.series, which books each occurrence through here.
    `held_until`: set by bookings.waitlist, whose offer is a booking held (status held) until then.
    """
    now = now or timezone.now()
    # The opening hours (the last of these rules) and the note are checked with the rest of what is read
    # under the locks, first (admission.refuse): every refusal comes in the order it always did.
    rules.validate_booking_times_except_hours(resource, start, end, now=now)
    # Arithmetic in UTC: `local + timedelta` drops `fold`, so in the repeated autumn
    # hour end + buffer would land an hour early (before end: a CHECK violation).
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    blocked_until = end + resource.buffer
    status = BookingStatus.PENDING if resource.requires_approval else BookingStatus.CONFIRMED
    if held_until is not None:
        status = BookingStatus.HELD  # a waitlist offer; taking it makes it pending or confirmed
    made = dict(
        resource=resource,
        user=user,
        start=start,
        end=end,
        blocked_until=blocked_until,
        check_in_deadline=rules.check_in_deadline(resource, start, end),
        status=status,
        note=note or "",
        pool_request=pool_request,
        series=series,
        held_until=held_until,
    )
    try:
        try:
            booking = _admit(made, user=user, resource=resource, note=note, now=now, chat_ids=chat_ids, receipt=receipt)
        except admission.MembershipsNeeded as needed:
            # Access may come from Telegram chats: asked here, with no lock held, then once more with the answer.
            chat_ids = policies.chat_memberships_of(user=user, found=needed.access_rules)
            booking = _admit(made, user=user, resource=resource, note=note, now=now, chat_ids=chat_ids, receipt=receipt)
    except IntegrityError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == EXCLUSION_VIOLATION:
            raise errors.SlotTaken() from None
        raise
    return booking


def _admit(made, *, user, resource, note, now, chat_ids, receipt):
    """booking_create's transaction: locks, what the checks need, the checks, the booking and its history."""
    start, end = made["start"], made["end"]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The locks, then what the checks need (one statement that also inserts the booking if the slot
            # is free), in one round trip; see bookings.admission.
            at = timezone.now()
            booking = Booking(**made, created_at=at, updated_at=at)
            facts = admission.lock_read_and_insert(booking=booking, user=user, resource=resource, now=now)
            admission.refuse(facts, user=user, resource=resource, start=start, end=end, note=note, chat_ids=chat_ids)
            _announce([booking], from_status="", to_status=booking.status, by=user, reason="", at=now, receipt=receipt)
            return booking
        # A user's bookings one at a time (user row first, then the resource: always this order),
        # so two requests of one user cannot both pass a quota.
        lock_user(user)
        # One booking of a resource at a time: concurrent inserts that the exclusion
        # constraint checks against each other's uncommitted rows can deadlock
        # (PostgreSQL aborts one with 40P01); queued on the resource's row they
        # cannot, and the loser meets the winner's row as `slot_taken`.
        lock_resource(resource)
        facts = admission.read(
            user=user, resource=resource, start=start, end=end, blocked_until=made["blocked_until"], now=now
        )
        admission.refuse(facts, user=user, resource=resource, start=start, end=end, note=note, chat_ids=chat_ids)
        booking = Booking.objects.create(**made)
        _record([booking], from_status="", to_status=booking.status, by=user, reason="", at=now, receipt=receipt)
        return booking


def booking_receipt_shown(*, booking: Booking) -> None:
    """The interface's own receipt of `booking` (made with receipt=False) arrived: the held one is not sent."""
    booking_receipt_resolved.send(sender=Booking, booking=booking, shown=True)


def booking_receipt_owed(*, booking: Booking) -> None:
    """The interface could not show `booking`'s result (its reply failed): the held receipt goes out now."""
    booking_receipt_resolved.send(sender=Booking, booking=booking, shown=False)


def lock_user(user: User) -> None:
    """Row lock on the user until the transaction ends; taken before any resource lock."""
    list(User.objects.select_for_update().filter(pk=user.pk).order_by().values_list("pk", flat=True))


def lock_resource(resource):
    """Row lock on the resource until the transaction ends (SQLite's IMMEDIATE transactions already serialise)."""
    # No ORDER BY (Resource's Meta.ordering would add one): one row by its key.
    list(Resource.objects.select_for_update().filter(pk=resource.pk).order_by().values_list("pk", flat=True))


def booking_cancel(
    *, booking: Booking, by: User, reason: str = "", now: datetime | None = None, summarised: bool = False
) -> Booking:
    """The owner (or staff) withdraws a pending or confirmed booking before it starts.

    `summarised`: one of several cancelled together (bookings.series), whose
    user gets one summary message instead of one per booking.
    """
    now = now or timezone.now()
    require(Action.CANCEL, booking=booking, user=by, now=now)
    rules.validate_note(reason)
    return _cancel(booking, by=by, reason=reason, now=now, summarised=summarised)


def booking_cancel_for_closure(*, booking: Booking, by: User, reason: str, now: datetime | None = None) -> Booking:
    """Staff's closure cancels a pending or confirmed booking it meets (policies.closure_create).

    Unlike the owner's cancel, a booking past its start that still waits for
    its check-in is cancelled too: the closure binds it all the same.
    """
    require_staff(by)
    return _cancel(booking, by=by, reason=reason, now=now)


def _cancel(booking, *, by, reason, now, summarised=False):
    return _transition(
        booking,
        allowed_from=FROM_STATUSES[Action.CANCEL],
        to_status=BookingStatus.CANCELLED,
        by=by,
        reason=reason,
        now=now,
        summarised=summarised,
    )


def booking_approve(*, booking: Booking, by: User, now: datetime | None = None) -> Booking:
    """Staff confirm a booking that waited for approval."""
    now = now or timezone.now()
    require(Action.APPROVE, booking=booking, user=by, now=now)
    return _transition(
        booking, allowed_from=FROM_STATUSES[Action.APPROVE], to_status=BookingStatus.CONFIRMED, by=by, now=now
    )


def booking_reject(*, booking: Booking, by: User, reason: str = "", now: datetime | None = None) -> Booking:
    """Staff refuse a booking that waited for approval; the user sees the reason."""
    now = now or timezone.now()
    require(Action.REJECT, booking=booking, user=by, now=now)
    rules.validate_note(reason)
    return _transition(
        booking,
        allowed_from=FROM_STATUSES[Action.REJECT],
        to_status=BookingStatus.REJECTED,
        by=by,
        reason=reason,
        now=now,
    )


def booking_check_in(*, booking: Booking, by: User, now: datetime | None = None) -> Booking:
    """The owner says they have picked it up / arrived: confirmed → active, inside the check-in window."""
    now = now or timezone.now()
    require(Action.CHECK_IN, booking=booking, user=by, now=now)
    return _transition(
        booking,
        allowed_from=FROM_STATUSES[Action.CHECK_IN],
        to_status=BookingStatus.ACTIVE,
        by=by,
        now=now,
        checked_in_at=now,
    )


def booking_finish(*, booking: Booking, by: User, now: datetime | None = None) -> Booking:
    """Return: active → completed (early, the rest of the slot is free again), or overdue → completed late."""
    return booking_return(booking=booking, by=by, now=now)


def booking_return(*, booking: Booking, by: User, now: datetime | None = None) -> Booking:
    """The item is back: the owner's Return or staff's Mark returned.

    Active → completed; before the end the rest of the slot is freed (returned
    early). Overdue (or active past its end, before the sweep saw it) →
    completed, returned late, which adds a strike to the owner.
    """
    now = now or timezone.now()
    require(Action.RETURN, booking=booking, user=by, now=now)
    late = booking.status == BookingStatus.OVERDUE or (booking.resource.return_required and now > booking.end)
    if late:
        with transaction.atomic():
            returned = _transition(
                booking,
                allowed_from=FROM_STATUSES[Action.RETURN],
                to_status=BookingStatus.COMPLETED,
                by=by,
                reason=REASON_RETURNED_LATE,
                now=now,
                returned_at=now,
            )
            strikes_add(bookings=[returned], reason=StrikeReason.LATE_RETURN, now=now)
        return returned
    buffer = booking.blocked_until - booking.end
    # The end only ever moves earlier; a booking checked in early and returned
    # before its start keeps a minimal one-minute span (start < end holds).
    end = min(booking.end, max(now, booking.start + timedelta(minutes=1)))
    old_blocked_until = booking.blocked_until
    with transaction.atomic():
        returned = _transition(
            booking,
            allowed_from=(BookingStatus.ACTIVE,),
            to_status=BookingStatus.COMPLETED,
            by=by,
            reason=REASON_RETURNED_EARLY if end < booking.end else "",
            now=now,
            end=end,
            blocked_until=end + buffer,
            returned_at=now,
        )
        if returned.blocked_until < old_blocked_until:
            # Returned early: the rest of its time (the waitlist's offer) is free again.
            _time_freed(returned.resource_id, returned.blocked_until, old_blocked_until, now)
    return returned


# --- Scheduled transitions (called by the Celery sweeps) ---------------------


def bookings_start_due(*, now: datetime | None = None) -> int:
    """confirmed → active at the start time, for bookings that need no check-in."""
    now = now or timezone.now()
    due = Booking.objects.filter(status=BookingStatus.CONFIRMED, check_in_deadline__isnull=True, start__lte=now)
    return _sweep(due, BookingStatus.CONFIRMED, BookingStatus.ACTIVE, REASON_START_TIME, now)


def bookings_complete_ended(*, now: datetime | None = None) -> int:
    """active → completed at the end time, for resources that need no return (the others become overdue)."""
    now = now or timezone.now()
    due = Booking.objects.filter(status=BookingStatus.ACTIVE, end__lte=now).exclude(RETURN_REQUIRED_Q)
    return _sweep(due, BookingStatus.ACTIVE, BookingStatus.COMPLETED, REASON_END_TIME, now)


def bookings_mark_overdue(*, now: datetime | None = None) -> int:
    """active → overdue at the end time, for resources that need a return and were not returned."""
    now = now or timezone.now()
    due = Booking.objects.filter(RETURN_REQUIRED_Q, status=BookingStatus.ACTIVE, end__lte=now)
    return _sweep(due, BookingStatus.ACTIVE, BookingStatus.OVERDUE, REASON_NOT_RETURNED, now)


def bookings_expire_no_shows(*, now: datetime | None = None) -> int:
    """confirmed → expired when nobody checked in by start + grace; frees the rest of the slot."""
    now = now or timezone.now()
    due = Booking.objects.filter(status=BookingStatus.CONFIRMED, check_in_deadline__lte=now)
    return _sweep(
        due,
        BookingStatus.CONFIRMED,
        BookingStatus.EXPIRED,
        REASON_NO_CHECK_IN,
        now,
        # A no-show is a strike, in the same transaction as the expiry.
        then=lambda moved: strikes_add(bookings=moved, reason=StrikeReason.NO_SHOW, now=now),
    )


def bookings_expire_unapproved(*, now: datetime | None = None) -> int:
    """pending → expired when nobody approved it before its start."""
    now = now or timezone.now()
    due = Booking.objects.filter(status=BookingStatus.PENDING, start__lte=now)
    return _sweep(due, BookingStatus.PENDING, BookingStatus.EXPIRED, REASON_NOT_APPROVED, now)


def _sweep(due, from_status, to_status, reason, now, then=None):
    """Move every booking in `due` from one status to another, set-based, in batches.

    A batch is: select ids (skipping rows another sweep holds), one
    conditional UPDATE, one bulk INSERT of history, the signal and `then(moved)`
    if given. Returns how many bookings changed.
    """
    changed = 0
    while True:
        with transaction.atomic():
            ids = list(due.order_by().select_for_update(skip_locked=True).values_list("id", flat=True)[:SWEEP_BATCH])
            if not ids:
                return changed
            Booking.objects.filter(id__in=ids, status=from_status).update(status=to_status, updated_at=now)
            moved = list(Booking.objects.filter(id__in=ids, status=to_status).select_related("resource", "user"))
            _record(moved, from_status=from_status, to_status=to_status, by=None, reason=reason, at=now)
            if then is not None and moved:
                then(moved)
        changed += len(moved)
        if len(ids) < SWEEP_BATCH:
            return changed


# --- Loans: strikes and suspensions -------------------------------------------


def strikes_add(*, bookings, reason: str, now=None) -> list[Suspension]:
    """A strike for each booking's owner (once per booking and reason), in the caller's transaction.

    A user who reaches STRIKES_TO_SUSPEND strikes within STRIKES_WINDOW_DAYS is
    suspended for SUSPENSION_DAYS. Strikes that already led to a suspension do
    not count again: only those after the latest suspension's start do.
    Returns the suspensions this made.
    """
    now = now or timezone.now()
    with transaction.atomic():
        Strike.objects.bulk_create(
            [Strike(user_id=b.user_id, booking=b, reason=reason, at=now) for b in bookings], ignore_conflicts=True
        )
        made = []
        for user_id in sorted({b.user_id for b in bookings}):
            since = now - timedelta(days=settings.STRIKES_WINDOW_DAYS)
            last = Suspension.objects.filter(user_id=user_id).order_by("-start").values_list("start", flat=True).first()
            if last is not None and last > since:
                since = last
            if Strike.objects.filter(user_id=user_id, at__gt=since).count() < settings.STRIKES_TO_SUSPEND:
                continue
            suspension = Suspension.objects.create(
                user_id=user_id,
                start=now,
                until=now + timedelta(days=settings.SUSPENSION_DAYS),
                reason=reason,
            )
            suspension = Suspension.objects.select_related("user").get(pk=suspension.pk)
            suspension_changed.send(sender=Suspension, suspension=suspension, lifted=False, by=None)
            made.append(suspension)
    return made


def suspension_refuse(*, user, now=None) -> None:
    """Raise Suspended (with its end) when `user` is suspended from booking now."""
    now = now or timezone.now()
    refuse_suspended(user=user, until=suspended_until(user=user, now=now))


def suspended_until(*, user, now) -> datetime | None:
    """The end of `user`'s longest suspension in force at `now`, or None."""
    return (
        Suspension.objects.filter(user=user, lifted_at__isnull=True, start__lte=now, until__gt=now)
        .order_by("-until")
        .values_list("until", flat=True)
        .first()
    )


def refuse_suspended(*, user, until: datetime | None) -> None:
    """Raise Suspended when `until` (the end of the user's longest suspension in force now) is set."""
    if until is not None:
        zone = getattr(user, "zone", None) or rules.site_zone()
        # `until` for people (in the user's zone), `until_at` for programs (the API's answer carries it).
        shown = f"{formats.day_label(until.astimezone(zone).date())}, {formats.clock(until, zone)}"
        raise errors.Suspended(until=shown, until_at=until.isoformat())


def suspension_lift(*, suspension: Suspension, by, now=None) -> Suspension:
    """Staff end a suspension early; the user may book again at once. NotSuspended if it is over already."""
    now = now or timezone.now()
    require_staff(by)
    with transaction.atomic():
        lifted = Suspension.objects.filter(pk=suspension.pk, lifted_at__isnull=True, until__gt=now).update(
            lifted_at=now, lifted_by=by
        )
        if not lifted:
            raise errors.NotSuspended()
        suspension = Suspension.objects.select_related("user", "lifted_by").get(pk=suspension.pk)
        suspension_changed.send(sender=Suspension, suspension=suspension, lifted=True, by=by)
    return suspension


# --- Shared machinery -------------------------------------------------------


def _transition(booking, *, allowed_from, to_status, by, reason="", now=None, summarised=False, **fields):
    """Move one booking to `to_status` if it is still in the status we saw.

    Raises WrongStatus when it is not (already moved, or by someone else
    meanwhile); then nothing changes.
    """
    now = now or timezone.now()
    seen = booking.status
    if seen not in allowed_from:
        raise errors.WrongStatus(status=BookingStatus(seen).label)
    with transaction.atomic():
        updated = Booking.objects.filter(pk=booking.pk, status=seen).update(status=to_status, updated_at=now, **fields)
        if not updated:
            booking.refresh_from_db()
            raise errors.WrongStatus(status=BookingStatus(booking.status).label)
        booking.status = to_status
        booking.updated_at = now
        for name, value in fields.items():
            setattr(booking, name, value)
        _record([booking], from_status=seen, to_status=to_status, by=by, reason=reason, at=now, summarised=summarised)
    return booking


def _record(bookings, *, from_status, to_status, by, reason, at, receipt=True, summarised=False):
    """History rows and the signal for a status change, in the caller's transaction.

    `summarised`: the user's message about it is a summary sent by the caller (a series).
    """
    BookingEvent.objects.bulk_create(
        BookingEvent(booking=b, from_status=from_status, to_status=to_status, at=at, by=by, reason=reason)
        for b in bookings
    )
    _announce(
        bookings,
        from_status=from_status,
        to_status=to_status,
        by=by,
        reason=reason,
        at=at,
        receipt=receipt,
        summarised=summarised,
    )


def _announce(bookings, *, from_status, to_status, by, reason, at, receipt=True, summarised=False):
    """The signal (and time_freed) of a status change whose history rows are written, in its transaction."""
    if bookings:
        bookings_transitioned.send(
            sender=Booking,
            bookings=bookings,
            from_status=from_status,
            to_status=to_status,
            by=by,
            reason=reason,
            at=at,
            receipt=receipt,
            summarised=summarised,
        )
    if from_status in LIVE_STATUSES and to_status in FREEING_STATUSES:
        for b in bookings:
            _time_freed(b.resource_id, b.start, b.blocked_until, at)


# A live booking moved to one of these gave its time back (cancelled, rejected, a no-show or unapproved expiry,
# an offer declined or lapsed); a completed one gives back only what an early return frees (booking_return).
FREEING_STATUSES = (BookingStatus.CANCELLED, BookingStatus.REJECTED, BookingStatus.EXPIRED)


def _time_freed(resource_id, start, end, at):
    """time_freed for [start, end) of a resource, in the caller's transaction (the waitlist offers it on commit)."""
    time_freed.send(sender=Booking, resource_id=resource_id, start=start, end=end, at=at)


def resource_aliases_set(*, resource: Resource, aliases: list[str]) -> list[ResourceAlias]:
    """Make `aliases` the other names of `resource`: missing ones added, unlisted ones removed.

    Aliases that differ only in case or spacing count as one (the first is kept),
    so running it twice with the same list changes nothing. An empty or too long
    alias is refused (InvalidAlias) and nothing changes.
    """
    limit = ResourceAlias._meta.get_field("alias").max_length
    wanted = {}
    for alias in aliases:
        text = " ".join(str(alias).split())
        if not 0 < len(text) <= limit:
            raise errors.InvalidAlias(limit=limit)
        wanted.setdefault(name_key(text), text)
    with transaction.atomic():
        resource.aliases.exclude(key__in=wanted).delete()
        kept = {a.key: a for a in resource.aliases.all()}
        for key, text in wanted.items():
            if key in kept:
                if kept[key].alias != text:
                    kept[key].alias = text
                    kept[key].save(update_fields=["alias", "key"])
            else:
                kept[key] = ResourceAlias.objects.create(resource=resource, alias=text)
    return [kept[key] for key in wanted]


# --- At the resource: out of service, problem reports (issue 10, stickers) ---

PROBLEM_REPORT_MAX = 1000


def resource_out_of_service_set(*, resource: Resource, by, out_of_service: bool, now=None) -> bool:
    """Staff take `resource` out of service (nothing can be booked; the users of its upcoming
    bookings are warned, once each) or put it back. Returns False when it already was so.

    One conditional UPDATE, so two admins pressing at once warn nobody twice.
    """
    require_staff(by)
    now = now or timezone.now()
    with transaction.atomic():
        if out_of_service:
            changed = Resource.objects.filter(pk=resource.pk, out_of_service_since__isnull=True).update(
                out_of_service_since=now, updated_at=now
            )
        else:
            changed = Resource.objects.filter(pk=resource.pk, out_of_service_since__isnull=False).update(
                out_of_service_since=None, updated_at=now
            )
        resource.refresh_from_db(fields=["out_of_service_since", "updated_at"])
        if changed and out_of_service:
            upcoming = list(
                Booking.objects.filter(
                    resource=resource,
                    status__in=(BookingStatus.PENDING, BookingStatus.CONFIRMED),
                    end__gt=now,
                )
                .select_related("resource", "user")
                .order_by("start", "id")
            )
            resource_out_of_service.send(sender=Resource, resource=resource, upcoming=upcoming, by=by, at=now)
    return bool(changed)


def resource_problem_report(*, resource: Resource, user, text: str, photo: str = "", key: str, now=None) -> None:
    """A user tells the admins what is wrong with `resource` (a text, optionally a photo).

    `key` names the report (the bot passes its chat and message id), so a
    redelivered message reaches the admin group once. Raises
    ProblemReportInvalid for an empty or too long text; then nothing is sent.
    """
    text = (text or "").strip()
    if not 0 < len(text) <= PROBLEM_REPORT_MAX:
        raise errors.ProblemReportInvalid(limit=PROBLEM_REPORT_MAX)
    now = now or timezone.now()
    with transaction.atomic():
        resource_problem_reported.send(
            sender=Resource, resource=resource, user=user, text=text, photo=photo or "", key=key, at=now
        )
