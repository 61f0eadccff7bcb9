"""Reads of the booking domain: the catalogue, what is free when, a user's bookings.

The package's public face for reads. The plain list queries live here; the
availability selectors are thin and delegate to the engine in
bookings.availability, which computes free time from the same rules the
services enforce (bookings.rules), so what a selector offers, booking_create
accepts. Queries touch only live bookings through partial indexes, so their
cost follows the number of current bookings, not the size of the table.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache

from django.conf import settings
from django.db.models import F, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from bookings import availability, errors, policies, rules

# "What may this user do with this booking now" is a read; its rule lives in bookings.actions.
from bookings.actions import ANY_STAFF as ANY_STAFF
from bookings.actions import Action as Action
from bookings.actions import booking_actions as booking_actions
from bookings.availability import FreeStart, Interval
from bookings.models import (
    LIVE_STATUSES,
    Booking,
    BookingEvent,
    BookingStatus,
    OpeningHours,
    Resource,
    ResourceAlias,
    ResourceKind,
    Strike,
    Suspension,
    name_key,
)
from bookings.reschedule import EXTENSION_CHOICES as EXTENSION_CHOICES
from bookings.reschedule import booking_extensions_possible as booking_extensions_possible
from bookings.reschedule import booking_move_days as booking_move_days
from bookings.reschedule import booking_move_lengths as booking_move_lengths
from bookings.reschedule import booking_move_refusal as booking_move_refusal
from bookings.reschedule import booking_move_starts as booking_move_starts
from core.models import User


def resources_list(
    *, kind: str | None = None, category: str | None = None, include_inactive: bool = False
) -> QuerySet[Resource]:
    qs = Resource.objects.prefetch_related(_hours_prefetch())
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if kind:
        qs = qs.filter(kind=kind)
    if category:
        qs = qs.filter(category__iexact=category)
    return qs


def resource_get(*, resource_id: int, include_inactive: bool = False) -> Resource | None:
    """The resource with its opening hours loaded, or None."""
    return resources_list(include_inactive=include_inactive).filter(pk=resource_id).first()


def resources_matching(*, text: str, limit: int = 10) -> list[Resource]:
    """Active resources a typed name means, by their name or any alias, in any case and alphabet.

    The best kind of match found wins, and hides the worse kinds, so a name typed
    right is never made ambiguous by a neighbour one typo away:
    1. the whole name or alias is `text`;
    2. it, or a word of it, starts with `text` ("orion" finds "Meeting room Orion");
    3. `text`'s words are a run of its words with a typo each: an edit distance of
       at most 1 on a typed word of 5–7 letters, 2 on a longer one; a shorter typed
       word must be exact (or a prefix, if it is the last).
    Ties are ordered by the number of typos, then by name.
    """
    query = name_key(text)
    if not query:
        return []
    # One query for every name and alias, matched in Python: casefolding and
    # edit distances are the same on PostgreSQL and SQLite (SQLite's LIKE folds
    # ASCII only), and a catalogue of thousands of rows takes tens of milliseconds
    # (bench/bench_resources_matching.py).
    names = Resource.objects.filter(is_active=True).order_by().values_list("pk", "name")
    aliases = ResourceAlias.objects.filter(resource__is_active=True).order_by().values_list("resource_id", "key")
    typed = _words_of(query)
    typos_of = _typo_counter(typed)
    word_start = " " + query
    exact, prefix, fuzzy = set(), set(), {}
    for pk, name in names.union(aliases, all=True):
        key = _key_of(name)
        if key == query:
            exact.add(pk)
        elif key.startswith(query) or word_start in key:
            prefix.add(pk)
        elif not exact and not prefix and typed:
            typos = _typos_in_run(typed, _words_of(key), typos_of)
            if typos is not None and typos < fuzzy.get(pk, typos + 1):
                fuzzy[pk] = typos
    found = exact or prefix
    if found:
        return list(resources_list().filter(pk__in=found).order_by("name")[:limit])
    by_pk = resources_list().filter(pk__in=fuzzy).in_bulk()
    return sorted(by_pk.values(), key=lambda r: (fuzzy[r.pk], r.name))[:limit]


_WORD = re.compile(r"\w+")
# Names and aliases change rarely and are re-read on every call: their keys and
# words are pure functions of the text, so a bounded cache spares recomputing them.
_key_of = lru_cache(maxsize=32768)(name_key)


@lru_cache(maxsize=32768)
def _words_of(key):
    return tuple(_WORD.findall(key))


def _typo_budget(word):
    """How many edits a typed word may be away from a word it means."""
    if len(word) >= 8:
        return 2
    if len(word) >= 5:
        return 1
    return 0


def _typo_counter(typed):
    """typos_of(i, word): the typos between typed word i and a name's `word`, or None
    beyond its budget; the last typed word may also be a prefix. Remembered per
    call, since a catalogue repeats its words ("room", "projector") many times."""
    known = {}
    last = len(typed) - 1

    def typos_of(i, word):
        if (i, word) not in known:
            mine = typed[i]
            if word == mine or (i == last and word.startswith(mine)):
                known[i, word] = 0
            else:
                budget = _typo_budget(mine)
                distance = _edit_distance(mine, word, budget) if budget else 1
                known[i, word] = distance if distance <= budget else None
        return known[i, word]

    return typos_of


def _typos_in_run(typed, words, typos_of):
    """The fewest typos with which the typed words are a run of the name's words, or None."""
    best = None
    for first in range(len(words) - len(typed) + 1):
        total = 0
        for i in range(len(typed)):
            typos = typos_of(i, words[first + i])
            if typos is None:
                break
            total += typos
        else:
            best = total if best is None else min(best, total)
    return best


