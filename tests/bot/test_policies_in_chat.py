"""Institution policies as the chat shows them: quotas on the confirm screen and in /my, closed days
in the calendar, and refusals (quota_exceeded, closed, not_permitted) answered with the domain's message.

The views are called directly (they are plain functions of an Actor) where the screen is the point;
the typed /book and the Confirm button go through the real bot and the sandbox.
"""

from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone, translation

from bookings import rules, selectors, services
from bookings.models import AccessRule, Booking, Closure, QuotaRule, Resource
from bot import texts
from bot.handlers.base import Actor
from bot.handlers.booking import calendar, confirm, starts
from bot.handlers.my import my_bookings


def actor_of(user):
    return Actor(user=user, chat_id=user.telegram_id or 1, private=True)


def next_grid_hour(hours_ahead=2):
    """A whole hour at least `hours_ahead` from the real clock, in the site's zone."""
    start = timezone.now().astimezone(rules.site_zone()).replace(minute=0, second=0, microsecond=0)
    return start + timedelta(hours=hours_ahead + 1)


def local_day(days_ahead):
    return rules.today_in() + timedelta(days=days_ahead)


def first_free_start(resource):
    """(start, minutes) of the first free start of `resource` in the next fortnight."""
    for days in range(1, 15):
        free = selectors.resource_free_starts(resource=resource, day=local_day(days))
        if free:
            return free[0].start, int(
                selectors.resource_durations_at(resource=resource, start=free[0].start)[0].total_seconds() // 60
            )
    raise AssertionError(f"{resource} has no free start in the next fortnight")


@pytest.fixture
def room(make_resource):
    return make_resource(name="Orion", hours=None, kind="space", category="Meeting rooms")


@pytest.fixture
def camera(make_resource):
    return make_resource(name="Camera", hours=None, category="Photo")


# --- The confirm screen -----------------------------------------------------------------------


@pytest.mark.django_db
def test_confirm_screen_shows_the_room_left_under_each_quota_that_applies(room, camera, user):
    QuotaRule.objects.create(category="Meeting rooms", kind="hours", period="week", limit=4)
    QuotaRule.objects.create(resource=room, kind="live", period="", limit=3)
    QuotaRule.objects.create(resource=camera, kind="live", period="", limit=2)  # not this resource's
    start = next_grid_hour()

    screen = confirm(actor_of(user), room.pk, start, 60)

    assert "4 h of 4 h left this week on Meeting rooms" in screen.text
    assert "3 of 3 live bookings at once left on Orion" in screen.text
    assert "Camera" not in screen.text
    assert str(texts.CONFIRM) in [button.text for row in screen.rows for button in row]


@pytest.mark.django_db
def test_confirm_screen_says_a_booking_over_a_quota_cannot_be_made_and_offers_no_confirm(camera, user):
    QuotaRule.objects.create(resource=camera, kind="live", period="", limit=1)
    start = next_grid_hour()
    services.booking_create(user=user, resource=camera, start=start, end=start + timedelta(hours=1))

    screen = confirm(actor_of(user), camera.pk, start + timedelta(hours=2), 60)

    assert "0 of 1 live booking at once left on Camera" in screen.text
    assert "cannot be made: You have 1 of 1 live booking at once on Camera" in screen.text
    assert str(texts.CONFIRM) not in [button.text for row in screen.rows for button in row]


@pytest.mark.django_db
def test_confirm_screen_says_a_closed_time_is_closed_with_the_reason(room, user, staff):
    start = next_grid_hour()
    Closure.objects.create(
        resource=room, start=start, end=start + timedelta(hours=1), reason_kind="maintenance", reason="new floor"
    )

    screen = confirm(actor_of(user), room.pk, start, 60)

    assert "cannot be made" in screen.text and "new floor" in screen.text
    assert str(texts.CONFIRM) not in [button.text for row in screen.rows for button in row]


@pytest.mark.django_db
def test_confirm_screen_shows_no_quota_lines_to_staff(room, staff):
    QuotaRule.objects.create(category="Meeting rooms", kind="hours", period="week", limit=4)

    screen = confirm(actor_of(staff), room.pk, next_grid_hour(), 60)

    assert "left this week" not in screen.text
    assert str(texts.CONFIRM) in [button.text for row in screen.rows for button in row]


