"""Calendar feeds: a user's secret feed link, a resource's public feed, and the iCalendar they serve.

Writes (`calendar_token_*`, `resource_public_feed_*`) and reads (`*_find`,
`*_feed_bookings`, the renderers) of one feature, kept in one module like
bookings.pools. A user's link is `/calendar/<token>.ics`; the token is an
HMAC of a random nonce under SECRET_KEY, so the database holds only the
nonce and the token's SHA-256 (what a request is looked up by, then compared
in constant time). Renewing revokes the old link; a revoked or unknown token
finds nothing, and the view answers that with the site's plain 404.

A feed holds the bookings that are live and those that ended within
CALENDAR_FEED_HISTORY_DAYS, each one VEVENT with a stable UID (the same in
the personal feed, the resource's feed and the single booking's `.ics`),
DTSTART/DTEND in UTC, STATUS:CANCELLED for a booking that no longer holds
its time (TENTATIVE while it waits for approval), SEQUENCE from its history
and LAST-MODIFIED/DTSTAMP from its last change. A feed's version (its ETag)
comes from one aggregate query over what it shows, so a conditional GET that
matches costs no rendering (and the view caches a rendered feed under it).
"""

import hashlib
import hmac
import secrets
from base64 import urlsafe_b64encode
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q, Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from bookings import formats
from bookings.models import LIVE_STATUSES, Booking, BookingStatus, CalendarToken, Resource
from bookings.services import lock_user
from core.deeplinks import BotUsernameUnknown, bot_username, resource_deep_link
from core.models import User

# Tokens are 43 characters of base64url (256 bits); the URL accepts nothing else.
TOKEN_PATTERN = r"[A-Za-z0-9_-]{43}"  # noqa: S105 (a URL pattern, not a secret)
_TOKEN_LENGTH = 43
_TOKEN_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_HMAC_PURPOSE = b"slotbot calendar feed v1:"

PRODID = "-//Slotbot//Calendar feeds//EN"
# How often a subscribing app is asked to look again (REFRESH-INTERVAL, X-PUBLISHED-TTL).
REFRESH = timedelta(minutes=15)

# A booking that no longer holds its time reads as cancelled in a calendar app (the description says why).
_CANCELLED = (BookingStatus.CANCELLED, BookingStatus.REJECTED, BookingStatus.EXPIRED)


# --- A user's feed link -----------------------------------------------------------


def _token_of(nonce: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), _HMAC_PURPOSE + nonce.encode(), hashlib.sha256).digest()
    return urlsafe_b64encode(digest).decode().rstrip("=")


def _hash_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _well_formed(token: str) -> bool:
    return isinstance(token, str) and len(token) == _TOKEN_LENGTH and set(token) <= _TOKEN_ALPHABET


def calendar_token_value(row: CalendarToken) -> str:
    """The secret path part of `row`'s link."""
    return _token_of(row.nonce)


def calendar_token_live(*, user: User) -> CalendarToken | None:
    """The user's live feed token, or None (never made, or revoked)."""
    return CalendarToken.objects.filter(user=user, revoked_at__isnull=True).first()


def calendar_token_get_or_create(*, user: User, now: datetime | None = None) -> CalendarToken:
    """The user's live feed token, made now if they have none."""
    found = calendar_token_live(user=user)
    if found is not None:
        return found
    try:
        with transaction.atomic():
            lock_user(user)  # a user's link changes one at a time (first view, renew)
            return calendar_token_live(user=user) or _create(user, now or timezone.now())
    except IntegrityError:
        # SQLite takes no row lock: of two first requests at once, the constraint kept one; that is the link.
        found = calendar_token_live(user=user)
        if found is None:
            raise
        return found


def calendar_token_renew(*, user: User, now: datetime | None = None) -> CalendarToken:
    """Revoke the user's link (if any) and make a new one: the old URL stops working at once."""
    now = now or timezone.now()
    with transaction.atomic():
        lock_user(user)  # a user's link changes one at a time (first view, renew)
        CalendarToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
        return _create(user, now)


def calendar_token_revoke(*, user: User, now: datetime | None = None) -> int:
    """Revoke the user's link; how many were live (0 or 1)."""
    return CalendarToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now or timezone.now())


def calendar_tokens_revoke(*, tokens, now: datetime | None = None) -> int:
    """Revoke these token rows (the admin's action); how many were live."""
    ids = [t.pk for t in tokens]
    return CalendarToken.objects.filter(pk__in=ids, revoked_at__isnull=True).update(revoked_at=now or timezone.now())


def _create(user, now):
    nonce = secrets.token_urlsafe(32)
    return CalendarToken.objects.create(user=user, nonce=nonce, token_hash=_hash_of(_token_of(nonce)), created_at=now)