def _edit_distance(a, b, budget):
    """The Damerau–Levenshtein distance (optimal string alignment: an adjacent swap
    is one edit) of `a` and `b`, or budget + 1 once it is sure to exceed `budget`."""
    if abs(len(a) - len(b)) > budget:
        return budget + 1
    previous, current = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        before, previous, current = previous, current, [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)
        # A swap reaches back two rows, so only two rows past the budget rule it out.
        if min(current) > budget and min(previous) > budget:
            return budget + 1
    return min(current[len(b)], budget + 1)


def resource_categories(*, kind: str | None = None) -> list[str]:
    qs = Resource.objects.filter(is_active=True)
    if kind:
        qs = qs.filter(kind=kind)
    return sorted(set(qs.values_list("category", flat=True)) - {""})


def resource_free_intervals(*, resource: Resource, day: date, now: datetime | None = None) -> list[Interval]:
    """The free intervals of a local date: every booking inside one is accepted.

    Clipped to opening hours, the minimum notice and how far ahead one may
    book, aligned to the slot grid, and at least the minimum duration long.
    Another booking blocks [its start - this resource's buffer, its end +
    its buffer), since a new booking needs its own buffer before the next.
    """
    return availability.free_intervals(resource=resource, day=day, now=now)


def resource_free_starts(
    *, resource: Resource, day: date, zone: tzinfo | None = None, now: datetime | None = None
) -> list[FreeStart]:
    """Each grid start on `day` where some allowed length fits, with those lengths.

    `day` is a date in `zone` (the site's zone by default): someone in another
    zone is offered the starts that fall on their own date, which may span
    two of the site's days. On a resource open around the clock a late start
    may run past midnight.
    """
    return availability.free_starts(resource=resource, day=day, zone=zone, now=now)


def resource_free_days(
    *, resource: Resource, first: date, last: date, zone: tzinfo | None = None, now: datetime | None = None
) -> set[date]:
    """The dates from `first` to `last` (in `zone`, the site's by default) that hold a free start."""
    return availability.free_days(resource=resource, first=first, last=last, zone=zone, now=now)


def resource_bookable_dates(
    *, resource: Resource, zone: tzinfo | None = None, now: datetime | None = None
) -> tuple[date, date]:
    """(today, the last date one may book on) as dates in `zone` (the site's by default).

    How far ahead one may book is counted in the site's days; its last
    moment may fall on the next date in a zone east of the site's.
    """
    return availability.bookable_dates(resource=resource, zone=zone, now=now)


def resource_durations_at(*, resource: Resource, start: datetime, now: datetime | None = None) -> tuple[timedelta, ...]:
    """The allowed lengths of a booking starting at `start` (empty if none fits)."""
    return availability.durations_at(resource=resource, start=start, now=now)


AVAILABILITY_DEFERRED = ("created_at", "updated_at", "pickup_instructions", "access_code", "public_feed_token")