# --- /my ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_my_lists_the_quotas_that_apply_with_usage_and_when_they_reset(room, camera, user):
    QuotaRule.objects.create(category="Meeting rooms", kind="hours", period="week", limit=4)
    QuotaRule.objects.create(resource=camera, kind="live", period="", limit=2)
    start = next_grid_hour()
    services.booking_create(user=user, resource=camera, start=start, end=start + timedelta(hours=1))

    text = my_bookings(actor_of(user)).text

    assert str(texts.QUOTAS_TITLE) in text
    monday = rules.today_in() + timedelta(days=7 - rules.today_in().weekday())
    assert f"4 h of 4 h left this week on Meeting rooms (resets on {texts.day_label(monday)})" in text
    assert "1 of 2 live bookings at once left on Camera (room frees up when one ends or is cancelled)" in text


@pytest.mark.django_db
def test_my_shows_the_quotas_even_before_the_first_booking(room, user):
    QuotaRule.objects.create(category="Meeting rooms", kind="hours", period="week", limit=4)

    text = my_bookings(actor_of(user)).text

    assert str(texts.NO_BOOKINGS) in text and "4 h of 4 h left this week on Meeting rooms" in text


# --- Closed days -------------------------------------------------------------------------------


def midnight(day):
    return datetime.combine(day, time.min, tzinfo=rules.site_zone())


@pytest.mark.django_db
def test_calendar_marks_a_day_a_closure_takes_entirely_as_closed_with_a_legend(room, user):
    day = local_day(3)
    # Two closures that abut take the day between them: it is closed, though neither covers it alone.
    Closure.objects.create(
        resource=room,
        start=midnight(day) - timedelta(hours=2),
        end=midnight(day) + timedelta(hours=12),
        reason_kind="maintenance",
        reason="painting",
    )
    Closure.objects.create(
        category="Meeting rooms",
        start=midnight(day) + timedelta(hours=12),
        end=midnight(day + timedelta(days=1)),
        reason_kind="holidays",
    )

    screen = calendar(actor_of(user), room.pk, (day.year, day.month))

    labels = [button.text for row in screen.rows for button in row]
    assert labels.count(texts.CLOSED_MARK) == 1
    assert str(day.day) not in labels
    assert f"{texts.CLOSED_MARK} {texts.day_label(day)}: maintenance — painting" in screen.text


@pytest.mark.django_db
def test_calendar_keeps_a_partly_closed_day_bookable(room, user):
    day = local_day(3)
    Closure.objects.create(
        resource=room, start=midnight(day), end=midnight(day) + timedelta(hours=12), reason_kind="maintenance"
    )

    screen = calendar(actor_of(user), room.pk, (day.year, day.month))

    labels = [button.text for row in screen.rows for button in row]
    assert str(day.day) in labels and texts.CLOSED_MARK not in labels


@pytest.mark.django_db
def test_start_list_says_closed_with_the_reason_when_a_closure_takes_part_of_the_day(room, user):
    day = local_day(3)
    Closure.objects.create(
        resource=room,
        start=midnight(day),
        end=midnight(day) + timedelta(hours=12),
        reason_kind="exams",
        reason="finals",
    )

    screen = starts(actor_of(user), room.pk, day, 0)

    assert "🔒 Closed" in screen.text and "finals" in screen.text
    assert texts.clock(midnight(day) + timedelta(hours=12), user.zone) in [b.text for row in screen.rows for b in row]
    assert texts.clock(midnight(day) + timedelta(hours=11), user.zone) not in [
        b.text for row in screen.rows for b in row
    ]


