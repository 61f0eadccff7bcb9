"""What booking_create reads to admit a new booking, and the checks it runs on what it read.

`Facts` is everything the checks of a new booking need: the resource's opening
hours, the user's suspension, the first closure the booking meets, the
resource's access rules and the user's groups, the quota rules that bind the
user with their usage (without this booking), and whether a live booking holds
the time. `refuse` runs the rules' own functions on it (rules, policies,
services.refuse_suspended), in booking_create's order; the selectors and the
other entry points (policies.enforce_booking_policies) call the same functions
on what they read themselves.

Two readers make the same Facts, both after the user's and the resource's row
locks (a later statement than the lock: in READ COMMITTED a statement sees
what was committed when it began, so the quota count sees the lock holder's
booking):
- `lock_read_and_insert` (PostgreSQL): one statement reads it all and, when no live
  booking holds the time, inserts the booking and its history row; a refusal
  of the checks then rolls the insert back with the transaction.
- `read` (any database): the policies' and selectors' own queries, one by one.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from functools import cache

from django.contrib.auth.models import Group
from django.db import DEFAULT_DB_ALIAS, connection, connections

from bookings import availability, errors, policies, rules
from bookings.models import (
    LIVE_STATUSES,
    QUOTA_COUNTED_STATUSES,
    AccessRule,
    Booking,
    BookingStatus,
    Closure,
    OpeningHours,
    QuotaKind,
    QuotaPeriod,
    QuotaRule,
    Resource,
)
from core.models import User


@dataclass
class Facts:
    """What the checks of one new booking read (see the module's docstring)."""

    opening_hours: list[OpeningHours]
    suspended_until: datetime | None
    closure: Closure | None
    access_rules: list[AccessRule]
    group_ids: set[int]
    quotas: list[policies.QuotaUsage]
    taken: bool
    own_id: int | None = None  # the user's own live booking of exactly this slot, when it is what holds it
    booking: Booking | None = field(default=None, compare=False)  # inserted by read_and_insert


class MembershipsNeeded(Exception):
    """Access depends on Telegram chats the caller did not ask about: ask (no lock held) and try again."""

    def __init__(self, access_rules):
        super().__init__()
        self.access_rules = access_rules


def refuse(facts: Facts, *, user: User, resource: Resource, start, end, note, chat_ids) -> None:
    """Raise the BookingError the booking breaks, in booking_create's order; MembershipsNeeded when it
    is refused access and `chat_ids` (None: not asked) could let it in."""
    rules.refuse_outside_opening_hours(resource, start, end, opening_hours=facts.opening_hours)
    rules.validate_note(note)
    # services imports this module: reached through the package at call time.
    from bookings import services

    services.refuse_suspended(user=user, until=facts.suspended_until)
    policies.refuse_closed(facts.closure)
    if not user.is_staff:
        access = policies.access_of(facts.access_rules, group_ids=facts.group_ids, chat_ids=chat_ids or frozenset())
        if not access.bookable:
            if chat_ids is None and policies.chat_memberships_could_matter(user=user, found=facts.access_rules):
                raise MembershipsNeeded(facts.access_rules)
            raise policies.not_permitted(access)
        policies.refuse_over_quota(facts.quotas, start=start, end=end)
    if facts.taken:
        # A second press of the same Confirm (or a retried request) meets the
        # user's own booking of exactly this slot: that is not someone else's.
        if facts.own_id is not None:
            raise errors.AlreadyBooked(booking=Booking.objects.select_related("resource", "user").get(pk=facts.own_id))
        raise errors.SlotTaken()


# --- Any database: the policies' and selectors' own queries --------------------------


def read(*, user: User, resource: Resource, start, end, blocked_until, now) -> Facts:
    """The Facts of a booking of `resource` by `user` from start to end (held until blocked_until)."""
    from bookings import services  # services imports this module

    taken = availability.live_bookings_meeting(resource_ids=[resource.pk], start=start, end=blocked_until)
    closures = policies.closures_between(resource_ids=[resource.pk], start=start, end=end).get(resource.pk)
    return Facts(
        opening_hours=list(resource.opening_hours.all()),
        suspended_until=services.suspended_until(user=user, now=now),
        closure=closures[0] if closures else None,
        access_rules=policies.access_rules_for([resource])[resource.pk],
        group_ids=set(user.groups.values_list("id", flat=True)),
        quotas=[
            policies.quota_usage(rule, user, moment=start, now=now)
            for rule in policies.quota_rules_for(user=user, resource=resource)
        ],
        taken=taken.exists(),
        own_id=taken.filter(user=user, start=start, end=end).values_list("pk", flat=True).first(),
    )


# --- PostgreSQL: one statement ---------------------------------------------------------


def _cast(field):
    return "timestamptz" if field.get_internal_type() == "DateTimeField" else field.db_type(connection)


def _quoted(statuses):
    # Our own constants (BookingStatus values), not input.
    return "ARRAY[" + ",".join(f"'{s}'" for s in statuses) + "]"


USER_GROUPS = User.groups.through._meta.db_table
_BOOKING_COLUMNS = [f for f in Booking._meta.concrete_fields if not f.primary_key]

# Row locks on the user, then the resource (services.lock_user's order), in one statement: the outer
# FOR UPDATE locks the resource's row only once a joined row exists, which needs the materialised CTE
# to have produced, and so locked, the user's row first.
LOCK_SQL = f"""
WITH u AS MATERIALIZED (SELECT id FROM {User._meta.db_table} WHERE id = %(user)s FOR UPDATE)
SELECT r.id FROM bookings_resource r, u WHERE r.id = %(resource)s FOR UPDATE OF r
"""  # noqa: S608


@cache
def _read_and_insert_sql():
    """The reading statement of lock_read_and_insert, built on first use (it names the booking's columns and
    their types as the database does).

    A booking counts in the quota period its start falls in (a live limit: whatever its start). The
    parameters carry casts: prepared, a statement's parameter types are fixed before any value is seen.
    """
    sql = f"""
WITH taken AS MATERIALIZED (
    SELECT b.id, b.user_id, b.start, b."end" FROM bookings_booking b
    WHERE b.resource_id = %(resource)s AND b.status = ANY({_quoted(LIVE_STATUSES)})
      AND b.start < %(blocked_until)s AND (b.blocked_until > %(start)s OR b.status = '{BookingStatus.OVERDUE}')
), new_booking AS (
    INSERT INTO bookings_booking ({", ".join(connection.ops.quote_name(f.column) for f in _BOOKING_COLUMNS)})
    SELECT {", ".join(f"%({f.attname})s::{_cast(f)}" for f in _BOOKING_COLUMNS)}
    WHERE NOT EXISTS (SELECT 1 FROM taken)
    RETURNING id
), new_event AS (
    INSERT INTO bookings_bookingevent (booking_id, from_status, to_status, at, by_id, reason)
    SELECT id, '', %(status)s::varchar, %(now)s::timestamptz, %(user)s::bigint, '' FROM new_booking
)
SELECT
    (SELECT id FROM new_booking),
    EXISTS (SELECT 1 FROM taken),
    (SELECT t.id FROM taken t WHERE t.user_id = %(user)s AND t.start = %(start)s AND t."end" = %(end)s
     ORDER BY t.start, t.id LIMIT 1),
    (SELECT json_agg(h ORDER BY h.weekday, h.opens) FROM bookings_openinghours h WHERE h.resource_id = %(resource)s),
    (SELECT max(s.until) FROM bookings_suspension s
     WHERE s.user_id = %(user)s AND s.lifted_at IS NULL AND s.start <= %(now)s AND s.until > %(now)s),
    (SELECT row_to_json(c) FROM bookings_closure c
     WHERE (c.resource_id = %(resource)s OR (c.resource_id IS NULL AND c.category IN ('', %(category)s)))
       AND c.start < %(end)s AND c."end" > %(start)s
     ORDER BY c.start, c.id LIMIT 1),
    (SELECT json_agg(a ORDER BY a.id) FROM (
        SELECT a.*, g.name AS group_name FROM bookings_accessrule a LEFT JOIN auth_group g ON g.id = a.group_id
        WHERE a.resource_id = %(resource)s OR (a.resource_id IS NULL AND a.category <> '' AND a.category = %(category)s)
    ) a),
    (SELECT json_agg(ug.group_id) FROM {USER_GROUPS} ug WHERE ug.user_id = %(user)s),
    (SELECT json_agg(q ORDER BY q.id) FROM (
        SELECT q.*, u.used FROM bookings_quotarule q CROSS JOIN LATERAL (
            SELECT CASE WHEN q.kind = '{QuotaKind.HOURS}'
                        THEN coalesce(extract(epoch FROM sum(b."end" - b.start)), 0) / 3600.0
                        ELSE count(*) END AS used
            FROM bookings_booking b
            WHERE b.user_id = %(user)s
              AND b.start >= CASE q.period WHEN '{QuotaPeriod.DAY}' THEN %(day_start)s
                WHEN '{QuotaPeriod.WEEK}' THEN %(week_start)s WHEN '{QuotaPeriod.MONTH}' THEN %(month_start)s
                ELSE '-infinity'::timestamptz END
              AND b.start < CASE q.period WHEN '{QuotaPeriod.DAY}' THEN %(day_end)s
                WHEN '{QuotaPeriod.WEEK}' THEN %(week_end)s WHEN '{QuotaPeriod.MONTH}' THEN %(month_end)s
                ELSE 'infinity'::timestamptz END
              AND b.status = ANY(CASE WHEN q.kind = '{QuotaKind.LIVE}' THEN {_quoted(LIVE_STATUSES)}
                                      ELSE {_quoted(QUOTA_COUNTED_STATUSES)} END)
              AND (q.kind <> '{QuotaKind.LIVE}' OR b."end" > %(now)s)
              AND (q.resource_id IS NULL OR b.resource_id = q.resource_id)
              AND (q.resource_id IS NOT NULL OR q.category = ''
                   OR b.resource_id IN (SELECT br.id FROM bookings_resource br WHERE br.category = q.category))
        ) u
        WHERE NOT %(staff)s
          AND (q.group_id IS NULL OR q.group_id IN (SELECT g.group_id FROM {USER_GROUPS} g WHERE g.user_id = %(user)s))
          AND ((q.resource_id IS NULL AND q.category IN ('', %(category)s)) OR q.resource_id = %(resource)s)
    ) q)
    """  # noqa: S608
    return " ".join(sql.split())


@cache
def _preparing_cursor_class():
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        """Server-side binding, and every statement prepared by psycopg (once per connection, kept in its cache)."""

        def execute(self, query, params=None, *, prepare=True, binary=None):
            return super().execute(query, params, prepare=prepare, binary=binary)

    return PreparingCursor


def _prepared_cursor():
    """A Django cursor (so execute_wrapper and the query log see its statements) whose statements are prepared.

    The connection's own cursors bind on the client and prepare nothing (Django's default, for connection
    poolers); planning the reading statement took longer than running it. A pooler in transaction mode in
    front of PostgreSQL would need its support of protocol-level prepared statements (PgBouncer >= 1.21).
    """
    db = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: every attribute of the `connection` proxy is a lookup
    db.ensure_connection()
    db.validate_thread_sharing()
    raw = _preparing_cursor_class()(db.connection)
    return db.make_debug_cursor(raw) if db.queries_logged else db.make_cursor(raw)


def lock_read_and_insert(*, booking: Booking, user: User, resource: Resource, now) -> Facts:
    """Lock `booking`'s user and resource, then read its Facts in a statement that also inserts it and its
    history row (by its user, at `now`) when no live booking holds its time.

    The reading statement starts after the lock is held, so it sees what the lock's last holder committed.
    The facts' `booking` is then `booking`, saved; else None. The caller's transaction rolls the insert
    back if the checks refuse it.
    """
    start, end = booking.start, booking.end
    db = connections[DEFAULT_DB_ALIAS]
    params = {f.attname: f.get_db_prep_save(getattr(booking, f.attname), db) for f in _BOOKING_COLUMNS}
    bounds = {period: policies.period_bounds(period, start) for period in QuotaPeriod.values}
    params.update(
        resource=resource.pk,
        user=user.pk,
        staff=user.is_staff,
        category=resource.category,
        start=start,
        end=end,
        blocked_until=booking.blocked_until,
        now=now,
        status=booking.status,
        **{f"{period}_start": bounds[period][0] for period in bounds},
        **{f"{period}_end": bounds[period][1] for period in bounds},
    )
    with _prepared_cursor() as cursor:
        cursor.execute(LOCK_SQL, {"user": user.pk, "resource": resource.pk})
        cursor.execute(_read_and_insert_sql(), params)
        booking_id, taken, own_id, hours, suspended_until, closure, access, group_ids, quotas = cursor.fetchone()
    if booking_id is not None:
        booking.pk = booking_id
        booking._state.adding, booking._state.db = False, db.alias
    return Facts(
        opening_hours=[
            OpeningHours(
                id=h["id"],
                resource_id=resource.pk,
                weekday=h["weekday"],
                opens=time.fromisoformat(h["opens"]),
                closes=time.fromisoformat(h["closes"]),
            )
            for h in _json(hours)
        ],
        suspended_until=suspended_until,
        closure=_closure(_json(closure)) if closure is not None else None,
        access_rules=[_access_rule(row) for row in _json(access)],
        group_ids=set(_json(group_ids)),
        quotas=[_quota_usage(row, resource=resource, bounds=bounds) for row in _json(quotas)],
        taken=taken,
        own_id=own_id,
        booking=booking if booking_id is not None else None,
    )


def _json(value):
    """A json column's value: json_agg of no rows is NULL (so []); psycopg decodes json itself, else the text."""
    if value is None:
        return []
    return json.loads(value) if isinstance(value, str) else value


def _moment(text):
    return datetime.fromisoformat(text).astimezone(UTC)


def _picked(row, *names):
    """The columns `names` of a json row, as a model's keyword arguments."""
    return {name: row[name] for name in names}


def _closure(row):
    return Closure(
        **_picked(row, "id", "resource_id", "category", "reason_kind", "reason"),
        start=_moment(row["start"]),
        end=_moment(row["end"]),
    )


def _access_rule(row):
    rule = AccessRule(**_picked(row, "id", "resource_id", "category", "telegram_chat_id", "telegram_chat_title"))
    if row["group_id"] is not None:
        rule.group = Group(id=row["group_id"], name=row["group_name"])
    return rule


def _quota_usage(row, *, resource, bounds):
    rule = QuotaRule(**_picked(row, "id", "resource_id", "category", "group_id", "kind", "period", "limit"))
    if rule.resource_id is not None:
        rule.resource = resource  # a resource's own rule binds only that resource
    period_start, period_end = (None, None) if rule.kind == QuotaKind.LIVE else bounds[rule.period]
    return policies.QuotaUsage(rule, row["used"], rule.limit, period_start, period_end)