def resources_free_between(
    *,
    start: datetime,
    end: datetime,
    kind: str | None = None,
    category: str | None = None,
    now: datetime | None = None,
) -> list[Resource]:
    """Availability first: the resources a booking from start to end would be accepted for.

    One query whatever the catalogue size on PostgreSQL (availability.free_resources). The answer
    may hold thousands of resources: the columns no reader of it needs (timestamps, pickup secrets,
    the feed token) are left unloaded (deferred).
    """
    candidates = resources_list(kind=kind, category=category).defer(*AVAILABILITY_DEFERRED)
    return availability.free_resources(resources=candidates, start=start, end=end, now=now)


def resources_free_page(
    *,
    user,
    start: datetime,
    end: datetime,
    offset: int = 0,
    limit: int = 50,
    kind: str | None = None,
    category: str | None = None,
    now: datetime | None = None,
) -> availability.Page:
    """Availability first for `user`, one page: the resources free for all of start..end that `user` may
    book (policies.only_bookable_queryset), `limit` of them from `offset`, in the catalogue's order, and
    how many there are in all. On PostgreSQL one query for the page whatever the catalogue's size.
    Asks Telegram (cached) about access chats: call it outside any transaction."""
    candidates = policies.only_bookable_queryset(
        user=user, resources=resources_list(kind=kind, category=category).defer(*AVAILABILITY_DEFERRED)
    )
    return availability.free_resources_page(
        resources=candidates, start=start, end=end, offset=offset, limit=limit, now=now
    )


def nearest_free_alternatives(
    *, resource: Resource, start: datetime, end: datetime, now: datetime | None = None, limit: int = 3
) -> tuple[list[datetime], list[Resource]]:
    """After "slot taken": the same length on this resource at the nearest free
    starts (that day and the next bookable days), and other resources of the
    same kind free at the asked time."""
    now = now or timezone.now()
    same_resource = availability.nearest_free_starts(resource=resource, start=start, end=end, now=now, limit=limit)
    others = resources_list(kind=resource.kind).exclude(pk=resource.pk).defer(*AVAILABILITY_DEFERRED)
    page = availability.free_resources_page(resources=others, start=start, end=end, offset=0, limit=limit, now=now)
    return same_resource, page.items


def resource_closed_days(*, resource: Resource, first: date, last: date, zone: tzinfo | None = None) -> dict[date, str]:
    """{date: reason} of the dates from `first` to `last` (in `zone`, the site's by default) that
    closures take entirely, for the calendar; one query for the whole range."""
    zone = zone or rules.site_zone()
    range_start, range_end = _midnight(first, zone), _midnight(last + timedelta(days=1), zone)
    closures = policies.closures_between(resource_ids=[resource.pk], start=range_start, end=range_end)
    closures = sorted(closures.get(resource.pk, ()), key=lambda c: c.start)
    closed = {}
    day = first
    while day <= last:
        day_start, day_end = _midnight(day, zone), _midnight(day + timedelta(days=1), zone)
        # Closures may abut or overlap: walk them in order and see whether they leave a gap in the day.
        covered_until, reason = day_start, ""
        for closure in closures:
            if closure.start <= covered_until < closure.end:
                covered_until, reason = closure.end, reason or closure.reason_text()
        if covered_until >= day_end:
            closed[day] = reason
        day += timedelta(days=1)
    return closed


def resource_closures_on(*, resource: Resource, day: date, zone: tzinfo | None = None) -> list:
    """The closures that take part (or all) of a local date in `zone`, soonest first (Closure rows)."""
    zone = zone or rules.site_zone()
    found = policies.closures_between(
        resource_ids=[resource.pk], start=_midnight(day, zone), end=_midnight(day + timedelta(days=1), zone)
    )
    return found.get(resource.pk, [])


def booking_policy_refusal(
    *, user, resource: Resource, start: datetime, end: datetime, now: datetime | None = None
) -> errors.BookingError | None:
    """The policy error (closed, not_permitted, quota_exceeded) booking_create would raise for this
    booking now, or None: the confirm screen says so before the user presses Confirm. The same
    check booking_create makes (policies.enforce_booking_policies), without its locks: the press
    still decides."""
    chat_ids = policies.user_chat_memberships(user=user, resources=[resource])
    try:
        policies.enforce_booking_policies(
            user=user, resource=resource, start=start, end=end, now=now, chat_ids=chat_ids
        )
    except errors.BookingError as refusal:
        return refusal
    return None


