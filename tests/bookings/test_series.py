"""Recurring series (bookings.series): rules, limits, the horizon, DST, preview codes, both modes,
cancelling, extending and the ending notice.

The clock is Monday 2030-06-03 08:00 Europe/Berlin; the default resource is
open 8:00–20:00 every day and bookable 30 days ahead.
"""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bookings import errors, rules, series, services
from bookings.models import Booking, BookingSeries, BookingStatus, Closure, QuotaRule
from bookings.rules import site_zone
from notifications import outbox
from notifications.models import Notification, NotificationKind, NotificationStatus

pytestmark = pytest.mark.django_db


def local(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=site_zone())


def starts(result):
    return [o.start.astimezone(site_zone()) for o in result.occurrences]


@pytest.fixture
def user(make_user):
    return make_user(first_name="Alice", telegram_id=5001)


@pytest.fixture
def preview(user, resource, now):
    def run(start, end, rrule, *, who=None, on=None):
        return series.series_preview(
            user=who or user, resource=on or resource, start=start, end=end, rrule=rrule, now=now
        )

    return run


@pytest.fixture
def create(user, resource, now):
    def run(start, end, rrule, *, mode=series.ALL_OR_NOTHING, who=None, on=None):
        return series.series_create(
            user=who or user, resource=on or resource, start=start, end=end, rrule=rrule, mode=mode, now=now
        )

    return run


# --- Rules ------------------------------------------------------------------------


def test_weekly_on_a_weekday_until_a_date_gives_every_such_day_at_the_same_local_time(preview, at):
    result = preview(at(14, days=1), at(16, days=1), "FREQ=WEEKLY;BYDAY=TU;UNTIL=20300625")
    assert [s.date() for s in starts(result)] == [
        date(2030, 6, 4),
        date(2030, 6, 11),
        date(2030, 6, 18),
        date(2030, 6, 25),
    ]
    assert {s.time() for s in starts(result)} == {time(14)}
    assert all(o.ok for o in result.occurrences)
    assert all(o.end - o.start == timedelta(hours=2) for o in result.occurrences)


def test_daily_and_every_n_weeks_on_several_weekdays(preview, at):
    daily = preview(at(9), at(10), "FREQ=DAILY;COUNT=3")
    assert [s.day for s in starts(daily)] == [3, 4, 5]
    fortnightly = preview(at(9), at(10), "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;COUNT=4")
    assert [s.date().isoformat() for s in starts(fortnightly)] == [
        "2030-06-03",
        "2030-06-05",
        "2030-06-17",
        "2030-06-19",
    ]


def test_monthly_rule_within_the_horizon(make_resource, user, at, now):
    far = make_resource(max_advance_days=120)
    result = series.series_preview(
        user=user, resource=far, start=at(9), end=at(10), rrule="FREQ=MONTHLY;COUNT=3", now=now
    )
    assert [s.date().isoformat() for s in starts(result)] == ["2030-06-03", "2030-07-03", "2030-08-03"]


def test_a_date_only_until_includes_that_day_and_a_utc_until_is_read_in_the_site_zone(preview, at):
    assert len(preview(at(14, days=1), at(15, days=1), "FREQ=WEEKLY;UNTIL=20300611").occurrences) == 2
    # 13:00Z is 15:00 in Berlin (summer): the 14:00 occurrence on the 11th is still in.
    assert len(preview(at(14, days=1), at(15, days=1), "FREQ=WEEKLY;UNTIL=20300611T130000Z").occurrences) == 2


@pytest.mark.parametrize(
    "rrule",
    ["FREQ=HOURLY;COUNT=2", "FREQ=WEEKLY", "FREQ=WEEKLY;COUNT=0", "garbage", "FREQ=WEEKLY;BYSETPOS=1;COUNT=2", ""],
)
def test_an_unusable_rule_is_refused_with_series_invalid_rule(preview, at, rrule):
    with pytest.raises(errors.SeriesInvalidRule) as caught:
        preview(at(9), at(10), rrule)
    assert caught.value.code == "series_invalid_rule"


