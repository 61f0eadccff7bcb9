"""Creating rows of the notification outbox: what each booking change, reminder and alert says, to whom.

Rows are inserted in the caller's transaction (the booking change they
report), with ON CONFLICT DO NOTHING on `dedupe_key`, and queued for
delivery on commit: one task per row, or for a big batch one fan-out task per
chunk of rows (notifications.queue) that a worker turns into per-row tasks.
Delivering them is notifications.delivery; recovering lost ones,
notifications.recovery.

A booking made in the bot (receipt=False) is answered by the bot's reply,
which is its receipt. So that no booking exists without its message, the
receipt row is written all the same, but *held*: due only after
BOT_RECEIPT_HOLD_SECONDS and not queued. The bot then reports (the
booking_receipt_resolved signal) that its reply arrived — the row is skipped —
or failed — the row is due now and queued. If the bot dies in between, the
requeue task sends it once the hold is over.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from bookings import selectors
from bookings import series as booking_series
from bookings.models import AccessRequestStatus, BookingStatus
from notifications import lookahead, queue
from notifications.models import DIGEST_KINDS, Notification, NotificationKind, NotificationStatus

# (from_status, to_status) → kind of the message to the booking's user ("" = created).
_USER_KINDS = {
    ("", BookingStatus.CONFIRMED): NotificationKind.CONFIRMED,
    ("", BookingStatus.PENDING): NotificationKind.PENDING,
    (BookingStatus.PENDING, BookingStatus.CONFIRMED): NotificationKind.APPROVED,
    (BookingStatus.PENDING, BookingStatus.REJECTED): NotificationKind.REJECTED,
    (BookingStatus.PENDING, BookingStatus.EXPIRED): NotificationKind.NOT_APPROVED,
    (BookingStatus.PENDING, BookingStatus.CANCELLED): NotificationKind.CANCELLED,
    (BookingStatus.CONFIRMED, BookingStatus.CANCELLED): NotificationKind.CANCELLED,
    (BookingStatus.CONFIRMED, BookingStatus.ACTIVE): NotificationKind.ACTIVE,
    (BookingStatus.CONFIRMED, BookingStatus.EXPIRED): NotificationKind.EXPIRED,
    (BookingStatus.ACTIVE, BookingStatus.COMPLETED): NotificationKind.COMPLETED,
    (BookingStatus.ACTIVE, BookingStatus.OVERDUE): NotificationKind.OVERDUE,
    (BookingStatus.OVERDUE, BookingStatus.COMPLETED): NotificationKind.COMPLETED,
    # The waitlist: a held booking is the offer (exactly once: its dedupe key); not taken in time, it lapsed.
    # Taking or declining it is answered where the holder pressed.
    ("", BookingStatus.HELD): NotificationKind.WAITLIST_OFFER,
    (BookingStatus.HELD, BookingStatus.EXPIRED): NotificationKind.WAITLIST_LAPSED,
}
# The receipt of a new booking, the kind a held row has.
_RECEIPT_KINDS = (_USER_KINDS[("", BookingStatus.CONFIRMED)], _USER_KINDS[("", BookingStatus.PENDING)])
_ADMIN_KINDS = {
    ("", BookingStatus.PENDING): NotificationKind.ADMIN_APPROVAL,
    (BookingStatus.HELD, BookingStatus.PENDING): NotificationKind.ADMIN_APPROVAL,  # a taken offer that needs approval
    (BookingStatus.CONFIRMED, BookingStatus.EXPIRED): NotificationKind.ADMIN_NO_SHOW,
    (BookingStatus.ACTIVE, BookingStatus.OVERDUE): NotificationKind.ADMIN_OVERDUE,
}


def dedupe_key(booking_id, kind):
    """Statuses never repeat for a booking, so (booking, kind) names one message."""
    return f"{booking_id}:{kind}"


def user_chat_id(user):
    """The user's private chat with the bot (in Telegram it equals their user id)."""
    return user.telegram_chat_id or user.telegram_id