def booking_pickup(*, booking: Booking, user: User | None) -> dict | None:
    """What the holder needs at the resource: its pickup instructions and access code, read from the
    resource now. Only the owner, only once checked in and while they hold it (active or overdue);
    None otherwise, or when the resource has neither."""
    held = booking.status in (BookingStatus.ACTIVE, BookingStatus.OVERDUE) and booking.checked_in_at is not None
    if user is None or booking.user_id != user.pk or not held:
        return None
    resource = Resource.objects.filter(pk=booking.resource_id).only("pickup_instructions", "access_code").first()
    if resource is None or not (resource.pickup_instructions or resource.access_code):
        return None
    return {"instructions": resource.pickup_instructions, "access_code": resource.access_code}


def booking_get(*, booking_id: int, user: User | None = None) -> Booking | None:
    """The booking, restricted to `user`'s own unless user is staff or None."""
    qs = Booking.objects.select_related("resource", "user")
    if user is not None and not user.is_staff:
        qs = qs.filter(user=user)
    return qs.filter(pk=booking_id).first()


def bookings_visible_to(*, user: User, status: str | None = None, resource_id: int | None = None) -> QuerySet[Booking]:
    qs = Booking.objects.select_related("resource", "user").order_by("-start", "-id")
    if not user.is_staff:
        qs = qs.filter(user=user)
    if status:
        qs = qs.filter(status=status)
    if resource_id:
        qs = qs.filter(resource_id=resource_id)
    return qs


def user_upcoming_bookings(*, user: User, now: datetime | None = None) -> list[Booking]:
    """Live bookings that have not ended yet (or are overdue: the item is still out), soonest first."""
    now = now or timezone.now()
    return list(
        Booking.objects.filter(Q(end__gt=now) | Q(status=BookingStatus.OVERDUE), user=user, status__in=LIVE_STATUSES)
        .select_related("resource")
        .order_by("start", "id")
    )


def user_booking_history(*, user: User, limit: int = 10) -> list[Booking]:
    """Finished bookings (completed, expired, cancelled, rejected), newest first.

    Each carries `rejection_reason`: what the admin wrote when rejecting it
    ("" for any other booking), read in the same query.
    """
    rejection = BookingEvent.objects.filter(booking=OuterRef("pk"), to_status=BookingStatus.REJECTED).order_by("-at")
    return list(
        Booking.objects.filter(user=user)
        .exclude(status__in=LIVE_STATUSES)
        .select_related("resource")
        .annotate(rejection_reason=Coalesce(Subquery(rejection.values("reason")[:1]), Value("")))
        .order_by("-start", "-id")[:limit]
    )


def bookings_starting_within(
    *, now: datetime, window: timedelta, horizon: timedelta | None = None
) -> QuerySet[Booking]:
    """Confirmed bookings starting in (now, now + horizon] (horizon: the window unless given),
    made before the window opened (one made inside it just got its confirmation, which said it
    all); user loaded."""
    return Booking.objects.filter(
        status=BookingStatus.CONFIRMED,
        start__gt=now,
        start__lte=now + (horizon or window),
        created_at__lt=F("start") - window,
    ).select_related("user")


def bookings_ending_within(*, now: datetime, window: timedelta, horizon: timedelta | None = None) -> QuerySet[Booking]:
    """Active equipment bookings (things to bring back) ending in (now, now + horizon]
    (horizon: the window unless given), longer than the window; user loaded."""
    return Booking.objects.filter(
        status=BookingStatus.ACTIVE,
        end__gt=now,
        end__lte=now + (horizon or window),
        resource__kind=ResourceKind.EQUIPMENT,
        start__lt=F("end") - window,
    ).select_related("user")


def bookings_pending_approval(*, limit: int | None = None) -> list[Booking]:
    qs = Booking.objects.filter(status=BookingStatus.PENDING).select_related("resource", "user").order_by("start")
    return list(qs[:limit] if limit else qs)