def test_at_most_series_max_occurrences(preview, at, settings):
    settings.SERIES_MAX_OCCURRENCES = 3
    assert len(preview(at(9), at(10), "FREQ=DAILY;COUNT=3").occurrences) == 3
    with pytest.raises(errors.SeriesTooMany) as caught:
        preview(at(9), at(10), "FREQ=DAILY;COUNT=4")
    assert caught.value.code == "series_too_many"
    assert "at most 3 occurrences" in caught.value.message


def test_the_default_limit_is_52(make_resource, user, at, now):
    everywhere = make_resource(hours=None, max_advance_days=366)
    result = series.series_preview(
        user=user, resource=everywhere, start=at(9), end=at(10), rrule="FREQ=WEEKLY;COUNT=52", now=now
    )
    assert len(result.occurrences) == 52
    with pytest.raises(errors.SeriesTooMany):
        series.series_preview(
            user=user, resource=everywhere, start=at(9), end=at(10), rrule="FREQ=WEEKLY;COUNT=53", now=now
        )


def test_a_series_past_the_booking_horizon_is_refused(preview, at):
    # Bookable 30 days ahead: until 3 July.
    preview(at(9), at(10), "FREQ=WEEKLY;UNTIL=20300703")
    with pytest.raises(errors.SeriesBeyondHorizon) as caught:
        preview(at(9), at(10), "FREQ=WEEKLY;UNTIL=20300710")
    assert caught.value.code == "series_beyond_horizon"


def test_a_rule_without_any_occurrence_is_refused(preview, at):
    with pytest.raises(errors.SeriesEmpty):
        preview(at(9), at(10), "FREQ=WEEKLY;UNTIL=20300601")


# --- DST --------------------------------------------------------------------------


def test_a_weekly_0900_stays_0900_local_across_the_spring_and_autumn_changes(make_resource, user):
    room = make_resource(hours=None, max_advance_days=366)
    now = local(date(2030, 3, 18), 8)
    spring = series.series_preview(
        user=user,
        resource=room,
        start=local(date(2030, 3, 19), 9),
        end=local(date(2030, 3, 19), 10),
        rrule="FREQ=WEEKLY;COUNT=3",
        now=now,
    )
    assert [s.strftime("%Y-%m-%d %H:%M") for s in starts(spring)] == [
        "2030-03-19 09:00",
        "2030-03-26 09:00",
        "2030-04-02 09:00",
    ]
    assert [o.start.astimezone(UTC).hour for o in spring.occurrences] == [8, 8, 7]  # CET, then CEST from 31 March
    assert all(o.ok and rules.length_of(o.start, o.end) == timedelta(hours=1) for o in spring.occurrences)
    autumn_now = local(date(2030, 10, 14), 8)
    autumn = series.series_create(
        user=user,
        resource=room,
        start=local(date(2030, 10, 22), 9),
        end=local(date(2030, 10, 22), 10),
        rrule="FREQ=WEEKLY;COUNT=2",
        now=autumn_now,
    )
    assert [b.start.astimezone(site_zone()).strftime("%d %H:%M") for b in Booking.objects.order_by("start")] == [
        "22 09:00",
        "29 09:00",
    ]
    assert [o.start.astimezone(UTC).hour for o in autumn.occurrences] == [7, 8]


def test_an_occurrence_in_the_skipped_hour_is_refused_as_unclear_local_time(make_resource, user):
    room = make_resource(hours=None, max_advance_days=366)
    now = local(date(2030, 3, 28), 8)
    result = series.series_preview(
        user=user,
        resource=room,
        start=local(date(2030, 3, 30), 2, 30),
        end=local(date(2030, 3, 30), 3, 30),
        rrule="FREQ=DAILY;COUNT=3",
        now=now,
    )
    assert [o.code for o in result.occurrences] == [None, "unclear_local_time", None]


# --- Preview: every refusal by its code ---------------------------------------------


