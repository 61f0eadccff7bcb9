"""Institution policies: who may book what, fair-use quotas, closures — the rules in one place.

`enforce_booking_policies` is the one check every way of making a booking
calls (booking_create today; series, extend and waitlist offers later),
inside the transaction that holds the user's row lock, so two requests of one
user cannot both pass a quota. The selectors (`resources_bookable_by`,
`user_quota_usage`, `closures_between`) answer from the same functions, so
what the bot and the API show is what booking_create enforces. The writes of
the policies (access requests, closures) are here too, next to their rules.

Staff may book everything and are exempt from quotas; closures bind everyone.
"""

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import DurationField, Exists, F, OuterRef, Q, QuerySet, Sum
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from bookings import errors, rules, services
from bookings.actions import require_staff
from bookings.models import (
    LIVE_STATUSES,
    QUOTA_COUNTED_STATUSES,
    AccessRequest,
    AccessRequestStatus,
    AccessRule,
    Booking,
    BookingStatus,
    Closure,
    QuotaKind,
    QuotaPeriod,
    QuotaRule,
    Resource,
)
from bookings.signals import access_request_changed, time_freed
from core.models import User
from core.telegram_membership import is_chat_member

# --- Who may book what ------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    """May this user book this resource; if not, who may (group and chat names)."""

    bookable: bool
    restricted_to: tuple[str, ...] = ()


OPEN = Access(bookable=True)


def access_rules_for(resources: Iterable[Resource]) -> dict[int, list[AccessRule]]:
    """{resource id: [AccessRule, ...]} for these resources, in one query."""
    resources = list(resources)
    categories = {r.category for r in resources if r.category}
    found = (
        AccessRule.objects.filter(Q(resource__in=resources) | Q(resource__isnull=True, category__in=categories))
        .select_related("group")
        .order_by("id")
    )
    by_resource = {r.pk: [] for r in resources}
    for rule in found:
        for resource in resources:
            if rule.resource_id == resource.pk or (rule.resource_id is None and rule.category == resource.category):
                by_resource[resource.pk].append(rule)
    return by_resource


def user_chat_memberships(*, user: User | None, resources: Iterable[Resource]) -> frozenset[int]:
    """The Telegram chats of these resources' access rules that `user` is in.

    Calls Telegram (cached): run it outside any transaction and pass the
    answer to `resources_bookable_by` / `enforce_booking_policies`.
    """
    if user is None or user.is_staff or not getattr(user, "telegram_id", None):
        return frozenset()
    return chat_memberships_of(user=user, found=[r for rules_ in access_rules_for(resources).values() for r in rules_])


def chat_memberships_could_matter(*, user: User, found: Iterable[AccessRule]) -> bool:
    """Whether asking Telegram (chat_memberships_of) could change `user`'s access under the rules `found`."""
    return bool(getattr(user, "telegram_id", None)) and not user.is_staff and any(r.telegram_chat_id for r in found)


def chat_memberships_of(*, user: User, found: Iterable[AccessRule]) -> frozenset[int]:
    """The Telegram chats of the access rules `found` that `user` is in (calls Telegram, cached: no lock held)."""
    if user.is_staff or not getattr(user, "telegram_id", None):
        return frozenset()
    chats = {rule.telegram_chat_id for rule in found}
    chats.discard(None)
    return frozenset(chat for chat in chats if is_chat_member(telegram_id=user.telegram_id, chat_id=chat))


def resources_bookable_by(
    *, user: User | None, resources: Iterable[Resource], chat_ids: frozenset[int] | None = None
) -> dict[int, Access]:
    """{resource id: Access} — whether `user` may book each resource, and if not, who may.

    Two queries (rules, the user's groups) for any number of resources.
    `chat_ids`: the user's memberships from `user_chat_memberships`; asked
    here when not given (so call this outside a transaction then).
    """
    resources = list(resources)
    if user is not None and user.is_staff:
        return {r.pk: OPEN for r in resources}
    by_resource = access_rules_for(resources)
    if not any(by_resource.values()):
        return {r.pk: OPEN for r in resources}
    if chat_ids is None:
        chat_ids = user_chat_memberships(user=user, resources=resources)
    group_ids = set(user.groups.values_list("id", flat=True)) if user is not None and user.pk else set()
    return {r.pk: access_of(by_resource[r.pk], group_ids=group_ids, chat_ids=chat_ids) for r in resources}


