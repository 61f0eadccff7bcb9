"""Institution policies in the domain: who may book what, fair-use quotas, closures, access requests.

Every check goes through services.booking_create (policies.enforce_booking_policies),
so what is pinned here holds for the bot, the API and the admin alike.
"""

from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache

from bookings import errors, policies, rules, selectors, services
from bookings.models import (
    AccessRequestStatus,
    AccessRule,
    Booking,
    BookingStatus,
    Closure,
    QuotaRule,
)
from bookings.rules import site_zone
from bookings.signals import access_request_changed, bookings_transitioned
from sandbox.testing import run_sandbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def makers():
    return Group.objects.create(name="Trained makers")


@pytest.fixture
def cutter(make_resource, makers):
    resource = make_resource(name="Laser cutter", hours=None, category="Workshop")
    AccessRule.objects.create(resource=resource, group=makers)
    return resource


@pytest.fixture
def room(make_resource):
    return make_resource(name="Orion", hours=None, kind="space", category="Meeting rooms")


# --- Who may book what ----------------------------------------------------------------


def test_a_restricted_resource_refuses_a_non_member_naming_the_groups(cutter, user, at, now, make_resource):
    AccessRule.objects.create(category="Workshop", telegram_chat_id=-100, telegram_chat_title="Physics lab students")
    with pytest.raises(errors.NotPermitted) as caught:
        services.booking_create(user=user, resource=cutter, start=at(10), end=at(11), now=now)
    assert caught.value.code == "not_permitted"
    assert "Trained makers" in caught.value.message and "Physics lab students" in caught.value.message
    assert not Booking.objects.exists()


def test_a_member_of_the_django_group_may_book_a_restricted_resource(cutter, user, makers, at, now):
    user.groups.add(makers)
    assert services.booking_create(user=user, resource=cutter, start=at(10), end=at(11), now=now).pk


def test_staff_may_book_a_restricted_resource(cutter, staff, at, now):
    assert services.booking_create(user=staff, resource=cutter, start=at(10), end=at(11), now=now).pk


def test_a_category_rule_restricts_every_resource_of_the_category(make_resource, makers, user, at, now):
    drill = make_resource(name="Drill", hours=None, category="Workshop")
    open_one = make_resource(name="Camera", hours=None, category="AV")
    AccessRule.objects.create(category="Workshop", group=makers)
    access = policies.resources_bookable_by(user=user, resources=[drill, open_one])
    assert access[drill.pk] == policies.Access(bookable=False, restricted_to=("Trained makers",))
    assert access[open_one.pk].bookable
    with pytest.raises(errors.NotPermitted):
        services.booking_create(user=user, resource=drill, start=at(10), end=at(11), now=now)


def test_resources_bookable_by_marks_restricted_resources_in_two_queries(
    cutter, room, user, django_assert_max_num_queries
):
    with django_assert_max_num_queries(2):
        access = policies.resources_bookable_by(user=user, resources=[cutter, room])
    assert not access[cutter.pk].bookable and access[room.pk].bookable