def test_preview_names_the_code_of_each_refused_occurrence_and_books_nothing(
    preview, resource, book, other_user, at, set_hours, make_user
):
    book(resource, at(14, days=8), at(15, days=8), by=other_user)  # Tue 11 June: taken
    Closure.objects.create(resource=resource, start=at(0, days=15), end=at(23, days=15), reason_kind="maintenance")
    set_hours(resource, {d: [((8, 0), (20, 0))] for d in (0, 1, 2, 3, 4, 5)})  # closed on Sundays
    result = preview(at(14, days=1), at(15, days=1), "FREQ=WEEKLY;BYDAY=TU,SU;COUNT=6")
    codes = {o.start.astimezone(site_zone()).date().isoformat(): o.code for o in result.occurrences}
    assert codes == {
        "2030-06-04": None,
        "2030-06-09": "outside_opening_hours",
        "2030-06-11": "slot_taken",
        "2030-06-16": "outside_opening_hours",
        "2030-06-18": "closed",
        "2030-06-23": "outside_opening_hours",
    }
    assert all(o.message for o in result.occurrences if not o.ok)
    assert Booking.objects.filter(series__isnull=False).count() == 0
    assert BookingSeries.objects.count() == 0
    assert not Notification.objects.filter(user__first_name="Alice").exists()


def test_preview_counts_earlier_occurrences_against_a_quota(preview, resource, at):
    QuotaRule.objects.create(resource=resource, kind="live", limit=2)
    result = preview(at(9, days=1), at(10, days=1), "FREQ=DAILY;COUNT=3")
    assert [o.code for o in result.occurrences] == [None, None, "quota_exceeded"]


def test_preview_reports_in_the_past_too_late_and_too_long(make_resource, user, at, now):
    strict = make_resource(min_notice_minutes=24 * 60, max_duration_minutes=60)
    result = series.series_preview(
        user=user, resource=strict, start=at(9), end=at(10), rrule="FREQ=DAILY;COUNT=2", now=now
    )
    assert [o.code for o in result.occurrences] == ["too_late_to_book", None]
    with pytest.raises(errors.BookingError):
        series.series_preview(user=user, resource=strict, start=at(10), end=at(9), rrule="FREQ=DAILY;COUNT=2", now=now)
    long = series.series_preview(
        user=user, resource=strict, start=at(9, days=2), end=at(11, days=2), rrule="FREQ=DAILY;COUNT=1", now=now
    )
    assert [o.code for o in long.occurrences] == ["too_long"]


def _restrict(resource, user, now):
    from django.contrib.auth.models import Group

    from bookings.models import AccessRule

    AccessRule.objects.create(resource=resource, group=Group.objects.create(name="Makers"))


def _suspend(resource, user, now):
    from bookings.models import Suspension

    Suspension.objects.create(user=user, start=now, until=now + timedelta(days=60), reason="no_show")


def _deactivate(resource, user, now):
    resource.is_active = False
    resource.save()


def _out_of_service(resource, user, now):
    resource.out_of_service_since = now
    resource.save()


@pytest.mark.parametrize(
    ("make_it_so", "code"),
    [
        (_restrict, "not_permitted"),
        (_suspend, "suspended"),
        (_deactivate, "resource_inactive"),
        (_out_of_service, "out_of_service"),
    ],
)
def test_preview_names_policy_and_resource_refusals_on_every_occurrence(
    preview, resource, user, now, at, make_it_so, code
):
    make_it_so(resource, user, now)
    result = preview(at(9, days=1), at(10, days=1), "FREQ=DAILY;COUNT=2")
    assert [o.code for o in result.occurrences] == [code, code]


# --- Create: all or nothing, or skip conflicts --------------------------------------