# --- The demo ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_demo_policies_show_on_the_confirm_screens_of_camera_and_meeting_room(make_user):
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)  # still safe twice
    user = make_user(first_name="Demo")
    camera = Resource.objects.get(name="Camera Sony A7 III")
    room = Resource.objects.get(name="Meeting room Orion")

    camera_screen = confirm(actor_of(user), camera.pk, *first_free_start(camera))
    room_screen = confirm(actor_of(user), room.pk, *first_free_start(room))

    assert "2 of 2 live bookings at once left on Camera Sony A7 III" in camera_screen.text
    assert "4 h of 4 h left this week on Rooms" in room_screen.text
    assert AccessRule.objects.filter(resource__name="Laser cutter", group__name="Trained makers").count() == 1
    assert QuotaRule.objects.count() == 2
    closure = Closure.objects.get(resource=room)
    next_month = (rules.today_in().replace(day=1) + timedelta(days=32)).month
    assert closure.start.astimezone(rules.site_zone()).month == next_month
    closed = selectors.resource_closed_days(
        resource=room,
        first=closure.start.astimezone(rules.site_zone()).date(),
        last=closure.start.astimezone(rules.site_zone()).date(),
    )
    assert list(closed.values()) == ["maintenance — Demo: projector replacement"]
    assert Group.objects.filter(name="Trained makers").count() == 1
    assert not Booking.objects.exists()


@pytest.mark.django_db
def test_confirm_screen_in_russian_shows_the_quota_and_the_refusal_in_russian(camera, user):
    QuotaRule.objects.create(resource=camera, kind="live", period="", limit=1)
    start = next_grid_hour()
    services.booking_create(user=user, resource=camera, start=start, end=start + timedelta(hours=1))

    with translation.override("ru"):
        screen = confirm(actor_of(user), camera.pk, start + timedelta(hours=2), 60)

    assert "осталось 0 из 1 одновременной брони на «Camera»" in screen.text
    assert "Эту бронь сделать нельзя" in screen.text


# --- Refusals through the real bot -------------------------------------------------------------


def typed(start):
    local = start.astimezone(rules.site_zone())
    return f"{local:%Y-%m-%d} {local:%H:%M}"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("policy", ["quota_exceeded", "closed", "not_permitted"])
def test_typed_book_refused_by_a_policy_answers_with_the_domains_message(bot, alice, camera, policy):
    alice.send("/start")
    alice.expect_message(containing="Hello")
    alice_user = get_user_model().objects.get(telegram_id=alice.id)
    start = next_grid_hour()
    if policy == "quota_exceeded":
        QuotaRule.objects.create(resource=camera, kind="live", period="", limit=1)
        services.booking_create(user=alice_user, resource=camera, start=start, end=start + timedelta(hours=1))
        start += timedelta(hours=2)
        expected = "You have 1 of 1 live booking at once on Camera"
    elif policy == "closed":
        Closure.objects.create(
            resource=camera, start=start, end=start + timedelta(hours=1), reason_kind="exams", reason="finals"
        )
        expected = "The resource is closed at this time: exams — finals."
    else:
        AccessRule.objects.create(resource=camera, group=Group.objects.create(name="Photographers"))
        expected = "Only members of Photographers may book this resource."
    before = Booking.objects.count()

    alice.send(f"/book camera {typed(start)} 1h")

    assert f"Could not book: {expected}" in alice.expect_message(containing="Could not book").text
    assert Booking.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_confirm_pressed_after_the_quota_filled_answers_with_the_quota_message(bot, alice, camera):
    QuotaRule.objects.create(resource=camera, kind="live", period="", limit=1)
    alice.send("/start")
    alice.expect_message(containing="Hello")
    alice_user = get_user_model().objects.get(telegram_id=alice.id)
    start = next_grid_hour()
    alice.send("/resources")
    alice.expect_message(containing="What are you looking for?")
    alice.press("Equipment").answer()
    alice.expect_message(containing="Equipment")
    alice.press("Camera").answer()
    alice.expect_message(containing="Rules")
    alice.press("📅 Book").answer()
    calendar_message = alice.expect_message(containing="choose a day")
    alice.press([label for label in calendar_message.buttons if label.isdigit()][-1]).answer()
    starts_message = alice.expect_message(containing="choose a start")
    alice.press(starts_message.buttons[0]).answer()
    alice.press(alice.expect_message(containing="for how long").buttons[0]).answer()
    screen = alice.expect_message(containing="Book Camera")
    assert "1 of 1 live booking at once left on Camera" in screen.text
    # Meanwhile the user books elsewhere (another chat, the API): the quota is full when Confirm is pressed.
    services.booking_create(user=alice_user, resource=camera, start=start, end=start + timedelta(hours=1))

    alice.press("✅ Confirm").answer()

    result = alice.expect_message(containing="Could not book")
    assert "You have 1 of 1 live booking at once on Camera" in result.text
    assert Booking.objects.count() == 1
