"""The calendar feed endpoints: `GET /calendar/<token>.ics` and `GET /calendar/resource/<token>.ics`.

Plain Django views (calendar apps send no API credentials: the secret path
is the credential). Each presented token is rate-limited with the shared
limiter (core.ratelimit) before it is looked up, valid or not, so a 429
tells nothing either; a token that finds nothing is Django's own 404, the
same page as any unknown path. A feed answers with ETag and Last-Modified,
and a conditional GET that matches is 304 without a body; a rendered feed is
cached under its version.
"""

import contextlib
import hashlib
import logging
import math

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.http import require_safe
from redis.exceptions import RedisError

from bookings import feeds
from core.ratelimit import Bucket, LocalRateLimiter, get_rate_limiter

logger = logging.getLogger(__name__)

CONTENT_TYPE = "text/calendar; charset=utf-8"
# While Redis is unreachable each web process counts on its own: a feed is still served, still limited.
_local_limiter = LocalRateLimiter()
# A rendered feed is kept this long under its version (any change makes a new version at once).
FEED_CACHE_SECONDS = 3600


def _bucket(kind, token):
    interval = 60 / settings.CALENDAR_FEED_RATE_PER_MINUTE
    key = hashlib.sha256(token.encode()).hexdigest()[:32]  # the limiter's keys never hold the secret
    return Bucket(f"calendar-feed:{kind}:{key}", interval, (settings.CALENDAR_FEED_BURST - 1) * interval)


def _too_many(kind, token):
    """A 429 with Retry-After when this token has used up its rate; else None."""
    bucket = _bucket(kind, token)
    try:
        reservation = get_rate_limiter().reserve([bucket], max_wait=0)
    except RedisError as error:
        logger.warning("calendar feed rate limit: Redis unreachable (%s); counting in this process", error)
        reservation = _local_limiter.reserve([bucket], max_wait=0)
    if reservation.booked:
        return None
    response = HttpResponse("Too many requests for this feed.\n", status=429, content_type="text/plain")
    response["Retry-After"] = str(max(1, math.ceil(reservation.wait)))
    return response


def _body(feed):
    """The feed's text, rendered once per version (Django's cache: Redis when REDIS_URL is set)."""
    key = "calendar-feed:" + feed.etag.strip('"')
    try:
        body = cache.get(key)
    except RedisError:
        return feed.render()  # no cache for now: render each time rather than fail
    if body is None:
        body = feed.render()
        with contextlib.suppress(RedisError):  # the feed is served all the same
            cache.set(key, body, FEED_CACHE_SECONDS)
    return body


def _answer(request, feed, *, cache_control, filename):
    """304 when the client's copy is this version (nothing rendered), else the feed."""
    headers = {
        "ETag": feed.etag,
        "Last-Modified": http_date(feed.last_modified.timestamp()),
        "Cache-Control": cache_control,
        "X-Robots-Tag": "noindex, nofollow",
        "Referrer-Policy": "no-referrer",
    }
    response = get_conditional_response(request, etag=feed.etag, last_modified=int(feed.last_modified.timestamp()))
    if response is None:
        response = HttpResponse(_body(feed), content_type=CONTENT_TYPE)
        response["Content-Disposition"] = f'inline; filename="{filename}"'
    for name, value in headers.items():
        response[name] = value
    return response


@require_safe
def user_feed(request, token):
    limited = _too_many("user", token)
    if limited is not None:
        return limited
    row = feeds.calendar_token_find(token=token)
    if row is None:
        raise Http404()
    return _answer(request, feeds.user_feed(row=row), cache_control="private, no-cache", filename="slotbot.ics")


@require_safe
def resource_feed(request, token):
    limited = _too_many("resource", token)
    if limited is not None:
        return limited
    resource = feeds.resource_by_feed_token(token=token)
    if resource is None:
        raise Http404()
    filename = f"slotbot-resource-{resource.pk}.ics"
    return _answer(request, feeds.resource_feed(resource=resource), cache_control="no-cache", filename=filename)