def test_all_or_nothing_with_one_taken_occurrence_books_nothing(create, resource, book, other_user, at):
    book(resource, at(14, days=8), at(15, days=8), by=other_user)
    with pytest.raises(errors.SeriesConflict) as caught:
        create(at(14, days=1), at(15, days=1), "FREQ=WEEKLY;COUNT=3")
    assert caught.value.code == "series_conflict"
    assert [o.code for o in caught.value.occurrences] == [None, "slot_taken", None]
    assert BookingSeries.objects.count() == 0
    assert Booking.objects.count() == 1


def test_all_or_nothing_books_every_occurrence_linked_to_the_series(create, at, user):
    result = create(at(14, days=1), at(15, days=1), "FREQ=WEEKLY;COUNT=3")
    made = result.series
    assert made.bookings.count() == 3
    assert set(made.bookings.values_list("status", flat=True)) == {BookingStatus.CONFIRMED}
    assert made.rrule == "FREQ=WEEKLY;COUNT=3" and made.duration_minutes == 60 and made.user == user


def test_skip_conflicts_books_the_free_ones_and_sends_one_summary(create, resource, book, other_user, at, user):
    book(resource, at(14, days=8), at(15, days=8), by=other_user)
    result = create(at(14, days=1), at(15, days=1), "FREQ=WEEKLY;COUNT=3", mode=series.SKIP_CONFLICTS)
    assert [o.code for o in result.occurrences] == [None, "slot_taken", None]
    assert result.series.bookings.count() == 2
    mine = Notification.objects.filter(user=user).exclude(status=NotificationStatus.SKIPPED)
    assert list(mine.values_list("kind", flat=True)) == [NotificationKind.SERIES_BOOKED]
    # The occurrences' own receipts were written held and then dropped: the summary says it once.
    held = Notification.objects.filter(user=user, status=NotificationStatus.SKIPPED)
    assert set(held.values_list("kind", flat=True)) == {NotificationKind.CONFIRMED}
    assert mine.get().payload["booking_ids"] == [o.booking.pk for o in result.booked]


def test_skip_conflicts_with_nothing_free_is_refused(create, resource, book, other_user, at):
    book(resource, at(14, days=1), at(15, days=1), by=other_user)
    with pytest.raises(errors.SeriesNothingFree):
        create(at(14, days=1), at(15, days=1), "FREQ=WEEKLY;COUNT=1", mode=series.SKIP_CONFLICTS)
    assert BookingSeries.objects.count() == 0


def test_an_unknown_mode_is_refused(create, at):
    with pytest.raises(errors.SeriesInvalidMode):
        create(at(9), at(10), "FREQ=DAILY;COUNT=1", mode="sometimes")


def test_a_series_made_in_the_bot_holds_its_summary_until_the_reply_is_known(user, resource, at, now):
    made = series.series_create(
        user=user,
        resource=resource,
        start=at(9, days=1),
        end=at(10, days=1),
        rrule="FREQ=DAILY;COUNT=2",
        now=now,
        receipt=False,
    ).series
    row = Notification.objects.get(user=user, kind=NotificationKind.SERIES_BOOKED)
    assert row.next_attempt_at is not None
    series.series_receipt_shown(series=made)
    row.refresh_from_db()
    assert row.status == NotificationStatus.SKIPPED


# --- Cancel -------------------------------------------------------------------------


@pytest.fixture
def weekly(create, at):
    return create(at(14, days=1), at(15, days=1), "FREQ=WEEKLY;COUNT=4").series


def statuses(made):
    return list(made.bookings.order_by("start").values_list("status", flat=True))


def test_cancelling_one_occurrence_leaves_the_others(weekly, user):
    second = weekly.bookings.order_by("start")[1]
    services.booking_cancel(booking=second, by=user, now=second.start - timedelta(days=1))
    assert statuses(weekly) == ["confirmed", "cancelled", "confirmed", "confirmed"]


def test_cancelling_this_and_following_keeps_the_earlier_ones(weekly, user, now):
    third = weekly.bookings.order_by("start")[2]
    cancelled = series.series_cancel(series=weekly, by=user, start_from=third.start, now=now)
    assert len(cancelled) == 2
    assert statuses(weekly) == ["confirmed", "confirmed", "cancelled", "cancelled"]
    weekly.refresh_from_db()
    assert weekly.cancelled_at is None