def calendar_token_find(*, token: str) -> CalendarToken | None:
    """The live token row a presented token names, or None for anything else (malformed, unknown, revoked)."""
    if not _well_formed(token):
        return None
    presented = _hash_of(token)
    row = CalendarToken.objects.select_related("user").filter(token_hash=presented, revoked_at__isnull=True).first()
    # The lookup is by hash (its timing tells nothing of the token); the final word is a constant-time compare.
    if row is None or not hmac.compare_digest(row.token_hash, presented):
        return None
    if not row.user.is_active:
        return None
    return row


def calendar_feed_url(*, row: CalendarToken) -> str:
    """The full https URL of the user's feed, as people paste it into a calendar app."""
    return settings.PUBLIC_BASE_URL + reverse("calendar-feed", kwargs={"token": calendar_token_value(row)})


# --- A resource's public feed ------------------------------------------------------


def resource_public_feed_prepare(resource: Resource) -> None:
    """Give a resource whose feed is switched on its token, if it has none yet (before it is saved)."""
    if resource.public_feed and not resource.public_feed_token:
        resource.public_feed_token = secrets.token_urlsafe(32)


def resource_public_feed_set(*, resource: Resource, enabled: bool) -> Resource:
    """Switch the resource's public feed on or off (its link stays the same when switched on again)."""
    resource.public_feed = enabled
    resource_public_feed_prepare(resource)
    resource.save(update_fields=["public_feed", "public_feed_token", "updated_at"])
    return resource


def resource_public_feed_renew(*, resource: Resource) -> Resource:
    """A new public link for the resource: the old one stops working (e.g. it leaked beyond the display)."""
    resource.public_feed_token = secrets.token_urlsafe(32)
    resource.save(update_fields=["public_feed_token", "updated_at"])
    return resource


def resource_by_feed_token(*, token: str) -> Resource | None:
    """The resource whose public feed `token` names, while that feed is switched on; else None."""
    if not _well_formed(token):
        return None
    resource = Resource.objects.filter(public_feed=True, is_active=True, public_feed_token=token).first()
    if resource is None or not hmac.compare_digest(resource.public_feed_token, token):
        return None
    return resource


def resource_feed_url(*, resource: Resource) -> str | None:
    """The public feed's URL while it is switched on; None otherwise."""
    if not (resource.public_feed and resource.public_feed_token):
        return None
    return settings.PUBLIC_BASE_URL + reverse("calendar-resource-feed", kwargs={"token": resource.public_feed_token})


# --- What a feed holds ---------------------------------------------------------------


# Part of every feed's version: bump it when the rendering changes, so no client keeps an old copy.
FEED_FORMAT = 1


@dataclass(frozen=True)
class Feed:
    """A feed's version (ETag, Last-Modified), known from one aggregate query; `render()` writes its text."""

    etag: str
    last_modified: datetime
    render: Callable[[], bytes]


def _window(now):
    return now - timedelta(days=settings.CALENDAR_FEED_HISTORY_DAYS)


def _in_window(scope, now):
    return Booking.objects.filter(scope).filter(Q(status__in=LIVE_STATUSES) | Q(end__gte=_window(now)))


def _feed_bookings(scope: Q, now):
    shown = _in_window(scope, now).select_related("resource", "user").annotate(changes=Count("events"))
    return list(shown.order_by("start", "id"))


def _feed(scope, now, *, since, render, identity):
    """The version of a feed from what it would show, without loading it.

    Every write of a booking sets its updated_at (the services' conditional UPDATEs, a pool unit swap) and
    every edit of a resource its own; a booking enters the window only when it is made (a larger id) and
    leaves it by count; so (count, sum of ids, latest changes) changes exactly when the rendered feed would.
    `identity` adds what else the text depends on (whose feed, language, zone, the bot, the site's URL).
    """
    seen = _in_window(scope, now).aggregate(
        count=Count("id"), ids=Sum("id"), changed=Max("updated_at"), resources=Max("resource__updated_at")
    )
    version = [FEED_FORMAT, *identity, _bot_username(), settings.PUBLIC_BASE_URL, *map(str, seen.values())]
    etag = '"' + hashlib.sha256(repr(version).encode()).hexdigest()[:32] + '"'
    # Last-Modified: the latest change shown, the link's making, or an old booking leaving the window
    # (its end + the history), so that If-Modified-Since never hides a removal.
    moments = [since, seen["changed"], seen["resources"]]
    left = Booking.objects.filter(scope).exclude(status__in=LIVE_STATUSES).filter(end__lt=_window(now))
    latest_left = left.aggregate(latest=Max("end"))["latest"]
    if latest_left is not None:
        moments.append(latest_left + timedelta(days=settings.CALENDAR_FEED_HISTORY_DAYS))
    last_modified = max(m for m in moments if m is not None).replace(microsecond=0)
    return Feed(etag=etag, last_modified=last_modified, render=render)