def access_of(found: list[AccessRule], *, group_ids: set[int], chat_ids: frozenset[int]) -> Access:
    """Access to a resource whose access rules are `found`, for a user in these groups and chats."""
    if not found or any(r.group_id in group_ids or r.telegram_chat_id in chat_ids for r in found):
        return OPEN
    return Access(bookable=False, restricted_to=tuple(dict.fromkeys(r.group_label for r in found)))


def only_bookable_queryset(*, user: User | None, resources: QuerySet[Resource]) -> QuerySet[Resource]:
    """`resources` narrowed in SQL to those `user` may book: resources_bookable_by's rule as one WHERE
    clause, so a page of them can be cut in the database (availability first at institution scale).

    A resource is bookable when no access rule names it (by resource, or by its non-empty category), or
    one of those rules names a group of the user or a Telegram chat the user is in. Asks Telegram (cached)
    about the chats of those rules: call it outside any transaction.
    """
    if user is not None and user.is_staff:
        return resources
    applying = AccessRule.objects.filter(
        Q(resource=OuterRef("pk")) | (Q(resource__isnull=True, category=OuterRef("category")) & ~Q(category=""))
    )
    group_ids = list(user.groups.values_list("id", flat=True)) if user is not None and user.pk else []
    chat_ids = _memberships_among(user=user, resources=resources)
    allowed = Q(group_id__in=group_ids) | Q(telegram_chat_id__in=chat_ids)
    return resources.filter(~Exists(applying) | Exists(applying.filter(allowed)))


def _memberships_among(*, user, resources):
    """The chats of the access rules applying to any of `resources` (a queryset) that `user` is in."""
    if user is None:
        return frozenset()
    applying = AccessRule.objects.filter(telegram_chat_id__isnull=False).filter(
        Q(resource__in=resources.values("pk"))
        | (Q(resource__isnull=True, category__in=resources.values("category")) & ~Q(category=""))
    )
    return chat_memberships_of(user=user, found=applying.only("telegram_chat_id"))


def resources_only_bookable(*, user: User | None, resources: Iterable[Resource]) -> list[Resource]:
    """The resources of `resources` that `user` may book, in their order (for lists that offer starts)."""
    resources = list(resources)
    access = resources_bookable_by(user=user, resources=resources)
    return [r for r in resources if access[r.pk].bookable]


def not_permitted(access: Access) -> errors.NotPermitted:
    return errors.NotPermitted(
        _("Only members of %(groups)s may book this resource.") % {"groups": ", ".join(access.restricted_to)}
    )


# --- Fair-use quotas --------------------------------------------------------------


@dataclass(frozen=True)
class QuotaUsage:
    """One quota rule as it stands for a user: how much is used of how much, until when."""

    rule: QuotaRule
    used: float  # bookings, or hours
    limit: int
    period_start: datetime | None  # None for live-at-once limits
    period_end: datetime | None

    @property
    def scope(self) -> str:
        """The resource's name, the category, or "all resources" (built when a message needs it)."""
        return scope_label(self.rule)

    @property
    def left(self) -> float:
        return max(self.limit - self.used, 0)

    def describe(self) -> str:
        """ "3 h of 4 h left this week on Meeting rooms" — for the confirm screen and /my."""
        kind = self.rule.kind
        if kind == QuotaKind.HOURS:
            return _("%(left)s of %(limit)s left %(period)s on %(scope)s") % {
                "left": rules.format_minutes(self.left * 60),
                "limit": rules.format_minutes(self.limit * 60),
                "period": period_phrase(self.rule.period),
                "scope": self.scope,
            }
        if kind == QuotaKind.BOOKINGS:
            return ngettext(
                "%(left)d of %(limit)d booking left %(period)s on %(scope)s",
                "%(left)d of %(limit)d bookings left %(period)s on %(scope)s",
                self.limit,
            ) % {"left": self.left, "limit": self.limit, "period": period_phrase(self.rule.period), "scope": self.scope}
        return ngettext(
            "%(left)d of %(limit)d live booking at once left on %(scope)s",
            "%(left)d of %(limit)d live bookings at once left on %(scope)s",
            self.limit,
        ) % {"left": self.left, "limit": self.limit, "scope": self.scope}