@pytest.fixture
def telegram(settings):
    """A sandbox Telegram that the membership check asks, and an empty cache of this test's own
    (never clear a shared Redis: other suites keep their keys there)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "policies"}}
    with run_sandbox(tokens=[settings.TELEGRAM_BOT_TOKEN]) as sandbox:
        settings.TELEGRAM_BASE_URL = sandbox.base_url
        yield sandbox
    cache.clear()  # the test's own local-memory cache


def test_members_of_a_telegram_chat_may_book_what_the_chat_is_allowed(telegram, make_resource, make_user, at, now):
    alice_tg, bob_tg = telegram.user("Alice"), telegram.user("Bob")
    chat = telegram.group("Physics lab students", members=[alice_tg])
    scope = make_resource(name="Oscilloscope", hours=None)
    AccessRule.objects.create(resource=scope, telegram_chat_id=chat.id, telegram_chat_title=chat.title)
    alice, bob = make_user(telegram_id=alice_tg.id), make_user(telegram_id=bob_tg.id)

    assert services.booking_create(user=alice, resource=scope, start=at(10), end=at(11), now=now).pk
    with pytest.raises(errors.NotPermitted) as caught:
        services.booking_create(user=bob, resource=scope, start=at(12), end=at(13), now=now)
    assert "Physics lab students" in caught.value.message


def test_a_page_of_availability_first_holds_what_the_user_may_book_page_by_page(
    telegram, make_resource, make_user, makers, at, now
):
    # The paged answer decides access in SQL; it must list exactly what the full list, filtered by
    # resources_bookable_by, lists, in the same order, for each kind of user.
    member_tg, outsider_tg, grouped_tg = telegram.user("Member"), telegram.user("Outsider"), telegram.user("Grouped")
    chat = telegram.group("Robotics club", members=[member_tg])
    for n in range(4):
        make_resource(name=f"Open desk {n}", hours=None, category="")
    make_resource(name="Club robot", hours=None, category="Robots")
    make_resource(name="Club arm", hours=None, category="Robots")
    AccessRule.objects.create(category="Robots", telegram_chat_id=chat.id, telegram_chat_title=chat.title)
    lathe = make_resource(name="Lathe", hours=None, category="")
    AccessRule.objects.create(resource=lathe, group=makers)
    in_group = make_user(telegram_id=grouped_tg.id)
    in_group.groups.add(makers)
    users = {
        "member of the chat": make_user(telegram_id=member_tg.id),
        "outsider": make_user(telegram_id=outsider_tg.id),
        "in the group": in_group,
        "staff": make_user(is_staff=True),
        "no user": None,
    }
    start, end = at(10, days=1), at(11, days=1)
    every = selectors.resources_free_between(start=start, end=end, now=now)
    counts = {}
    for who, user in users.items():
        expected = [r.name for r in policies.resources_only_bookable(user=user, resources=every)]
        paged, offset = [], 0
        while True:
            page = selectors.resources_free_page(user=user, start=start, end=end, offset=offset, limit=3, now=now)
            assert page.total == len(expected), who
            if not page.items:
                break
            paged += [r.name for r in page.items]
            offset += 3
        assert paged == expected, who
        counts[who] = len(paged)
    # The desks are open to all; the chat's members add the two robots, the group the lathe.
    assert counts == {"member of the chat": 6, "outsider": 4, "in the group": 5, "staff": 7, "no user": 4}


def test_chat_membership_is_remembered_briefly(telegram, make_resource, make_user, at, now):
    from core.telegram_membership import forget_chat_member, is_chat_member

    alice_tg = telegram.user("Alice")
    chat = telegram.group("Lab", members=[alice_tg])
    assert is_chat_member(telegram_id=alice_tg.id, chat_id=chat.id)
    chat.remove(alice_tg.id)
    assert is_chat_member(telegram_id=alice_tg.id, chat_id=chat.id)  # the cached answer, within its TTL
    forget_chat_member(telegram_id=alice_tg.id, chat_id=chat.id)
    assert not is_chat_member(telegram_id=alice_tg.id, chat_id=chat.id)


def test_a_user_without_telegram_is_no_chat_member_and_nothing_is_asked(make_user):
    from core.telegram_membership import is_chat_member

    assert not is_chat_member(telegram_id=None, chat_id=-1)


# --- Quotas ---------------------------------------------------------------------------


def test_at_most_n_bookings_per_day(room, book, at):
    QuotaRule.objects.create(resource=room, kind="bookings", period="day", limit=2)
    book(room, at(10), at(11))
    book(room, at(12), at(13))
    with pytest.raises(errors.QuotaExceeded) as caught:
        book(room, at(14), at(15))
    assert caught.value.code == "quota_exceeded"
    assert caught.value.message == "You have 2 of 2 bookings today on Orion; the day resets at midnight."
    assert book(room, at(10, days=1), at(11, days=1)).pk  # the next day is a new period


def test_hours_per_week_message_names_the_limit_usage_and_reset(room, book, at):
    QuotaRule.objects.create(category="Meeting rooms", kind="hours", period="week", limit=4)
    book(room, at(10), at(13))
    book(room, at(10, days=2), at(11, days=2))
    with pytest.raises(errors.QuotaExceeded) as caught:
        book(room, at(10, days=3), at(10, 30, days=3))
    assert caught.value.message == ("You have 4 h of 4 h this week on Meeting rooms; the week resets on Monday.")
    assert book(room, at(10, days=7), at(14, days=7)).pk  # next Monday: a new week


def test_a_booking_that_would_pass_the_hours_limit_is_refused(room, book, at):
    QuotaRule.objects.create(resource=room, kind="hours", period="week", limit=4)
    book(room, at(10), at(13))
    with pytest.raises(errors.QuotaExceeded) as caught:
        book(room, at(14), at(15, 30))
    assert "3 h of 4 h" in caught.value.message
    assert book(room, at(14), at(15)).pk  # exactly up to the limit is fine


def test_at_most_n_live_bookings_at_once(room, book, at, now, user):
    QuotaRule.objects.create(resource=room, kind="live", limit=2)
    first = book(room, at(10), at(11))
    book(room, at(10, days=5), at(11, days=5))
    with pytest.raises(errors.QuotaExceeded) as caught:
        book(room, at(10, days=9), at(11, days=9))
    assert caught.value.message.startswith("You have 2 of 2 live bookings at once on Orion")
    services.booking_cancel(booking=first, by=user, now=now)
    assert book(room, at(10, days=9), at(11, days=9)).pk  # a cancelled booking holds nothing


def test_completed_bookings_count_and_cancelled_rejected_expired_do_not(room, book, at, user):
    QuotaRule.objects.create(resource=room, kind="bookings", period="day", limit=2)
    for status in (BookingStatus.CANCELLED, BookingStatus.REJECTED, BookingStatus.EXPIRED):
        Booking.objects.create(resource=room, user=user, start=at(9), end=at(10), blocked_until=at(10), status=status)
    Booking.objects.create(
        resource=room, user=user, start=at(8), end=at(9), blocked_until=at(9), status=BookingStatus.COMPLETED
    )
    book(room, at(10), at(11))
    with pytest.raises(errors.QuotaExceeded):
        book(room, at(12), at(13))


def test_stacked_rules_the_strictest_decides(room, book, at):
    QuotaRule.objects.create(kind="bookings", period="month", limit=10)
    QuotaRule.objects.create(resource=room, kind="bookings", period="week", limit=1)
    book(room, at(10), at(11))
    with pytest.raises(errors.QuotaExceeded) as caught:
        book(room, at(10, days=1), at(11, days=1))
    assert "1 of 1 booking this week on Orion" in caught.value.message


def test_when_several_rules_are_broken_the_one_that_frees_up_last_is_named(room, book, at):
    QuotaRule.objects.create(resource=room, kind="bookings", period="day", limit=1)
    QuotaRule.objects.create(resource=room, kind="bookings", period="week", limit=1)
    book(room, at(10), at(11))
    with pytest.raises(errors.QuotaExceeded) as caught:
        book(room, at(12), at(13))
    assert "this week" in caught.value.message


def test_a_group_specific_limit_binds_only_its_members(room, book, at, user, other_user):
    interns = Group.objects.create(name="Interns")
    user.groups.add(interns)
    QuotaRule.objects.create(resource=room, group=interns, kind="bookings", period="day", limit=1)
    book(room, at(10), at(11))
    with pytest.raises(errors.QuotaExceeded):
        book(room, at(12), at(13))
    book(room, at(12), at(13), by=other_user)
    book(room, at(14), at(15), by=other_user)


def test_staff_are_exempt_from_quotas(room, book, at, staff):
    QuotaRule.objects.create(kind="live", limit=1)
    book(room, at(10), at(11), by=staff)
    assert book(room, at(12), at(13), by=staff).pk


def test_quotas_of_other_scopes_do_not_apply(room, make_resource, book, at):
    other = make_resource(name="Camera", hours=None, category="AV")
    QuotaRule.objects.create(resource=other, kind="live", limit=1)
    QuotaRule.objects.create(category="AV", kind="live", limit=1)
    book(room, at(10), at(11))
    assert book(room, at(12), at(13)).pk


def test_the_week_holding_the_spring_clock_change_is_monday_to_monday_in_local_time(make_resource, make_user):
    # Europe/Berlin springs forward on Sunday 2030-03-31: that week lasts 167 hours.
    zone = site_zone()
    start, end = policies.period_bounds("week", datetime(2030, 3, 31, 12, tzinfo=zone))
    assert start == datetime(2030, 3, 25, tzinfo=zone) and end == datetime(2030, 4, 1, tzinfo=zone)
    assert rules.length_of(start, end) == timedelta(days=7) - timedelta(hours=1)


def test_a_week_quota_across_the_spring_change_counts_up_to_sunday_midnight(make_resource, make_user):
    zone = site_zone()
    now = datetime(2030, 3, 24, 12, tzinfo=zone)
    room = make_resource(name="Orion", hours=None)
    user = make_user()
    QuotaRule.objects.create(resource=room, kind="hours", period="week", limit=2)

    def book(day, hour, minute=0, length=60):
        start = datetime.combine(day, time(hour, minute), tzinfo=zone)
        return services.booking_create(
            user=user, resource=room, start=start, end=start + timedelta(minutes=length), now=now
        )

    monday, sunday = datetime(2030, 3, 25).date(), datetime(2030, 3, 31).date()
    book(monday, 0)  # the first hour of the week
    book(sunday, 23)  # the last hour of the week (after the clock change)
    with pytest.raises(errors.QuotaExceeded) as caught:
        book(sunday, 22, 30, length=30)
    assert "2 h of 2 h this week" in caught.value.message
    assert book(datetime(2030, 4, 1).date(), 0).pk  # Monday 00:00 +02:00 opens the next week


def test_a_month_quota_resets_on_the_first(room, make_user):
    zone = site_zone()
    now = datetime(2030, 6, 20, 8, tzinfo=zone)
    user = make_user()
    QuotaRule.objects.create(resource=room, kind="bookings", period="month", limit=1)
    june = datetime(2030, 6, 30, 23, tzinfo=zone)
    services.booking_create(user=user, resource=room, start=june, end=june + timedelta(minutes=30), now=now)
    with pytest.raises(errors.QuotaExceeded) as caught:
        services.booking_create(user=user, resource=room, start=june - timedelta(hours=2), end=june, now=now)
    assert "the month resets on" in caught.value.message
    july = datetime(2030, 7, 1, 0, tzinfo=zone)
    assert services.booking_create(user=user, resource=room, start=july, end=july + timedelta(hours=1), now=now).pk


def test_user_quota_usage_tells_used_limit_and_period_end(room, book, at, now, user):
    QuotaRule.objects.create(category="Meeting rooms", kind="hours", period="week", limit=4)
    QuotaRule.objects.create(kind="live", limit=3)
    book(room, at(10), at(11))
    usage = policies.user_quota_usage(user=user, resource=room, now=now)
    hours, live = usage
    assert (hours.used, hours.limit, hours.left) == (1, 4, 3)
    assert hours.period_end == datetime(2030, 6, 10, tzinfo=site_zone())
    assert hours.describe() == "3 h of 4 h left this week on Meeting rooms"
    assert (live.used, live.limit, live.period_end) == (1, 3, None)
    assert live.describe() == "2 of 3 live bookings at once left on all resources"


def test_user_quota_usage_is_empty_for_staff(room, staff, now):
    QuotaRule.objects.create(kind="live", limit=3)
    assert policies.user_quota_usage(user=staff, now=now) == []


# --- Closures -------------------------------------------------------------------------


def test_booking_into_a_closure_is_refused_with_its_reason(room, book, at):
    Closure.objects.create(resource=room, start=at(12), end=at(14), reason_kind="maintenance", reason="new floor")
    with pytest.raises(errors.Closed) as caught:
        book(room, at(13), at(15))
    assert caught.value.code == "closed"
    assert caught.value.message == "The resource is closed at this time: maintenance — new floor."
    assert book(room, at(14), at(15)).pk  # right after it is fine


def test_closed_time_is_not_offered_by_the_availability_selectors(room, make_resource, at, now):
    """What the selectors offer, booking_create accepts: a closure is cut out of free time."""
    Closure.objects.create(resource=room, start=at(12), end=at(14), reason_kind="maintenance")
    other = make_resource(name="Vega", hours=None, kind="space", category="Meeting rooms")
    day = at(12).date()
    free = selectors.resource_free_intervals(resource=room, day=day, now=now)
    assert all(i.end <= at(12) or i.start >= at(14) for i in free)
    assert any(i.end == at(12) for i in free) and any(i.start == at(14) for i in free)
    starts = {s.start for s in selectors.resource_free_starts(resource=room, day=day, now=now)}
    assert at(13) not in starts and at(14) in starts
    assert selectors.resource_durations_at(resource=room, start=at(13), now=now) == ()
    free_then = selectors.resources_free_between(start=at(12, 30), end=at(13, 30), now=now)
    assert room not in free_then and other in free_then


def test_a_closure_binds_staff_too(room, book, at, staff):
    Closure.objects.create(start=at(0), end=at(0, days=1), reason_kind="holidays")
    with pytest.raises(errors.Closed):
        book(room, at(13), at(15), by=staff)


def test_closures_between_finds_resource_category_and_global_closures_in_one_query(
    room, make_resource, at, django_assert_num_queries
):
    camera = make_resource(name="Camera", hours=None, category="AV")
    own = Closure.objects.create(resource=room, start=at(9), end=at(10), reason_kind="maintenance")
    av = Closure.objects.create(category="AV", start=at(11), end=at(12), reason_kind="exams")
    everything = Closure.objects.create(start=at(20), end=at(22), reason_kind="holidays")
    Closure.objects.create(start=at(9, days=3), end=at(10, days=3), reason_kind="holidays")  # outside the range
    with django_assert_num_queries(1):
        found = policies.closures_between(resource_ids=[room.pk, camera.pk], start=at(0), end=at(0, days=1))
    assert [c.pk for c in found[room.pk]] == [own.pk, everything.pk]
    assert [c.pk for c in found[camera.pk]] == [av.pk, everything.pk]


def test_closure_create_cancels_each_affected_booking_once_with_the_reason(
    room, book, at, now, staff, other_user, signals_of
):
    first = book(room, at(10), at(11))
    second = book(room, at(12), at(13), by=other_user)
    outside = book(room, at(10, days=1), at(11, days=1))
    assert [b.pk for b in policies.closure_affected_bookings(resource=room, start=at(9), end=at(18))] == [
        first.pk,
        second.pk,
    ]
    seen = signals_of(bookings_transitioned)
    closure, cancelled, running = policies.closure_create(
        resource=room, start=at(9), end=at(18), reason_kind="maintenance", reason="painting", by=staff, now=now
    )
    assert {b.pk for b in cancelled} == {first.pk, second.pk} and running == []
    assert [(len(s["bookings"]), s["to_status"], s["reason"]) for s in seen] == [
        (1, "cancelled", "Closed (maintenance — painting)"),
        (1, "cancelled", "Closed (maintenance — painting)"),
    ]
    first.refresh_from_db()
    outside.refresh_from_db()
    assert first.status == BookingStatus.CANCELLED and outside.status == BookingStatus.CONFIRMED
    assert first.events.filter(to_status="cancelled").count() == 1
    assert closure.pk


def test_closure_create_leaves_a_running_booking_to_staff(room, book, at, now, staff):
    running = book(room, at(10), at(11))
    Booking.objects.filter(pk=running.pk).update(status=BookingStatus.ACTIVE)
    _, cancelled, left = policies.closure_create(
        resource=room, start=at(9), end=at(18), reason_kind="other", by=staff, now=now
    )
    assert cancelled == [] and [b.pk for b in left] == [running.pk]


def test_closure_create_cancels_a_started_booking_still_waiting_for_its_check_in(make_resource, book, at, staff):
    # The owner could no longer cancel it (it has started), but the closure binds it all the same.
    bench = make_resource(name="Bench", hours=None, requires_check_in=True, check_in_grace_minutes=30)
    waiting = book(bench, at(10), at(11))
    _, cancelled, running = policies.closure_create(
        resource=bench, start=at(9), end=at(18), reason_kind="other", by=staff, now=at(10, 10)
    )
    waiting.refresh_from_db()
    assert [b.pk for b in cancelled] == [waiting.pk] and running == []
    assert waiting.status == BookingStatus.CANCELLED


def test_closure_create_is_staff_only(room, at, user, now):
    with pytest.raises(errors.NotAllowed):
        policies.closure_create(resource=room, start=at(9), end=at(18), reason_kind="other", by=user, now=now)
    assert not Closure.objects.exists()


# --- Access requests ------------------------------------------------------------------


def test_approving_an_access_request_adds_the_user_to_the_group_and_lets_them_book(
    cutter, user, staff, at, now, signals_of
):
    seen = signals_of(access_request_changed)
    request = policies.access_request_create(user=user, resource=cutter, reason="I did the training")
    with pytest.raises(errors.AccessRequestPending):
        policies.access_request_create(user=user, resource=cutter, reason="again")
    policies.access_request_approve(request=request, by=staff, now=now)
    request.refresh_from_db()
    assert request.status == AccessRequestStatus.APPROVED and request.decided_by == staff
    assert user.groups.filter(name="Trained makers").exists()
    assert services.booking_create(user=user, resource=cutter, start=at(10), end=at(11), now=now).pk
    assert [(s["from_status"], s["to_status"]) for s in seen] == [("", "pending"), ("pending", "approved")]
    with pytest.raises(errors.WrongStatus):
        policies.access_request_reject(request=request, by=staff, now=now)


def test_rejecting_an_access_request_keeps_the_user_out(cutter, user, staff, now):
    request = policies.access_request_create(user=user, resource=cutter)
    policies.access_request_reject(request=request, by=staff, reason="Training first", now=now)
    request.refresh_from_db()
    assert (request.status, request.decision_reason) == ("rejected", "Training first")
    assert not user.groups.exists()


def test_approving_access_to_a_chat_only_resource_is_refused_clearly(make_resource, user, staff, now):
    scope = make_resource(name="Oscilloscope", hours=None)
    AccessRule.objects.create(resource=scope, telegram_chat_id=-100, telegram_chat_title="Physics lab students")
    request = policies.access_request_create(user=user, resource=scope)
    with pytest.raises(errors.NoGroupToGrant) as caught:
        policies.access_request_approve(request=request, by=staff, now=now)
    assert "Physics lab students" in caught.value.message
    request.refresh_from_db()
    assert request.status == "pending"


def test_asking_for_access_to_an_open_resource_is_refused(room, user):
    with pytest.raises(errors.AlreadyPermitted):
        policies.access_request_create(user=user, resource=room)


def test_only_staff_decide_access_requests(cutter, user, other_user, now):
    request = policies.access_request_create(user=user, resource=cutter)
    with pytest.raises(errors.NotAllowed):
        policies.access_request_approve(request=request, by=other_user, now=now)


def test_the_quota_message_reads_in_russian_with_plural_forms(room, book, at):
    from django.utils import translation

    QuotaRule.objects.create(resource=room, kind="bookings", period="week", limit=2)
    book(room, at(10), at(11))
    book(room, at(12), at(13))
    with translation.override("ru"), pytest.raises(errors.QuotaExceeded) as caught:
        book(room, at(14), at(15))
    assert caught.value.message == (
        "У вас 2 из 2 броней на этой неделе на «Orion»; неделя начнётся заново в понедельник."
    )