def notifications_for_transition(
    *, bookings, from_status, to_status, by=None, reason="", receipt=True, summarised=False
):
    """Outbox rows for a status change, in the caller's transaction; delivery queued on commit.

    `summarised`: the bookings changed together (a series); their user gets the
    series' summary (notifications_for_series) instead of one message each.
    """
    key = (from_status, to_status)
    rows = []
    user_kind = _USER_KINDS.get(key)
    if user_kind and not summarised:
        payload = (
            {"reason": reason} if reason and to_status in (BookingStatus.REJECTED, BookingStatus.CANCELLED) else {}
        )
        # A new booking whose interface shows the result itself: its receipt waits for word from it.
        held_until = timezone.now() + timedelta(seconds=settings.BOT_RECEIPT_HOLD_SECONDS)
        due = held_until if not from_status and not receipt else None
        rows += [
            _user_row(b, user_kind, payload, due=due)
            for b in bookings
            if user_chat_id(b.user) and not _answered_where_made(b, from_status, by)
        ]
    admin_kind = _ADMIN_KINDS.get(key)
    if admin_kind and settings.TELEGRAM_ADMIN_CHAT_ID:
        rows += [_admin_row(admin_kind, dedupe_key(b.pk, admin_kind), booking=b) for b in bookings]
    if to_status == BookingStatus.OVERDUE:
        rows += _next_may_be_late_rows(bookings)
    _insert(rows)


# What each change makes stale: the reminder of the times the booking no longer has.
_SUPERSEDED_REMINDERS = {
    "extended": (NotificationKind.REMINDER_END,),
    "moved": (NotificationKind.REMINDER_START, NotificationKind.REMINDER_END),
}


def notifications_for_reschedule(*, booking, change, from_status, by=None, at=None):
    """Outbox rows for an extension or a move (bookings.reschedule), in the caller's transaction.

    The owner is told when someone else (staff) changed it; their own change was answered
    where they made it, as for a cancel. A move that needs approval again asks the admin group
    as a new request does. The reminders of the old times are superseded: unsent ones skipped,
    and every one re-keyed, so the reminder sweep writes one for the new times.
    """
    at = at or timezone.now()
    stamp = f"{at.timestamp():.6f}"
    reminders = Notification.objects.filter(
        dedupe_key__in=[dedupe_key(booking.pk, kind) for kind in _SUPERSEDED_REMINDERS[change]]
    )
    reminders.filter(status=NotificationStatus.PENDING).update(
        status=NotificationStatus.SKIPPED, next_attempt_at=None, last_error=f"superseded: {change}"
    )
    for row in reminders:
        Notification.objects.filter(pk=row.pk).update(dedupe_key=f"{row.dedupe_key}:was:{stamp}")
    kind = NotificationKind.EXTENDED if change == "extended" else NotificationKind.MOVED
    rows = []
    if user_chat_id(booking.user) and not (by is not None and by.pk == booking.user_id):
        row = _user_row(booking, kind, {"from_status": from_status})
        row.dedupe_key = f"{booking.pk}:{kind}:{stamp}"
        rows.append(row)
    if change == "moved" and booking.status == BookingStatus.PENDING and settings.TELEGRAM_ADMIN_CHAT_ID:
        admin_kind = NotificationKind.ADMIN_APPROVAL
        rows.append(_admin_row(admin_kind, f"{dedupe_key(booking.pk, admin_kind)}:moved:{stamp}", booking=booking))
    return _insert(rows)


def _answered_where_made(booking, from_status, by):
    """The owner cancelled, checked in or returned early: the bot or the API
    already answered them where they acted, so a chat message would repeat it.
    A new booking always gets its receipt row (held when made in the bot)."""
    return bool(from_status) and by is not None and by.pk == booking.user_id


# An access request's change → (kind, to the admin group?): a new request asks the admins, a decision tells the user.
_ACCESS_KINDS = {
    ("", AccessRequestStatus.PENDING): (NotificationKind.ADMIN_ACCESS_REQUEST, True),
    (AccessRequestStatus.PENDING, AccessRequestStatus.APPROVED): (NotificationKind.ACCESS_APPROVED, False),
    (AccessRequestStatus.PENDING, AccessRequestStatus.REJECTED): (NotificationKind.ACCESS_REJECTED, False),
}


def access_dedupe_key(request_id, kind):
    """A request is created once and decided once, so (request, kind) names one message."""
    return f"access:{request_id}:{kind}"