def period_bounds(period: str, moment: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the calendar day / week (from Monday) / month holding `moment`, in the site's zone.

    Built from local midnights, so a period holding a DST change is 23 or 25
    hours (a day) longer or shorter in real time, as the calendar says.
    """
    day = moment.astimezone(rules.site_zone()).date()
    if period == QuotaPeriod.DAY:
        first, after = day, day + timedelta(days=1)
    elif period == QuotaPeriod.WEEK:
        first = day - timedelta(days=day.weekday())
        after = first + timedelta(days=7)
    else:
        first = day.replace(day=1)
        after = first + timedelta(days=calendar.monthrange(first.year, first.month)[1])
    return rules.local_midnight(first), rules.local_midnight(after)


def period_phrase(period: str) -> str:
    return {
        QuotaPeriod.DAY: pgettext("quota period", "today"),
        QuotaPeriod.WEEK: pgettext("quota period", "this week"),
        QuotaPeriod.MONTH: pgettext("quota period", "this month"),
    }[period]


def _reset_phrase(period, period_end):
    if period == QuotaPeriod.DAY:
        return _("the day resets at midnight")
    if period == QuotaPeriod.WEEK:
        return _("the week resets on Monday")
    return _("the month resets on %(date)s") % {"date": _format_date(period_end.date())}


def _format_date(day: date):
    return date_format(day, "DATE_FORMAT")


def quota_rules_for(*, user: User | None, resource: Resource | None = None) -> list[QuotaRule]:
    """The quota rules that bind `user` (on `resource`, or anywhere): none for staff."""
    if user is None or user.is_staff:
        return []
    qs = QuotaRule.objects.select_related("resource").filter(
        Q(group__isnull=True) | Q(group__in=user.groups.values("id"))
    )
    if resource is not None:
        qs = qs.filter(
            Q(resource__isnull=True, category="")
            | Q(resource=resource)
            | (Q(resource__isnull=True, category=resource.category) & ~Q(category=""))
        )
    return list(qs.order_by("id"))


def _scope_filter(rule):
    if rule.resource_id:
        return Q(resource_id=rule.resource_id)
    if rule.category:
        return Q(resource__category=rule.category)
    return Q()


def scope_label(rule):
    if rule.resource_id:
        return rule.resource.name
    return rule.category or _("all resources")


def quota_usage(rule, user, *, moment, now, exclude_booking_id=None):
    """QuotaUsage of `rule` for `user` in the period holding `moment` (live limits: at `now`).

    `exclude_booking_id`: a booking being extended or moved is counted with its new times, not also its old.
    """
    counted = Booking.objects.filter(_scope_filter(rule), user=user)
    if exclude_booking_id is not None:
        counted = counted.exclude(pk=exclude_booking_id)
    if rule.kind == QuotaKind.LIVE:
        used = counted.filter(status__in=LIVE_STATUSES, end__gt=now).count()
        return QuotaUsage(rule, used, rule.limit, None, None)
    start, end = period_bounds(rule.period, moment)
    # A booking counts in the period its start falls in.
    in_period = counted.filter(status__in=QUOTA_COUNTED_STATUSES, start__gte=start, start__lt=end)
    if rule.kind == QuotaKind.BOOKINGS:
        used = in_period.count()
    else:
        # Summed in the database: instants subtract to real elapsed time, right across DST changes.
        total = in_period.aggregate(total=Sum(F("end") - F("start"), output_field=DurationField()))["total"]
        used = total.total_seconds() / 3600 if total else 0
    return QuotaUsage(rule, used, rule.limit, start, end)


def user_quota_usage(
    *, user: User | None, resource: Resource | None = None, now: datetime | None = None
) -> list[QuotaUsage]:
    """The quota rules that apply to `user` (on `resource`, or all of them), each with its usage now.

    For the confirm screen ("3 h of 4 h left this week"), /my and
    GET /api/me/quotas/. Empty for staff, who are exempt.
    """
    now = now or timezone.now()
    return [quota_usage(rule, user, moment=now, now=now) for rule in quota_rules_for(user=user, resource=resource)]


def _check_quotas(*, user, resource, start, end, now, exclude_booking_id=None):
    """Raise QuotaExceeded for the binding rule when this booking would break one."""
    refuse_over_quota(
        [
            quota_usage(rule, user, moment=start, now=now, exclude_booking_id=exclude_booking_id)
            for rule in quota_rules_for(user=user, resource=resource)
        ],
        start=start,
        end=end,
    )


def refuse_over_quota(usages: Iterable[QuotaUsage], *, start: datetime, end: datetime) -> None:
    """Raise QuotaExceeded for the binding rule when a booking from start to end breaks one of `usages`
    (each rule's usage in the period holding `start`, without this booking)."""
    length_hours = rules.length_of(start, end).total_seconds() / 3600
    broken = []
    for usage in usages:
        rule = usage.rule
        needed = length_hours if rule.kind == QuotaKind.HOURS else 1
        if usage.used + needed > rule.limit + 1e-9:
            broken.append(usage)
    if broken:
        # The rule whose room frees up last is the one that decides (a live limit: when a booking ends).
        binding = max(broken, key=lambda u: u.period_end or datetime.max.replace(tzinfo=UTC))
        raise errors.QuotaExceeded(quota_exceeded_message(binding))


def quota_exceeded_message(usage: QuotaUsage) -> str:
    """ "You have 4 h of 4 h this week on Meeting rooms; the week resets on Monday." """
    rule = usage.rule
    if rule.kind == QuotaKind.LIVE:
        return ngettext(
            "You have %(used)d of %(limit)d live booking at once on %(scope)s; "
            "room frees up when one ends or is cancelled.",
            "You have %(used)d of %(limit)d live bookings at once on %(scope)s; "
            "room frees up when one ends or is cancelled.",
            rule.limit,
        ) % {"used": usage.used, "limit": rule.limit, "scope": usage.scope}
    values = {
        "limit": rule.limit,
        "period": period_phrase(rule.period),
        "scope": usage.scope,
        "reset": _reset_phrase(rule.period, usage.period_end),
    }
    if rule.kind == QuotaKind.BOOKINGS:
        return ngettext(
            "You have %(used)d of %(limit)d booking %(period)s on %(scope)s; %(reset)s.",
            "You have %(used)d of %(limit)d bookings %(period)s on %(scope)s; %(reset)s.",
            rule.limit,
        ) % {**values, "used": usage.used}
    return _("You have %(used)s of %(limit)s %(period)s on %(scope)s; %(reset)s.") % {
        **values,
        "used": rules.format_minutes(round(usage.used * 60)),
        "limit": rules.format_minutes(rule.limit * 60),
    }


# --- Closures ---------------------------------------------------------------------

CLOSURES_SQL = """
SELECT c.*, r.id AS for_resource_id
FROM bookings_closure c
JOIN bookings_resource r
  ON c.resource_id = r.id OR (c.resource_id IS NULL AND (c.category = '' OR c.category = r.category))
WHERE r.id IN ({ids}) AND c.start < %s AND c."end" > %s
ORDER BY r.id, c.start
"""


def closures_between(*, resource_ids: Iterable[int], start: datetime, end: datetime) -> dict[int, list[Closure]]:
    """{resource id: [Closure, ...]} of the closures meeting [start, end), in one query.

    The availability engine subtracts these from free time; booking_create
    refuses a booking that meets one. Resources without closures are absent.
    """
    resource_ids = [int(pk) for pk in resource_ids]
    if not resource_ids:
        return {}
    sql = CLOSURES_SQL.format(ids=", ".join(["%s"] * len(resource_ids)))
    found = {}
    for closure in Closure.objects.raw(sql, [*resource_ids, end, start]):
        found.setdefault(closure.for_resource_id, []).append(closure)
    return found


def _check_closures(*, resource, start, end):
    closures = closures_between(resource_ids=[resource.pk], start=start, end=end).get(resource.pk)
    refuse_closed(closures[0] if closures else None)


def refuse_closed(closure: Closure | None) -> None:
    """Raise Closed with the reason of `closure`, the first closure a booking meets, if there is one."""
    if closure is not None:
        raise errors.Closed(reason=closure.reason_text())


def closure_affected_bookings(
    *, resource: Resource | None = None, category: str = "", start: datetime, end: datetime
) -> list[Booking]:
    """Live bookings a closure from start to end would meet, soonest first: what the admin confirms."""
    qs = Booking.objects.filter(status__in=LIVE_STATUSES, start__lt=end, end__gt=start)
    if resource is not None:
        qs = qs.filter(resource=resource)
    elif category:
        qs = qs.filter(resource__category=category)
    return list(qs.select_related("resource", "user").order_by("start", "id"))


def closure_create(
    *,
    resource: Resource | None = None,
    category: str = "",
    start: datetime,
    end: datetime,
    reason_kind: str,
    reason: str = "",
    by: User,
    now: datetime | None = None,
) -> tuple[Closure, list[Booking], list[Booking]]:
    """Close a resource / category / everything from start to end; cancel the live bookings it meets.

    Each affected pending or confirmed booking is cancelled through the
    status machine (one history row, one signal, so one message per user),
    with the closure's reason. A booking already running (active) is left
    for staff to end; it is returned in `running`. Returns (closure,
    cancelled, running).
    """
    require_staff(by)
    now = now or timezone.now()
    if resource is not None and category:
        raise errors.BookingError(_("A closure covers one resource or one category, not both."))
    if end.astimezone(UTC) <= start.astimezone(UTC):
        raise errors.InvalidTimeRange()
    rules.validate_note(reason)
    with transaction.atomic():
        closure = Closure.objects.create(
            resource=resource,
            category=category,
            start=start,
            end=end,
            reason_kind=reason_kind,
            reason=reason,
            created_by=by,
        )
        cancelled, running = [], []
        for booking in closure_affected_bookings(resource=resource, category=category, start=start, end=end):
            if booking.status == BookingStatus.ACTIVE:
                running.append(booking)
                continue
            services.booking_cancel_for_closure(
                booking=booking, by=by, reason=_closed_reason(closure, booking.user), now=now
            )
            cancelled.append(booking)
    return closure, cancelled, running


def closure_delete(*, closure: Closure, by: User, now: datetime | None = None) -> None:
    """Staff lift a closure: it is deleted, and its time on each resource it covered is free again
    (time_freed, so whoever waits for it there is offered it: bookings.waitlist)."""
    require_staff(by)
    now = now or timezone.now()
    with transaction.atomic():
        if closure.resource_id:
            resource_ids = [closure.resource_id]
        else:
            covered = Resource.objects.filter(is_active=True)
            if closure.category:
                covered = covered.filter(category=closure.category)
            resource_ids = list(covered.values_list("pk", flat=True))
        start, end = closure.start, closure.end
        closure.delete()
        for resource_id in resource_ids:
            time_freed.send(sender=Closure, resource_id=resource_id, start=start, end=end, at=now)


def _closed_reason(closure, user):
    """The cancellation's reason in its user's language, not the admin's: the message shows it as written."""
    try:
        language = translation.get_supported_language_variant(user.language_code or settings.LANGUAGE_CODE)
    except LookupError:
        language = settings.LANGUAGE_CODE
    with translation.override(language):
        return _("Closed (%(reason)s)") % {"reason": closure.reason_text()}


# --- The one check of a new booking -----------------------------------------------


def enforce_booking_policies(
    *,
    user: User | None,
    resource: Resource,
    start: datetime,
    end: datetime,
    now: datetime | None = None,
    chat_ids: frozenset[int] | None = None,
    exclude_booking_id: int | None = None,
) -> None:
    """Raise the policy error a booking of `resource` by `user` from start to end breaks, if any.

    Order: closed (binds everyone), not_permitted, quota_exceeded (staff
    skip the last two). Call it inside the transaction that holds the
    user's row lock (services.lock_user), so quota counts cannot race;
    `chat_ids` comes from `user_chat_memberships`, asked before the
    transaction, since it may call Telegram. `exclude_booking_id`: the
    booking being extended or moved (bookings.reschedule), which the quotas
    count only with its new times.
    """
    now = now or timezone.now()
    _check_closures(resource=resource, start=start, end=end)
    if user is not None and user.is_staff:
        return
    access = resources_bookable_by(user=user, resources=[resource], chat_ids=chat_ids or frozenset())[resource.pk]
    if not access.bookable:
        raise not_permitted(access)
    _check_quotas(user=user, resource=resource, start=start, end=end, now=now, exclude_booking_id=exclude_booking_id)


# --- Access requests --------------------------------------------------------------


def access_request_create(*, user: User, resource: Resource, reason: str = "") -> AccessRequest:
    """Ask for access to a restricted resource; one open request per user and resource."""
    rules.validate_note(reason)
    if resources_bookable_by(user=user, resources=[resource])[resource.pk].bookable:
        raise errors.AlreadyPermitted()
    try:
        with transaction.atomic():
            request = AccessRequest.objects.create(user=user, resource=resource, reason=reason or "")
            access_request_changed.send(
                sender=AccessRequest, request=request, from_status="", to_status=request.status, by=user
            )
    except IntegrityError:
        raise errors.AccessRequestPending() from None
    return request


def _grantable_group(resource):
    """The Django group approving gives: the resource's own rule first, then its category's."""
    found = access_rules_for([resource])[resource.pk]
    found.sort(key=lambda r: r.resource_id is None)
    return next((r.group for r in found if r.group_id), None), [r for r in found if r.telegram_chat_id]


def access_request_approve(*, request: AccessRequest, by: User, now: datetime | None = None) -> AccessRequest:
    """Staff let the user in: they join the resource's Django group.

    A resource restricted only to Telegram chats has no group to join:
    that is refused (no_group_to_grant), since the bot cannot add people to a chat.
    """
    require_staff(by)
    group, chats = _grantable_group(request.resource)
    if group is None:
        raise errors.NoGroupToGrant(chats=", ".join(r.group_label for r in chats) or "—")
    with transaction.atomic():
        _decide(request, to_status=AccessRequestStatus.APPROVED, by=by, reason="", now=now)
        request.user.groups.add(group)
    return request


def access_request_reject(
    *, request: AccessRequest, by: User, reason: str = "", now: datetime | None = None
) -> AccessRequest:
    """Staff refuse; the user is told the reason."""
    require_staff(by)
    rules.validate_note(reason)
    with transaction.atomic():
        _decide(request, to_status=AccessRequestStatus.REJECTED, by=by, reason=reason, now=now)
    return request


def _decide(request, *, to_status, by, reason, now):
    """pending → approved/rejected as one conditional UPDATE, so two admins cannot both decide."""
    now = now or timezone.now()
    updated = AccessRequest.objects.filter(pk=request.pk, status=AccessRequestStatus.PENDING).update(
        status=to_status, decided_by=by, decided_at=now, decision_reason=reason or ""
    )
    if not updated:
        request.refresh_from_db()
        raise errors.WrongStatus(status=AccessRequestStatus(request.status).label)
    request.status, request.decided_by, request.decided_at, request.decision_reason = to_status, by, now, reason or ""
    access_request_changed.send(
        sender=AccessRequest, request=request, from_status=AccessRequestStatus.PENDING, to_status=to_status, by=by
    )


def access_requests_visible_to(*, user: User, status: str | None = None) -> QuerySet[AccessRequest]:
    qs = AccessRequest.objects.select_related("user", "resource", "decided_by")
    if not user.is_staff:
        qs = qs.filter(user=user)
    if status:
        qs = qs.filter(status=status)
    return qs


def access_request_get(*, request_id: int, user: User) -> AccessRequest | None:
    return access_requests_visible_to(user=user).filter(pk=request_id).first()
