"""booking_create's two readers (bookings.admission) read the same facts and so refuse and accept alike.

On PostgreSQL booking_create reads everything in one statement (lock_read_and_insert); elsewhere it
uses the policies' own queries (read). Here both read a table of cases on PostgreSQL and must agree:
the facts themselves and the answer of the same checks.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction

from bookings import admission, errors, services
from bookings.models import (
    AccessRule,
    Booking,
    BookingStatus,
    Closure,
    ClosureReason,
    QuotaKind,
    QuotaPeriod,
    QuotaRule,
    Suspension,
)

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement reader is PostgreSQL's")


def outcome(facts, *, user, resource, start, end, chat_ids=frozenset()):
    try:
        admission.refuse(facts, user=user, resource=resource, start=start, end=end, note="", chat_ids=chat_ids)
    except errors.BookingError as exc:
        return type(exc).__name__, str(exc)
    return "accepted"


def both(*, user, resource, start, end, now):
    """(facts by the policies' queries, facts by the one statement), read in a transaction rolled back."""
    blocked_until = end + resource.buffer
    with transaction.atomic():
        by_orm = admission.read(
            user=user, resource=resource, start=start, end=end, blocked_until=blocked_until, now=now
        )
        booking = Booking(
            resource=resource, user=user, start=start, end=end, blocked_until=blocked_until,
            status=BookingStatus.CONFIRMED, created_at=now, updated_at=now,
        )  # fmt: skip
        by_sql = admission.lock_read_and_insert(booking=booking, user=user, resource=resource, now=now)
        transaction.set_rollback(True)
    return by_orm, by_sql


CASES = [
    "free",
    "outside_hours",
    "suspended",
    "closed_resource",
    "closed_category",
    "restricted_to_group",
    "in_the_group",
    "quota_bookings_full",
    "quota_hours_full",
    "quota_live_full",
    "quota_other_category",
    "taken_by_other",
    "own_exact_slot",
    "buffer_meets",
    "overdue_holds",
    "staff_skips_policies",
]


@pytest.mark.parametrize("case", CASES)
def test_one_statement_reads_what_the_policies_read(case, user, other_user, staff, make_resource, at, now):
    resource = make_resource(name="Camera", category="AV", buffer_minutes=30 if case == "buffer_meets" else 0)
    start, end = at(10, days=1), at(11, days=1)
    booker = staff if case == "staff_skips_policies" else user
    if case == "outside_hours":
        start, end = at(21, days=1), at(22, days=1)
    if case == "suspended":
        Suspension.objects.create(user=user, start=now - timedelta(days=1), until=now + timedelta(days=3))
    if case in ("closed_resource", "staff_skips_policies"):
        Closure.objects.create(
            resource=resource, start=at(9, days=1), end=at(12, days=1), reason_kind=ClosureReason.MAINTENANCE
        )
    if case == "closed_category":
        Closure.objects.create(
            category="AV", start=at(9, days=1), end=at(12, days=1), reason_kind=ClosureReason.MAINTENANCE
        )
    if case in ("restricted_to_group", "in_the_group", "staff_skips_policies"):
        group = Group.objects.create(name="Media lab")
        AccessRule.objects.create(category="AV", group=group)
        AccessRule.objects.create(resource=resource, telegram_chat_id=-100, telegram_chat_title="Lab chat")
        if case == "in_the_group":
            user.groups.add(group)
    if case.startswith("quota") or case == "staff_skips_policies":
        earlier = make_resource(name="Lens", category="AV" if case != "quota_other_category" else "Other")
        services.booking_create(user=booker, resource=earlier, start=at(8, days=1), end=at(9, days=1), now=now)
        kind = {"quota_hours_full": QuotaKind.HOURS, "quota_live_full": QuotaKind.LIVE}.get(case, QuotaKind.BOOKINGS)
        QuotaRule.objects.create(
            category="AV", kind=kind, period="" if kind == QuotaKind.LIVE else QuotaPeriod.DAY, limit=1
        )
        QuotaRule.objects.create(resource=resource, kind=QuotaKind.HOURS, period=QuotaPeriod.WEEK, limit=10)
    if case == "taken_by_other":
        services.booking_create(
            user=other_user, resource=resource, start=at(10, 30, days=1), end=at(11, 30, days=1), now=now
        )
    if case == "own_exact_slot":
        services.booking_create(user=user, resource=resource, start=start, end=end, now=now)
    if case == "buffer_meets":
        services.booking_create(user=other_user, resource=resource, start=at(9, days=1), end=at(10, days=1), now=now)
    if case == "overdue_holds":
        held = services.booking_create(
            user=other_user, resource=resource, start=at(8, days=1), end=at(9, days=1), now=now
        )
        Booking.objects.filter(pk=held.pk).update(status=BookingStatus.OVERDUE)

    by_orm, by_sql = both(user=booker, resource=resource, start=start, end=end, now=now)

    assert by_sql == by_orm
    assert outcome(by_sql, user=booker, resource=resource, start=start, end=end) == outcome(
        by_orm, user=booker, resource=resource, start=start, end=end
    )


def test_the_cases_cover_refusals_and_acceptances(user, make_resource, at, now):
    """The table above is not vacuous: a free slot is accepted and a suspension refused, by either reader."""
    resource = make_resource(name="Tripod")
    start, end = at(10, days=1), at(11, days=1)
    assert (
        outcome(
            both(user=user, resource=resource, start=start, end=end, now=now)[1],
            user=user,
            resource=resource,
            start=start,
            end=end,
        )
        == "accepted"
    )
    Suspension.objects.create(user=user, start=now - timedelta(days=1), until=now + timedelta(days=3))
    for facts in both(user=user, resource=resource, start=start, end=end, now=now):
        assert outcome(facts, user=user, resource=resource, start=start, end=end)[0] == "Suspended"