def user_feed(*, row: CalendarToken, now: datetime | None = None) -> Feed:
    """The user's feed: their live bookings and those of the last days, in their language and zone."""
    now = now or timezone.now()
    user = row.user
    scope = Q(user=user)
    language = user.language_code or settings.LANGUAGE_CODE

    def render():
        with translation.override(language):
            calendar = _calendar(_("Slotbot: my bookings"))
            for booking in _feed_bookings(scope, now):
                calendar.add_component(_event(booking, zone=user.zone, personal=True))
        return calendar.to_ical()

    return _feed(scope, now, since=row.created_at, render=render, identity=("user", row.pk, language, str(user.zone)))


def resource_feed(*, resource: Resource, now: datetime | None = None) -> Feed:
    """The resource's public feed: when it is booked, by nobody in particular, in the site's language."""
    now = now or timezone.now()
    scope = Q(resource=resource)

    def render():
        with translation.override(settings.LANGUAGE_CODE):
            calendar = _calendar(resource.name)
            for booking in _feed_bookings(scope, now):
                calendar.add_component(_event(booking, zone=timezone.get_default_timezone(), personal=False))
        return calendar.to_ical()

    # Its name is the calendar's name: an edit of the resource is a new version even with no bookings.
    identity = ("resource", resource.pk, resource.public_feed_token, resource.updated_at, settings.LANGUAGE_CODE)
    return _feed(scope, now, since=resource.updated_at, render=render, identity=identity)


def booking_ics(*, booking: Booking) -> bytes:
    """One booking as an `.ics` file to import (the bot's Add to calendar), in its owner's language."""
    booking = Booking.objects.select_related("resource", "user").annotate(changes=Count("events")).get(pk=booking.pk)
    user = booking.user
    with translation.override(user.language_code or settings.LANGUAGE_CODE):
        calendar = _calendar(booking.resource.name)
        calendar.add("method", "PUBLISH")
        calendar.add_component(_event(booking, zone=user.zone, personal=True))
    return calendar.to_ical()


def booking_offers_calendar_file(*, booking: Booking, now: datetime | None = None) -> bool:
    """Whether a booking's receipt and card offer Add to calendar: it still holds time that is to come."""
    return booking.status in LIVE_STATUSES and booking.end > (now or timezone.now())


def booking_ics_filename(booking: Booking) -> str:
    return f"slotbot-booking-{booking.pk}.ics"


# --- Rendering -----------------------------------------------------------------------


def _calendar(name):
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT15M")
    return calendar


def _uid_domain():
    return urlsplit(settings.PUBLIC_BASE_URL).hostname or "slotbot"


def ical_status(status: str) -> str:
    """The iCalendar STATUS of a booking's status."""
    if status in _CANCELLED:
        return "CANCELLED"
    if status in (BookingStatus.PENDING, BookingStatus.HELD):  # held: a waitlist offer not yet taken
        return "TENTATIVE"
    return "CONFIRMED"


def _utc(moment):
    return moment.astimezone(UTC).replace(microsecond=0)


def _bot_username():
    try:
        return bot_username()
    except BotUsernameUnknown:
        return None  # a feed without the link to the bot beats no feed


def _bot_link(booking):
    username = _bot_username()
    return resource_deep_link(resource_id=booking.resource_id, username=username) if username else None


def _event(booking, *, zone, personal):
    resource = booking.resource
    status = BookingStatus(booking.status)
    event = icalendar.Event()
    event.add("uid", f"booking-{booking.pk}@{_uid_domain()}")
    # Without METHOD, DTSTAMP is the last revision (RFC 5545 3.8.7.2): the same as LAST-MODIFIED.
    event.add("dtstamp", _utc(booking.updated_at))
    event.add("created", _utc(booking.created_at))
    event.add("last-modified", _utc(booking.updated_at))
    event.add("sequence", max(0, getattr(booking, "changes", 1) - 1))
    event.add("dtstart", _utc(booking.start))
    event.add("dtend", _utc(booking.end))
    if personal:
        event.add("summary", resource.name)
    elif status in _CANCELLED:
        event.add("summary", _("%(resource)s: cancelled") % {"resource": resource.name})
    else:
        event.add("summary", _("%(resource)s: booked") % {"resource": resource.name})
    if resource.location:
        event.add("location", resource.location)
    lines = []
    if personal:
        lines.append(f"{formats.booking_span(booking.start, booking.end, zone)} ({zone})")
    lines.append(_("Status: %(status)s") % {"status": status.label})
    if personal:
        lines.append(_("Booking #%(id)s") % {"id": booking.pk})
        if booking.note:
            lines.append(_("Note: %(note)s") % {"note": booking.note})
    link = _bot_link(booking)
    if link:
        lines.append(_("Open in the bot: %(link)s") % {"link": link})
        event.add("url", link)
    event.add("description", "\n".join(lines))
    event.add("status", ical_status(status))
    event.add("transp", "TRANSPARENT" if status in _CANCELLED else "OPAQUE")
    return event