def test_cancelling_all_marks_the_series_cancelled(weekly, user, now):
    series.series_cancel(series=weekly, by=user, now=now)
    assert statuses(weekly) == ["cancelled"] * 4
    weekly.refresh_from_db()
    assert weekly.cancelled_at == now
    with pytest.raises(errors.SeriesNothingToCancel):
        series.series_cancel(series=weekly, by=user, now=now)


def test_staff_cancelling_a_series_sends_one_summary_not_one_message_per_occurrence(weekly, staff, user, now):
    Notification.objects.all().delete()
    series.series_cancel(series=weekly, by=staff, reason="renovation", now=now)
    rows = Notification.objects.filter(user=user)
    assert list(rows.values_list("kind", flat=True)) == [NotificationKind.SERIES_CANCELLED]
    assert rows.get().payload["reason"] == "renovation"


def test_another_user_may_not_cancel_the_series(weekly, other_user, now):
    with pytest.raises(errors.SeriesNothingToCancel):
        series.series_cancel(series=weekly, by=other_user, now=now)
    assert set(statuses(weekly)) == {"confirmed"}


# --- Ending notice and extend ---------------------------------------------------------


def test_the_ending_notice_is_written_once_seven_days_before_the_last_occurrence(weekly, user, now):
    last = weekly.bookings.order_by("-start").first()  # 24 June
    ending = Notification.objects.filter(kind=NotificationKind.SERIES_ENDING)
    outbox.notifications_create_series_ending(now=last.start - timedelta(days=8))
    assert not ending.exists()
    inside_window = last.start - timedelta(days=7, minutes=-1)
    outbox.notifications_create_series_ending(now=inside_window)
    outbox.notifications_create_series_ending(now=inside_window + timedelta(hours=1))
    assert ending.count() == 1
    row = ending.get()
    assert row.booking == last and row.user == user and row.payload == {"series_id": weekly.pk}


def test_a_series_made_inside_its_notice_window_gets_no_ending_notice(make_resource, user):
    from django.utils import timezone

    room = make_resource(hours=None)
    start = rules.round_up_to_grid(room, timezone.now() + timedelta(days=1))
    series.series_create(
        user=user, resource=room, start=start, end=start + timedelta(hours=1), rrule="FREQ=DAILY;COUNT=3"
    )
    outbox.notifications_create_series_ending(now=timezone.now())
    assert not Notification.objects.filter(kind=NotificationKind.SERIES_ENDING).exists()


def test_extend_adds_the_next_occurrences_and_moves_the_ending_notice(make_resource, user, at, now):
    room = make_resource(max_advance_days=60)
    made = series.series_create(
        user=user, resource=room, start=at(14, days=1), end=at(15, days=1), rrule="FREQ=WEEKLY;COUNT=2", now=now
    ).series
    first_last = made.bookings.order_by("-start").first()
    outbox.notifications_create_series_ending(now=first_last.start - timedelta(days=6))
    result = series.series_extend(series=made, by=user, count=3, now=now)
    assert len(result.booked) == 3
    assert [b.start.date().isoformat() for b in made.bookings.order_by("start")] == [
        "2030-06-04",
        "2030-06-11",
        "2030-06-18",
        "2030-06-25",
        "2030-07-02",
    ]
    assert "UNTIL=20300702T235959" in made.rrule
    new_last = made.bookings.order_by("-start").first()
    outbox.notifications_create_series_ending(now=new_last.start - timedelta(days=6))
    ending = Notification.objects.filter(kind=NotificationKind.SERIES_ENDING)
    assert [n.booking_id for n in ending.order_by("id")] == [first_last.pk, new_last.pk]


def test_extend_stops_at_the_horizon(weekly, user, now):
    with pytest.raises(errors.SeriesNothingToExtend):
        series.series_extend(series=weekly, by=user, now=now + timedelta(days=-7))
