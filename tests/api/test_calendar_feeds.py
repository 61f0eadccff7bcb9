"""Calendar feeds over HTTP: `/calendar/<token>.ics`, the resource's public feed, and the link API.

Every feed is read back with an independent parser (vobject, not the
icalendar library that writes it) and checked line by line against RFC
5545's framing (CRLF, folding at 75 octets, balanced BEGIN/END, UTC times).
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
import vobject
from django.contrib.admin.sites import AdminSite
from django.test import RequestFactory
from django.utils import timezone

from bookings import feed_views, feeds, services
from bookings.admin import CalendarTokenAdmin, ResourceAdmin
from bookings.models import Booking, BookingStatus, CalendarToken, Resource
from core.ratelimit import LocalRateLimiter

pytestmark = pytest.mark.django_db

BERLIN = "Europe/Berlin"


@pytest.fixture(autouse=True)
def feed_settings(settings, monkeypatch):
    settings.TELEGRAM_BOT_USERNAME = "slotbot_test_bot"
    settings.PUBLIC_BASE_URL = "https://slotbot.example.org"
    settings.CALENDAR_FEED_BURST = 50
    # A limiter of the test's own: no Redis, and no counts carried over from other tests.
    limiter = LocalRateLimiter()
    monkeypatch.setattr(feed_views, "get_rate_limiter", lambda: limiter)


@pytest.fixture
def room(make_resource):
    return make_resource(name="Studio", kind="space", hours=None, location="Building B, room 2.14")


def path_of(url):
    return url.removeprefix("https://slotbot.example.org")


def feed_path(user):
    return path_of(feeds.calendar_feed_url(row=feeds.calendar_token_get_or_create(user=user)))


def book(user, resource, start, hours=1, **options):
    return services.booking_create(
        user=user, resource=resource, start=start, end=start + timedelta(hours=hours), now=start - timedelta(days=1)
    )


def soon(days=2, hour=10):
    start = timezone.now().astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return start.replace(hour=hour) + timedelta(days=days)


# --- An RFC 5545 framing check of our own, independent of both libraries ---------------------

_CONTENT_LINE = re.compile(r'^[A-Za-z0-9-]+(;[A-Za-z0-9-]+=("[^"]*"|[^";:,]*)(,("[^"]*"|[^";:,]*))*)*:.*$')
_UTC_TIME = re.compile(r"^\d{8}T\d{6}Z$")


def strict_lines(body: bytes) -> list[str]:
    """The unfolded content lines; fails on anything RFC 5545 does not allow in our feeds."""
    assert body.endswith(b"\r\n"), "the last line ends with CRLF"
    raw = body.split(b"\r\n")[:-1]
    for line in raw:
        assert b"\n" not in line and b"\r" not in line, "lines end with CRLF only"
        assert len(line) <= 75, f"a line longer than 75 octets: {line!r}"
    lines = []
    for line in raw:
        text = line.decode("utf-8")
        if text[:1] in (" ", "\t"):
            lines[-1] += text[1:]
        else:
            lines.append(text)
    stack = []
    for line in lines:
        assert _CONTENT_LINE.match(line), f"not a content line: {line!r}"
        name, _, value = line.partition(":")
        if name == "BEGIN":
            stack.append(value)
        elif name == "END":
            assert stack and stack.pop() == value, f"END:{value} does not close its BEGIN"
        elif name.split(";")[0] in ("DTSTART", "DTEND", "DTSTAMP", "LAST-MODIFIED", "CREATED"):
            assert _UTC_TIME.match(value), f"{name} is not a UTC time: {value}"
    assert not stack and lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    return lines


def parse(body: bytes):
    strict_lines(body)
    calendar = vobject.readOne(body.decode("utf-8"))
    events = {e.uid.value: e for e in calendar.contents.get("vevent", [])}
    return calendar, events


def event_of(events, booking):
    return events[f"booking-{booking.pk}@slotbot.example.org"]


# --- The user's feed --------------------------------------------------------------------------


def test_feed_holds_live_and_recent_bookings_with_every_status_round_tripped(client, user, staff, make_resource):
    open_room = make_resource(name="Studio", kind="space", hours=None, location="B 2.14")
    approval = make_resource(name="Camera", hours=None, requires_approval=True)
    start = soon()
    made = {}
    for n, status in enumerate(BookingStatus):
        resource = approval if status in (BookingStatus.PENDING, BookingStatus.REJECTED) else open_room
        made[status] = book(user, resource, start + timedelta(hours=2 * n))
    services.booking_cancel(booking=made[BookingStatus.CANCELLED], by=user)
    services.booking_reject(booking=made[BookingStatus.REJECTED], by=staff, reason="busy")
    for status in (
        BookingStatus.ACTIVE,
        BookingStatus.COMPLETED,
        BookingStatus.EXPIRED,
        BookingStatus.OVERDUE,
        BookingStatus.HELD,
    ):
        Booking.objects.filter(pk=made[status].pk).update(status=status)
    old = book(user, approval, soon(days=-40))
    Booking.objects.filter(pk=old.pk).update(status=BookingStatus.COMPLETED)
    someone_else = book(staff, approval, start + timedelta(days=5))

    response = client.get(feed_path(user))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar, events = parse(response.content)
    assert calendar.prodid.value == feeds.PRODID and calendar.version.value == "2.0"
    assert len(events) == len(BookingStatus)  # not the one from 40 days ago, nor another user's
    assert f"booking-{old.pk}@slotbot.example.org" not in events
    assert f"booking-{someone_else.pk}@slotbot.example.org" not in events
    expected = {
        BookingStatus.PENDING: "TENTATIVE",
        BookingStatus.CONFIRMED: "CONFIRMED",
        BookingStatus.ACTIVE: "CONFIRMED",
        BookingStatus.COMPLETED: "CONFIRMED",
        BookingStatus.OVERDUE: "CONFIRMED",
        BookingStatus.CANCELLED: "CANCELLED",
        BookingStatus.REJECTED: "CANCELLED",
        BookingStatus.EXPIRED: "CANCELLED",
        BookingStatus.HELD: "TENTATIVE",
    }
    for status, booking in made.items():
        booking.refresh_from_db()
        event = event_of(events, booking)
        assert event.status.value == expected[status], status
        assert event.dtstart.value == booking.start and event.dtend.value == booking.end
        assert event.dtstart.value.utcoffset() == timedelta(0)
        assert event.summary.value == booking.resource.name
        assert str(BookingStatus(status).label) in event.description.value
        assert "https://t.me/slotbot_test_bot?start=r" in event.description.value
        assert event.last_modified.value == booking.updated_at.replace(microsecond=0)
    assert event_of(events, made[BookingStatus.CONFIRMED]).location.value == "B 2.14"
    assert int(event_of(events, made[BookingStatus.CANCELLED]).sequence.value) == 1
    assert int(event_of(events, made[BookingStatus.CONFIRMED]).sequence.value) == 0


@pytest.mark.parametrize("zone", ["UTC", BERLIN, "America/New_York", "Asia/Tokyo"])
def test_a_booking_across_a_dst_change_round_trips_in_every_time_zone(client, make_user, make_resource, zone):
    """Europe/Berlin springs forward at 02:00 on 31 March 2030: 01:00–04:00 local is two hours."""
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo(BERLIN)
    user = make_user(time_zone=zone)
    resource = make_resource(name="Night lab", hours=None)
    spring_start, spring_end = datetime(2030, 3, 31, 1, 0, tzinfo=berlin), datetime(2030, 3, 31, 4, 0, tzinfo=berlin)
    spring = services.booking_create(
        user=user, resource=resource, start=spring_start, end=spring_end, now=datetime(2030, 3, 30, tzinfo=UTC)
    )
    autumn_start = datetime(2030, 10, 27, 0, 0, tzinfo=UTC)  # 02:00 CEST, then 02:00 CET an hour later
    autumn = services.booking_create(
        user=user,
        resource=resource,
        start=autumn_start,
        end=autumn_start + timedelta(hours=3),
        now=datetime(2030, 10, 26, tzinfo=UTC),
    )

    _, events = parse(client.get(feed_path(user)).content)

    got = event_of(events, spring)
    assert got.dtstart.value == datetime(2030, 3, 31, 0, 0, tzinfo=UTC)
    assert got.dtend.value == datetime(2030, 3, 31, 2, 0, tzinfo=UTC)
    assert got.dtend.value - got.dtstart.value == timedelta(hours=2)
    assert got.dtstart.value.astimezone(berlin).hour == 1 and got.dtend.value.astimezone(berlin).hour == 4
    got = event_of(events, autumn)
    assert (got.dtstart.value, got.dtend.value) == (autumn.start, autumn.end)
    local = [got.dtstart.value.astimezone(berlin), got.dtend.value.astimezone(berlin)]
    assert [m.strftime("%H:%M %Z") for m in local] == ["02:00 CEST", "04:00 CET"]
    # The description writes the time in the reader's own zone.
    assert spring_start.astimezone(ZoneInfo(zone)).strftime("%H:%M") in event_of(events, spring).description.value


def test_conditional_get_answers_304_for_etag_and_for_last_modified(client, user, room):
    book(user, room, soon())
    path = feed_path(user)
    first = client.get(path)
    etag, last_modified = first["ETag"], first["Last-Modified"]
    assert etag.startswith('"') and last_modified.endswith("GMT")

    by_etag = client.get(path, HTTP_IF_NONE_MATCH=etag)
    by_date = client.get(path, HTTP_IF_MODIFIED_SINCE=last_modified)

    assert by_etag.status_code == 304 and by_etag.content == b"" and by_etag["ETag"] == etag
    assert by_date.status_code == 304 and by_date.content == b""
    assert client.get(path, HTTP_IF_NONE_MATCH='"something else"').status_code == 200
    assert client.get(path).content == first.content  # the same bookings render the same bytes


def test_a_changed_booking_changes_the_etag_and_the_feed(client, user, room):
    booking = book(user, room, soon())
    path = feed_path(user)
    before = client.get(path)

    services.booking_cancel(booking=booking, by=user, now=timezone.now() + timedelta(seconds=2))
    after = client.get(path, HTTP_IF_NONE_MATCH=before["ETag"])

    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert event_of(parse(after.content)[1], booking).status.value == "CANCELLED"
    assert client.get(path, HTTP_IF_MODIFIED_SINCE=before["Last-Modified"]).status_code == 200


def test_a_feed_is_rendered_once_per_version_and_not_for_a_304(client, user, room, monkeypatch):
    booking = book(user, room, soon())
    path = feed_path(user)
    rendered = []
    real = feeds._calendar
    monkeypatch.setattr(feeds, "_calendar", lambda name: rendered.append(name) or real(name))

    first = client.get(path)
    again = client.get(path)
    not_modified = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
    assert (again.content, not_modified.status_code, len(rendered)) == (first.content, 304, 1)

    room.location = "Building C"
    room.save()
    moved = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
    assert moved.status_code == 200 and len(rendered) == 2
    assert event_of(parse(moved.content)[1], booking).location.value == "Building C"

    user.language_code = "ru"
    user.save()
    russian = client.get(path, HTTP_IF_NONE_MATCH=moved["ETag"])
    assert russian.status_code == 200 and "Статус" in event_of(parse(russian.content)[1], booking).description.value


def test_revoked_and_wrong_tokens_are_the_same_404_as_any_unknown_page(client, user, room):
    book(user, room, soon())
    row = feeds.calendar_token_get_or_create(user=user)
    path = path_of(feeds.calendar_feed_url(row=row))
    assert client.get(path).status_code == 200

    feeds.calendar_token_revoke(user=user)
    revoked = client.get(path)
    wrong = client.get("/calendar/" + "A" * 43 + ".ics")
    malformed = client.get("/calendar/not-a-token.ics")
    unknown_page = client.get("/no-such-page/")

    assert revoked.status_code == wrong.status_code == malformed.status_code == unknown_page.status_code == 404
    assert revoked.content == wrong.content == malformed.content == unknown_page.content
    assert "ETag" not in revoked and "Last-Modified" not in revoked


def test_renewing_gives_a_new_link_and_the_old_one_stops_working(client, user):
    old = feed_path(user)
    renewed = path_of(feeds.calendar_feed_url(row=feeds.calendar_token_renew(user=user)))

    assert renewed != old
    assert client.get(old).status_code == 404
    assert client.get(renewed).status_code == 200
    assert CalendarToken.objects.filter(user=user, revoked_at__isnull=True).count() == 1


def test_the_token_is_not_stored_and_the_same_link_is_shown_again(user):
    first = feeds.calendar_token_get_or_create(user=user)
    url = feeds.calendar_feed_url(row=first)
    token = url.rsplit("/", 1)[1].removesuffix(".ics")

    again = feeds.calendar_token_get_or_create(user=user)

    assert feeds.calendar_feed_url(row=again) == url
    row = CalendarToken.objects.get(pk=first.pk)
    assert token not in (row.nonce, row.token_hash)
    assert feeds.calendar_token_find(token=token) == row


def test_a_feed_fetched_too_often_is_429_with_retry_after(client, user, settings):
    settings.CALENDAR_FEED_BURST = 3
    settings.CALENDAR_FEED_RATE_PER_MINUTE = 1
    path = feed_path(user)

    answers = [client.get(path) for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert 1 <= int(answers[-1]["Retry-After"]) <= 60
    # Per token: another user's link is not held back, and a guessed token is limited the same way.
    assert client.get(feed_path(user.__class__.objects.create_user(username="zed"))).status_code == 200
    guessed = "/calendar/" + "B" * 43 + ".ics"
    assert [client.get(guessed).status_code for _ in range(4)] == [404, 404, 404, 429]


def test_a_feed_is_still_served_and_limited_while_redis_is_unreachable(client, user, settings, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    class Unreachable:
        def reserve(self, buckets, *, max_wait):
            raise RedisConnectionError("Connection refused")

    class UnreachableCache:
        def get(self, key):
            raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(feed_views, "get_rate_limiter", lambda: Unreachable())
    monkeypatch.setattr(feed_views, "_local_limiter", LocalRateLimiter())
    monkeypatch.setattr(feed_views, "cache", UnreachableCache())
    settings.CALENDAR_FEED_BURST = 2
    path = feed_path(user)

    assert [client.get(path).status_code for _ in range(3)] == [200, 200, 429]


def test_only_get_and_head_are_served(client, user):
    path = feed_path(user)
    assert client.post(path).status_code == 405
    assert client.head(path).status_code == 200


# --- The resource's public feed -------------------------------------------------------------


def test_the_public_resource_feed_has_no_names_and_only_that_resource(client, make_user, room, make_resource):
    carol = make_user(username="carol", first_name="Carol", last_name="Secretname", telegram_username="carol_tg")
    booking = services.booking_create(
        user=carol, resource=room, start=soon(), end=soon() + timedelta(hours=1), note="Interview with Dave Private"
    )
    elsewhere = book(carol, make_resource(name="Other", hours=None), soon())
    cancelled = book(carol, room, soon() + timedelta(hours=3))
    services.booking_cancel(booking=cancelled, by=carol)
    feeds.resource_public_feed_set(resource=room, enabled=True)

    response = client.get(path_of(feeds.resource_feed_url(resource=room)))

    assert response.status_code == 200
    calendar, events = parse(response.content)
    assert set(events) == {f"booking-{b.pk}@slotbot.example.org" for b in (booking, cancelled)}
    assert f"booking-{elsewhere.pk}" not in response.content.decode()
    text = response.content.decode()
    for secret in ("Carol", "Secretname", "carol", "Dave", "Private", "#"):
        assert secret not in text
    assert calendar.x_wr_calname.value == "Studio"
    assert event_of(events, booking).status.value == "CONFIRMED"
    assert event_of(events, booking).summary.value == "Studio: booked"
    assert event_of(events, cancelled).status.value == "CANCELLED"
    assert event_of(events, cancelled).summary.value == "Studio: cancelled"


def test_a_switched_off_or_renewed_public_feed_is_404(client, room):
    feeds.resource_public_feed_set(resource=room, enabled=True)
    path = path_of(feeds.resource_feed_url(resource=room))
    assert client.get(path).status_code == 200

    feeds.resource_public_feed_set(resource=room, enabled=False)
    assert client.get(path).status_code == 404
    assert feeds.resource_feed_url(resource=room) is None

    feeds.resource_public_feed_set(resource=room, enabled=True)
    assert client.get(path).status_code == 200  # switched on again: the same link
    feeds.resource_public_feed_renew(resource=room)
    assert client.get(path).status_code == 404
    assert client.get(path_of(feeds.resource_feed_url(resource=room))).status_code == 200


# --- One booking as a file -------------------------------------------------------------------


def test_a_single_booking_file_has_the_same_uid_as_the_feed(client, user, room):
    booking = book(user, room, soon())
    _, in_feed = parse(client.get(feed_path(user)).content)

    calendar, events = parse(feeds.booking_ics(booking=booking))

    assert calendar.method.value == "PUBLISH"
    uid = f"booking-{booking.pk}@slotbot.example.org"
    assert list(events) == [uid]
    assert events[uid].dtstart.value == in_feed[uid].dtstart.value


# --- REST: /api/me/calendar-link/ -------------------------------------------------------------


def test_calendar_link_api_shows_renews_and_revokes(api, client, anonymous):
    shown = api.get("/api/me/calendar-link/")
    assert shown.status_code == 200
    url = shown.json()["url"]
    assert url.startswith("https://slotbot.example.org/calendar/") and url.endswith(".ics")
    assert api.get("/api/me/calendar-link").json()["url"] == url  # shown again, not a new one each time
    assert client.get(path_of(url)).status_code == 200

    renewed = api.post("/api/me/calendar-link/")
    assert renewed.status_code == 201 and renewed.json()["url"] != url
    assert client.get(path_of(url)).status_code == 404

    assert api.delete("/api/me/calendar-link/").status_code == 204
    assert client.get(path_of(renewed.json()["url"])).status_code == 404
    assert anonymous.get("/api/me/calendar-link/").status_code == 401


# --- Admin ---------------------------------------------------------------------------------


def test_admin_switches_the_public_feed_on_and_shows_its_link(room, staff):
    admin = ResourceAdmin(Resource, AdminSite())
    room.public_feed = True
    request = RequestFactory().post("/admin/")
    request.user = staff
    admin.save_model(request, room, form=None, change=True)

    room.refresh_from_db()
    assert room.public_feed_token
    assert admin.public_feed_link(room) and feeds.resource_feed_url(resource=room) in admin.public_feed_link(room)


def test_admin_revokes_users_links(user, staff):
    row = feeds.calendar_token_get_or_create(user=user)
    admin = CalendarTokenAdmin(CalendarToken, AdminSite())
    request = RequestFactory().post("/admin/")
    request.user = staff
    admin.message_user = lambda *args, **kwargs: None

    admin.revoke_tokens(request, CalendarToken.objects.filter(pk=row.pk))

    assert feeds.calendar_token_live(user=user) is None


def test_admin_pages_show_the_switch_the_link_and_the_users_links(admin_client, room, user):
    feeds.resource_public_feed_set(resource=room, enabled=True)
    feeds.calendar_token_get_or_create(user=user)

    page = admin_client.get(f"/admin/bookings/resource/{room.pk}/change/").content.decode()
    tokens = admin_client.get("/admin/bookings/calendartoken/").content.decode()

    assert 'name="public_feed"' in page and feeds.resource_feed_url(resource=room) in page
    assert str(user) in tokens
    assert feeds.calendar_feed_url(row=feeds.calendar_token_live(user=user)).rsplit("/", 1)[1] not in tokens


def test_the_receipt_notification_offers_add_to_calendar_that_the_bot_handles(make_user, room):
    from bot import callbacks as bot_callbacks
    from bot.app import ROUTES
    from core import callbacks
    from notifications import texts
    from notifications.models import Notification, NotificationKind

    booking = book(make_user(telegram_id=77), room, soon())
    receipt = Notification.objects.get(booking=booking, kind=NotificationKind.CONFIRMED)

    markup = texts.render(receipt).reply_markup

    data = markup["inline_keyboard"][-1][0]["callback_data"]
    assert data == callbacks.encode(callbacks.BOOKING_ICS, booking.pk)
    press = bot_callbacks.parse(data)
    assert press.values == (booking.pk,) and press.action in ROUTES
