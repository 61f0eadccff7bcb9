"""What a user may do with a booking now: the one rule behind every button and every transition.

`refusal(action, ...)` gives the BookingError that would refuse an action now,
or None; `booking_actions(...)` is the actions with no refusal. The services
raise that same refusal before they change anything, so a button is shown
exactly when pressing it would work (the bot, notifications, the API's
`actions` field and the admin all read `booking_actions`).
"""

from datetime import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from bookings import errors, rules
from bookings.models import Booking, BookingStatus
from core.models import User


class Action(models.TextChoices):
    """What can be done to a booking; the value is the code the API answers, the label what the admin reads."""

    CHECK_IN = "check_in", pgettext_lazy("booking action", "Check in")
    RETURN = "return", pgettext_lazy("booking action", "Return early")  # active → completed
    CANCEL = "cancel", pgettext_lazy("booking action", "Cancel")
    APPROVE = "approve", pgettext_lazy("booking action", "Approve")
    REJECT = "reject", pgettext_lazy("booking action", "Reject")
    # Rescheduling (bookings.reschedule). Whether an extension fits needs the database, so these two
    # are asked one by one (refusal, selectors.booking_extensions_possible), not listed by booking_actions.
    EXTEND = "extend", pgettext_lazy("booking action", "Extend")
    MOVE = "move", pgettext_lazy("booking action", "Move")


# The statuses each action starts from; services pass these to the conditional UPDATE.
FROM_STATUSES = {
    Action.CHECK_IN: (BookingStatus.CONFIRMED,),
    # Overdue: the item is still out; returning it (the owner's Return, staff's Mark returned) completes it late.
    Action.RETURN: (BookingStatus.ACTIVE, BookingStatus.OVERDUE),
    Action.CANCEL: (BookingStatus.PENDING, BookingStatus.CONFIRMED),
    Action.APPROVE: (BookingStatus.PENDING,),
    Action.REJECT: (BookingStatus.PENDING,),
    # Not overdue: an item not back by its end is returned, not given more time.
    Action.EXTEND: (BookingStatus.CONFIRMED, BookingStatus.ACTIVE),
    Action.MOVE: (BookingStatus.PENDING, BookingStatus.CONFIRMED),
}

# The actions booking_actions lists: the status changes, each decided by the booking and the clock alone.
LISTED = (Action.CHECK_IN, Action.RETURN, Action.CANCEL, Action.APPROVE, Action.REJECT)

STAFF_ONLY = frozenset({Action.APPROVE, Action.REJECT})


class _AnyStaffMember:
    """Stands for whichever staff member reads a message (the admin group's alerts,
    the admin's list): they see the staff's actions, and each press is checked
    again against the real user."""

    pk = None
    is_staff = True


ANY_STAFF = _AnyStaffMember()

# Who asks: a user, ANY_STAFF, or nobody.
Asker = User | _AnyStaffMember | None


def refusal(
    action: Action, *, booking: Booking, user: Asker, now: datetime | None = None
) -> errors.BookingError | None:
    """The BookingError that refuses `action` on `booking` by `user` now, or None if it is allowed."""
    now = now or timezone.now()
    if not _may(action, booking, user):
        return errors.NotAllowed()
    if booking.status not in FROM_STATUSES[action]:
        return errors.WrongStatus(status=BookingStatus(booking.status).label)
    if action == Action.CANCEL and booking.start <= now:
        return errors.AlreadyStarted()
    if action == Action.CHECK_IN:
        opens, closes = rules.check_in_window(booking.resource, booking.start, booking.end)
        if now < opens:
            return errors.CheckInNotOpen(minutes=booking.resource.check_in_opens_minutes)
        if now >= closes:
            return errors.CheckInClosed()
    if action == Action.EXTEND:
        # Past its end (the sweep has not seen it yet), or a no-show about to expire: nothing to extend.
        deadline = booking.check_in_deadline if booking.status == BookingStatus.CONFIRMED else None
        if now >= booking.end or (deadline is not None and now >= deadline):
            return errors.NotExtendable()
    if action == Action.MOVE and booking.start <= now:
        return errors.NotMovable()
    return None


def require(action: Action, *, booking: Booking, user: Asker, now: datetime | None = None) -> None:
    """Raise the refusal of `action` now, if any (what services call before a transition)."""
    error = refusal(action, booking=booking, user=user, now=now)
    if error is not None:
        raise error


def booking_actions(*, booking: Booking, user: Asker, now: datetime | None = None) -> list[Action]:
    """The status actions (LISTED) `user` may take on `booking` now, in Action's order."""
    now = now or timezone.now()
    return [action for action in LISTED if refusal(action, booking=booking, user=user, now=now) is None]


def require_staff(user: User | None) -> None:
    """Raise NotAllowed unless `user` is staff: the check of the staff-only writes (closures, access decisions)."""
    if not (user and user.is_staff):
        raise errors.NotAllowed()


def _may(action, booking, user):
    """Owner or staff for the booking's own actions; staff only for approving and rejecting."""
    if not user or not (user.pk or user.is_staff):
        return False
    if action in STAFF_ONLY:
        return bool(user.is_staff)
    return booking.user_id == user.pk or bool(user.is_staff)