def notifications_for_access_request(*, request, from_status, to_status):
    """The outbox row for an access request's change, in the caller's transaction; delivery queued on commit.

    The row carries the request's id in its payload (the outbox's booking
    link does not fit); the text is rendered from the request at send time.
    """
    found = _ACCESS_KINDS.get((from_status, to_status))
    if found is None:
        return 0
    kind, to_admins = found
    if to_admins:
        chat_id, user = settings.TELEGRAM_ADMIN_CHAT_ID, None
    else:
        chat_id, user = user_chat_id(request.user), request.user
    if not chat_id:
        return 0
    row = Notification(
        user=user,
        chat_id=chat_id,
        kind=kind,
        dedupe_key=access_dedupe_key(request.pk, kind),
        payload={"access_request_id": request.pk},
    )
    return _insert([row])


def _resolve_held(held, *, shown):
    """Rows held back while the bot answers in the chat: skipped when the bot's reply `shown` what they say,
    else due now and queued. Only a still pending row changes; returns how many did."""
    if shown:
        return held.update(status=NotificationStatus.SKIPPED, next_attempt_at=None, last_error="shown in the bot")
    ids = list(held.values_list("id", flat=True))
    changed = Notification.objects.filter(pk__in=ids, status=NotificationStatus.PENDING).update(next_attempt_at=None)
    transaction.on_commit(lambda: queue.enqueue_delivery(ids))
    return changed


def notifications_receipt_resolve(*, booking, shown):
    """The bot's reply to a new booking arrived (`shown`: its held receipt is skipped) or did not
    (the receipt is due now and queued). Only a still pending row changes; returns how many did."""
    held = Notification.objects.filter(
        dedupe_key__in=[dedupe_key(booking.pk, kind) for kind in _RECEIPT_KINDS], status=NotificationStatus.PENDING
    )
    return _resolve_held(held, shown=shown)


def notifications_create_reminders(*, now=None):
    """Reminder rows for bookings starting (or, for equipment, ending) within the reminder window,
    or earlier when a peak of them would not reach their chats in time at Telegram's rate
    (notifications.lookahead).

    Set-based: a few queries per kind over the partial indexes of live bookings,
    one INSERT … ON CONFLICT DO NOTHING. Bookings made inside the window get
    no reminder (their confirmation just said it all).
    """
    now = now or timezone.now()
    window = timedelta(minutes=settings.NOTIFICATION_REMINDER_MINUTES)
    horizon = lookahead.horizon(window)
    starting = selectors.bookings_starting_within(now=now, window=window, horizon=horizon)
    ending = selectors.bookings_ending_within(now=now, window=window, horizon=horizon)
    backlog = []  # urgent messages queued ahead, counted once, when there are candidates
    rows = []
    for candidates, kind, deadline in (
        (starting, NotificationKind.REMINDER_START, "start"),
        (ending, NotificationKind.REMINDER_END, "end"),
    ):
        # The reminder of the booking's current times: one superseded by a move or an extension
        # (notifications_for_reschedule renames its key) does not stop a new one.
        current_key = Concat(Cast(OuterRef("pk"), CharField()), Value(f":{kind}"))
        candidates = candidates.exclude(Exists(Notification.objects.filter(dedupe_key=current_key)))
        # The window's reminders, and earlier ones when a peak would not fit in it (lookahead).
        due = lookahead.plan(candidates=candidates, deadline_field=deadline, now=now, window=window, backlog=backlog)
        rows += [_user_row(b, kind, {}) for b in due if user_chat_id(b.user)]
    return _insert(rows)


def _next_may_be_late_rows(overdue):
    """A warning to the owner of the next booking of each overdue item: it may not be back in time."""
    rows = []
    for booking in overdue:
        following = selectors.booking_next_on_resource(booking=booking)
        if following is None or not user_chat_id(following.user):
            continue
        row = _user_row(following, NotificationKind.NEXT_MAY_BE_LATE, {"overdue_booking_id": booking.pk})
        # One warning per delaying booking (a later overdue booking of the same item warns again).
        row.dedupe_key = f"{following.pk}:{NotificationKind.NEXT_MAY_BE_LATE}:{booking.pk}"
        rows.append(row)
    return rows