def bookings_on_day(*, day: date) -> list[Booking]:
    """Live and finished bookings that meet a local date, by resource then start."""
    day_start = rules.local_midnight(day)
    day_end = rules.local_midnight(day + timedelta(days=1))
    return list(
        Booking.objects.filter(start__lt=day_end, end__gt=day_start)
        .exclude(status__in=(BookingStatus.CANCELLED, BookingStatus.REJECTED))
        .select_related("resource", "user")
        .order_by("resource__name", "start")
    )


# --- helpers ------------------------------------------------------------------


def _midnight(day, zone):
    return datetime.combine(day, time.min, tzinfo=zone)


def _hours_prefetch():
    return Prefetch("opening_hours", queryset=OpeningHours.objects.order_by("weekday", "opens"))


@dataclass(frozen=True)
class AtHand:
    """What a user standing at a resource may do now (the sticker's card): their own live
    bookings of it that allow an action now (check in, return), and a walk-up booking."""

    resource: Resource
    bookings: list  # of (Booking, [Action]) with at least one action
    walk_up: FreeStart | None  # a start within one slot of now, with the lengths that fit


def resource_at_hand(*, resource: Resource, user, now: datetime | None = None) -> AtHand:
    """The sticker card's answer: the user's bookings of `resource` they can act on now, and
    whether it is free to take now ("Book now"), with the lengths booking_create would accept.

    A walk-up starts at the first free grid start from now on, if that is within one slot of
    now: on a 30-minute grid at 10:05, the 10:30 start is not "now" but 10:00 is past.
    """
    now = now or timezone.now()
    own = Booking.objects.filter(resource=resource, user=user, status__in=LIVE_STATUSES, end__gt=now).select_related(
        "resource", "user"
    )
    acting = [(b, [a for a in booking_actions(booking=b, user=user, now=now) if a != Action.CANCEL]) for b in own]
    walk_up = None
    if resource.is_active and not resource.out_of_service:
        today = now.astimezone(rules.site_zone()).date()
        for free in availability.free_starts(resource=resource, day=today, now=now):
            if free.start >= now:
                if free.start < now + resource.slot and free.durations:
                    walk_up = free
                break
    return AtHand(resource=resource, bookings=[(b, a) for b, a in acting if a], walk_up=walk_up)


# --- Loans: overdue bookings, strikes, suspensions ------------------------------


def bookings_overdue(*, now: datetime | None = None) -> QuerySet[Booking]:
    """Overdue bookings (items not back after their end), longest overdue first; resource and user loaded."""
    return Booking.objects.filter(status=BookingStatus.OVERDUE).select_related("resource", "user").order_by("end")


def booking_next_on_resource(*, booking: Booking) -> Booking | None:
    """The next live booking of the same resource after `booking` (the one a late return delays), or None."""
    return (
        Booking.objects.filter(
            resource_id=booking.resource_id,
            status__in=(BookingStatus.PENDING, BookingStatus.CONFIRMED),
            start__gte=booking.end,
        )
        .exclude(pk=booking.pk)
        .select_related("resource", "user")
        .order_by("start", "id")
        .first()
    )


def user_strikes(*, user, now: datetime | None = None, days: int | None = None) -> list[Strike]:
    """The user's strikes of the last `days` (default STRIKES_WINDOW_DAYS), newest first; booking loaded."""
    now = now or timezone.now()
    since = now - timedelta(days=days or settings.STRIKES_WINDOW_DAYS)
    return list(Strike.objects.filter(user=user, at__gt=since).select_related("booking__resource"))


def user_suspension(*, user, now: datetime | None = None) -> Suspension | None:
    """The suspension in force for `user` now (the one ending last), or None."""
    now = now or timezone.now()
    return (
        Suspension.objects.filter(user=user, lifted_at__isnull=True, start__lte=now, until__gt=now)
        .order_by("-until")
        .first()
    )


def suspension_get(*, suspension_id: int, user=None) -> Suspension | None:
    """The suspension, restricted to `user`'s own unless user is staff or None."""
    qs = Suspension.objects.select_related("user", "lifted_by")
    if user is not None and not user.is_staff:
        qs = qs.filter(user=user)
    return qs.filter(pk=suspension_id).first()


def suspensions_visible_to(*, user) -> QuerySet[Suspension]:
    """Everyone's suspensions for staff, one's own otherwise; newest first."""
    qs = Suspension.objects.select_related("user", "lifted_by").order_by("-start", "-id")
    return qs if user.is_staff else qs.filter(user=user)
