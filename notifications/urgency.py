"""How urgent each kind of notification is: what goes first when more is due than Telegram allows.

Telegram takes ~30 messages/s from a bot. When more are due at once (3,000
bookings starting at 09:00), the messages that carry a deadline — a reminder
to check in before the booking is released, an overdue return, a waitlist
offer, an approval request — are sent before the ones that only inform
("is over, thank you", receipts of API bookings), which can wait a minute.

Broker priorities (Redis: lower goes first): beat's sweeps and everything
else published without one are at 0, so the sweeps that write messages never
queue behind thousands of deliveries; urgent deliveries at 3; informational
ones at 6. With Redis each queue is one list per priority step
(CELERY_BROKER_TRANSPORT_OPTIONS["priority_steps"]) and a worker takes from
step 0 of every queue, then step 3, then 6, so an urgent message waits only
behind the few informational ones a worker already holds (prefetch multiplier
1). The embedded default's filesystem broker has no priorities; there urgent
chunks are only published first.

Kinds are named by their strings, so a kind another branch adds (the waitlist's
"waitlist_offer") is urgent as soon as it exists.
"""

from enum import IntEnum

from notifications.models import NotificationKind


class Urgency(IntEnum):
    """Lower goes first (the value is the broker priority, as Redis counts them; 0 is the sweeps')."""

    URGENT = 3
    INFORMATIONAL = 6


URGENT_KINDS = frozenset(
    {
        NotificationKind.REMINDER_START.value,  # check in before start + grace, or it is released
        NotificationKind.REMINDER_END.value,  # bring it back by the end
        NotificationKind.OVERDUE.value,
        NotificationKind.OVERDUE_REMINDER.value,
        NotificationKind.NEXT_MAY_BE_LATE.value,  # the next user plans around it
        NotificationKind.OUT_OF_SERVICE.value,  # the user must rebook before they come
        NotificationKind.ADMIN_APPROVAL.value,  # unapproved by its start, the booking expires
        NotificationKind.ADMIN_ACCESS_REQUEST.value,
        NotificationKind.ADMIN_OVERDUE.value,
        NotificationKind.SERIES_ENDING.value,  # extend before the last occurrence
        NotificationKind.WAITLIST_OFFER.value,  # take the freed slot before the offer lapses
    }
)


def urgency_of(kind: str) -> Urgency:
    return Urgency.URGENT if str(kind) in URGENT_KINDS else Urgency.INFORMATIONAL


def is_urgent(kind: str) -> bool:
    return str(kind) in URGENT_KINDS