def overdue_reminder_step(*, overdue_for: timedelta) -> int | None:
    """The number of the last reminder step due after being overdue for `overdue_for`, or None.

    Steps are OVERDUE_REMINDER_MINUTES after the end (default 15, 60), then one
    every OVERDUE_REMINDER_REPEAT_MINUTES after the last of them.
    """
    minutes = overdue_for.total_seconds() / 60
    steps = settings.OVERDUE_REMINDER_MINUTES
    repeat = settings.OVERDUE_REMINDER_REPEAT_MINUTES
    if not steps:  # repeats only, the first one REPEAT minutes after the end
        return int(minutes // repeat) - 1 if minutes >= repeat else None
    due = [number for number, at in enumerate(steps) if minutes >= at]
    if not due:
        return None
    if len(due) < len(steps):
        return due[-1]
    return len(steps) - 1 + int((minutes - steps[-1]) // repeat)


def notifications_create_overdue_reminders(*, now=None):
    """Reminder rows to users who have not returned an item, one per step (dedupe key per step).

    Only the latest step due is written: after an outage the user gets one
    reminder, not every one they missed.
    """
    now = now or timezone.now()
    rows = []
    for booking in selectors.bookings_overdue(now=now):
        step = overdue_reminder_step(overdue_for=now - booking.end)
        if step is None or not user_chat_id(booking.user):
            continue
        row = _user_row(booking, NotificationKind.OVERDUE_REMINDER, {"step": step})
        row.dedupe_key = f"{booking.pk}:{NotificationKind.OVERDUE_REMINDER}:{step}"
        rows.append(row)
    return _insert(rows)


def notifications_for_suspension(*, suspension, lifted, by=None):
    """The user told of a suspension (or its lifting), the admin group of a new one; in the caller's transaction."""
    rows = []
    user = suspension.user
    payload = {"suspension_id": suspension.pk, "until": suspension.until.isoformat()}
    kind = NotificationKind.SUSPENSION_LIFTED if lifted else NotificationKind.SUSPENDED
    if user_chat_id(user):
        rows.append(
            Notification(
                user=user,
                chat_id=user_chat_id(user),
                kind=kind,
                dedupe_key=f"suspension:{suspension.pk}:{kind}",
                payload=payload,
            )
        )
    if not lifted and settings.TELEGRAM_ADMIN_CHAT_ID:
        rows.append(
            _admin_row(
                NotificationKind.ADMIN_SUSPENDED,
                f"suspension:{suspension.pk}",
                payload={**payload, "user": str(user)},
            )
        )
    _insert(rows)


def admin_alert(*, kind, key, payload):
    """An admin-group alert (gathered into a digest); no-op without TELEGRAM_ADMIN_CHAT_ID."""
    if settings.TELEGRAM_ADMIN_CHAT_ID:
        _insert([_admin_row(kind, key, payload=payload)])


def _user_row(booking, kind, payload, *, due=None):
    return Notification(
        user=booking.user,
        chat_id=user_chat_id(booking.user),
        booking=booking,
        kind=kind,
        dedupe_key=dedupe_key(booking.pk, kind),
        payload=payload,
        next_attempt_at=due,
    )


def _admin_row(kind, key, *, booking=None, payload=None):
    return Notification(
        user=None,
        chat_id=settings.TELEGRAM_ADMIN_CHAT_ID,
        booking=booking,
        kind=kind,
        dedupe_key=f"admin:{key}",
        payload=payload or {},
    )


def _insert(rows):
    """Insert, skipping keys that exist; queue the new rows once the transaction commits."""
    if not rows:
        return 0
    with transaction.atomic():
        Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        created = list(
            Notification.objects.filter(
                dedupe_key__in=[r.dedupe_key for r in rows],
                status=NotificationStatus.PENDING,
                attempts=0,
                claimed_at__isnull=True,
            ).values_list("id", "kind", "next_attempt_at")
        )
    # A held row is not queued: its interface's word, or the requeue after the hold, sends it.
    direct = {pk: kind for pk, kind, due in created if kind not in DIGEST_KINDS and due is None}
    digest = any(kind in DIGEST_KINDS for _pk, kind, _due in created)
    transaction.on_commit(lambda: _enqueue(direct, digest))
    return len(created)


def _enqueue(kinds, digest):
    queue.enqueue_delivery(sorted(kinds), kinds=kinds)
    if digest:
        queue.enqueue_admin_digest()


def alert_undelivered(*, rows, error):
    """Tell the admins about user messages that did not arrive (never about admin alerts: no loops)."""
    for row in rows:
        if row.is_admin_alert:
            continue
        admin_alert(
            kind=NotificationKind.ADMIN_DELIVERY_FAILED,
            key=f"failed:{row.pk}",
            payload={"kind": row.kind, "booking_id": row.booking_id, "error": error},
        )


def notifications_out_of_service(*, resource, upcoming, at):
    """One warning to the user of each upcoming booking of `resource`, taken out of service at `at`.

    The key names the booking and this time out of service: pressing twice warns nobody twice,
    while a second breakdown a week later warns again.
    """
    stamp = int(at.timestamp())
    rows = []
    for booking in upcoming:
        if user_chat_id(booking.user):
            row = _user_row(booking, NotificationKind.OUT_OF_SERVICE, {"since": stamp})
            row.dedupe_key = f"{booking.pk}:{NotificationKind.OUT_OF_SERVICE}:{stamp}"
            rows.append(row)
    return _insert(rows)


def notifications_problem_report(*, resource, user, text, photo, key):
    """The admin group's copy of a user's problem report (with its photo), once per `key`."""
    if not settings.TELEGRAM_ADMIN_CHAT_ID:
        return 0
    payload = {
        "resource_id": resource.pk,
        "resource_name": resource.name,
        "user": str(user),
        "user_id": user.pk,
        "text": text,
        "photo": photo,
    }
    return _insert([_admin_row(NotificationKind.ADMIN_PROBLEM, f"problem:{key}", payload=payload)])


# --- Recurring series: one summary message per series event ---------------------

_SERIES_KINDS = {
    "booked": NotificationKind.SERIES_BOOKED,
    "extended": NotificationKind.SERIES_BOOKED,
    "cancelled": NotificationKind.SERIES_CANCELLED,
}


def series_dedupe_key(series_id, kind, stamp):
    """A series is booked once, but extended and cancelled (following, then all) more than once: the
    moment of the event tells them apart, so one event is one message however often it is reported."""
    return f"series:{series_id}:{kind}:{stamp}"


def notifications_for_series(*, series, event, bookings, by=None, at, receipt=True, reason=""):
    """One summary row for a series event (its occurrences booked, extended or cancelled together).

    The user who cancelled themselves was answered where they acted (as for one
    booking); a summary the interface shows itself (receipt=False) is held
    until it says whether its reply arrived (notifications_series_receipt_resolve).
    """
    kind = _SERIES_KINDS[event]
    user = series.user
    if not user_chat_id(user) or (event == "cancelled" and by is not None and by.pk == user.pk):
        return 0
    due = None if receipt else timezone.now() + timedelta(seconds=settings.BOT_RECEIPT_HOLD_SECONDS)
    row = Notification(
        user=user,
        chat_id=user_chat_id(user),
        kind=kind,
        dedupe_key=series_dedupe_key(series.pk, event, int(at.timestamp() * 1000)),
        payload={
            "series_id": series.pk,
            "event": event,
            "booking_ids": [b.pk for b in bookings],
            "reason": reason,
        },
        next_attempt_at=due,
    )
    return _insert([row])


def notifications_series_receipt_resolve(*, series, event, shown):
    """The bot's reply about a series arrived (its held summary is skipped) or did not (sent now)."""
    held = Notification.objects.filter(
        dedupe_key__startswith=f"series:{series.pk}:{event}:",
        status=NotificationStatus.PENDING,
        next_attempt_at__isnull=False,
    )
    return _resolve_held(held, shown=shown)


def notifications_create_series_ending(*, now=None):
    """ "Your series ends" rows, SERIES_ENDING_NOTICE_DAYS before each series' last live occurrence.

    Keyed by the series and that last occurrence: sent once, and once more
    only after an extension moved the end.
    """
    now = now or timezone.now()
    rows = []
    for found in booking_series.series_ending_within(now=now):
        last = booking_series.series_last_live(series=found)
        if last is None or not user_chat_id(found.user):
            continue
        rows.append(
            Notification(
                user=found.user,
                chat_id=user_chat_id(found.user),
                booking=last,
                kind=NotificationKind.SERIES_ENDING,
                dedupe_key=f"series:{found.pk}:ending:{last.pk}",
                payload={"series_id": found.pk},
            )
        )
    return _insert(rows)
