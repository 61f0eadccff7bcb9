"""Pools of identical units: booking by count, free counts, cancelling and returning, swapping a unit.

The race runs real concurrent clients (threads, each with its own
connection) on whichever database the suite runs on, PostgreSQL or SQLite.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings import errors, pools, services
from bookings.models import Booking, BookingStatus, PoolRequest, QuotaRule

from .concurrency import run_together
from .conftest import assert_no_overlaps


@pytest.fixture
def laptops(make_pool):
    return make_pool(5, requires_check_in=True)


def book(pool, user, start, end, quantity, now, note=""):
    return pools.pool_book(user=user, pool=pool, start=start, end=end, quantity=quantity, note=note, now=now)


@pytest.mark.django_db
def test_a_pool_request_books_the_lowest_free_units_one_booking_each(laptops, user, other_user, at, now):
    first = services.booking_create(
        user=other_user, resource=laptops.units.order_by("pk")[0], start=at(10), end=at(12), now=now
    )
    request = book(laptops, user, at(10), at(12), 2, now, note="workshop")
    units = [b.resource for b in request.bookings.all()]
    expected = list(laptops.units.order_by("pk"))[1:3]
    assert units == expected and first.resource not in units
    assert [(b.status, b.start, b.end, b.note) for b in request.bookings.all()] == [
        (BookingStatus.CONFIRMED, at(10), at(12), "workshop")
    ] * 2
    assert (request.quantity, request.user, request.pool) == (2, user, laptops)


@pytest.mark.django_db
def test_asking_for_more_units_than_are_free_says_how_many_are_free_and_books_nothing(
    laptops, user, other_user, at, now
):
    book(laptops, other_user, at(10), at(12), 3, now)
    with pytest.raises(errors.NotEnoughUnits) as refused:
        book(laptops, user, at(11), at(13), 3, now)
    assert refused.value.code == "not_enough_units"
    assert refused.value.params == {"free": 2} and "only 2 are free" in refused.value.message
    assert not Booking.objects.filter(user=user).exists() and not PoolRequest.objects.filter(user=user).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("quantity", [0, -1, 6, "2", True, None])
def test_a_quantity_outside_one_to_the_pool_size_is_refused(laptops, user, at, now, quantity):
    with pytest.raises(errors.InvalidQuantity) as refused:
        book(laptops, user, at(10), at(12), quantity, now)
    assert refused.value.code == "invalid_quantity" and "1 to 5" in refused.value.message
    assert not Booking.objects.exists()


@pytest.mark.django_db
def test_a_time_the_units_rules_refuse_is_refused_by_that_rule(laptops, user, at, now):
    with pytest.raises(errors.TooLong):
        book(laptops, user, at(9), at(19), 1, now)


@pytest.mark.django_db
def test_a_quota_counts_each_unit_booking_and_refuses_the_whole_request(make_pool, user, at, now):
    pool = make_pool(5, category="Laptops")
    QuotaRule.objects.create(category="Laptops", kind="bookings", period="day", limit=2)
    with pytest.raises(errors.QuotaExceeded):
        book(pool, user, at(10), at(12), 3, now)
    assert not Booking.objects.exists() and not PoolRequest.objects.exists()
    assert book(pool, user, at(10), at(12), 2, now).bookings.count() == 2


@pytest.mark.django_db
def test_free_counts_per_interval_follow_the_units_bookings_in_four_queries(laptops, user, other_user, at, now):
    book(laptops, other_user, at(10), at(12), 3, now)
    book(laptops, user, at(11), at(13), 1, now)
    day = at(0).date()
    with CaptureQueriesContext(connection) as queries:
        counts = pools.pool_free_counts(pool=laptops, day=day, now=now)
    assert len(queries) == 4
    assert [(c.start, c.end, c.free, c.total) for c in counts] == [
        (at(8), at(10), 5, 5),
        (at(10), at(11), 2, 5),
        (at(11), at(12), 1, 5),
        (at(12), at(13), 4, 5),
        (at(13), at(20), 5, 5),
    ]


@pytest.mark.django_db
def test_cancelling_one_unit_then_the_rest_of_the_request(laptops, user, at, now):
    request = book(laptops, user, at(10), at(12), 3, now)
    one = request.bookings.all()[0]
    services.booking_cancel(booking=one, by=user, now=now)
    request = pools.pool_request_get(request_id=request.pk, user=user)
    assert pools.pool_request_actions(request=request, user=user, now=now) == ["cancel"]
    cancelled = pools.pool_request_cancel(request=request, by=user, now=now)
    assert len(cancelled) == 2
    assert set(Booking.objects.values_list("status", flat=True)) == {BookingStatus.CANCELLED}
    with pytest.raises(errors.WrongStatus):
        pools.pool_request_cancel(request=pools.pool_request_get(request_id=request.pk), by=user, now=now)
    assert pools.pool_requests_of(user=user, now=now) == []


@pytest.mark.django_db
def test_another_user_cannot_cancel_a_pool_request(laptops, user, other_user, at, now):
    request = book(laptops, user, at(10), at(12), 2, now)
    with pytest.raises(errors.NotAllowed):
        pools.pool_request_cancel(request=request, by=other_user, now=now)
    assert set(Booking.objects.values_list("status", flat=True)) == {BookingStatus.CONFIRMED}


@pytest.mark.django_db
def test_returning_the_whole_request_completes_every_unit_that_is_out(laptops, user, at):
    request = book(laptops, user, at(10), at(12), 2, at(9))
    first, second = request.bookings.all()
    services.booking_check_in(booking=first, by=user, now=at(9, 50))
    services.booking_check_in(booking=second, by=user, now=at(9, 50))
    request = pools.pool_request_get(request_id=request.pk)
    returned = pools.pool_request_return(request=request, by=user, now=at(11))
    assert [b.status for b in returned] == [BookingStatus.COMPLETED] * 2


@pytest.mark.django_db
def test_a_unit_is_swapped_at_check_in_for_another_free_unit_of_the_pool(laptops, user, other_user, at, now):
    units = list(laptops.units.order_by("pk"))
    booking = book(laptops, user, at(10), at(12), 1, now).bookings.get()
    assert booking.resource == units[0]
    book(laptops, other_user, at(11), at(13), 1, now)  # takes units[1] for part of the time
    assert pools.swap_candidates(booking=booking) == units[2:]
    with pytest.raises(errors.SlotTaken):
        pools.pool_unit_swap(booking=booking, unit=units[1], by=user, now=at(9, 50))
    with pytest.raises(errors.CheckInNotOpen):  # not yet at the check-in
        pools.pool_unit_swap(booking=booking, unit=units[2], by=user, now=at(9))
    swapped = pools.pool_unit_swap(booking=booking, unit=units[2], by=user, now=at(9, 50))
    booking.refresh_from_db()
    assert swapped.resource == booking.resource == units[2]
    assert booking.events.last().reason == f"unit swapped: {units[0].name} → {units[2].name}"
    assert_no_overlaps()


@pytest.mark.django_db
def test_a_unit_of_another_pool_or_none_is_not_swapped_in(laptops, make_pool, make_resource, user, at, now):
    booking = book(laptops, user, at(10), at(12), 1, now).bookings.get()
    for stranger in (make_pool(1, name="Cameras").units.get(), make_resource(name="Loose")):
        with pytest.raises(errors.NotInPool):
            pools.pool_unit_swap(booking=booking, unit=stranger, by=user, now=at(9, 50))
    booking.refresh_from_db()
    assert booking.resource == laptops.units.order_by("pk")[0]


@pytest.mark.django_db(transaction=True)
def test_three_users_asking_two_of_five_units_at_once_never_share_a_unit_and_one_gets_not_enough_units(
    make_pool, make_user, at, now
):
    pool = make_pool(5)
    users = [make_user() for _ in range(3)]
    calls = [lambda u=u: book(pool, u, at(10), at(12), 2, now) for u in users]
    outcomes = run_together(calls)
    winners = [result for kind, result in outcomes if kind == "ok"]
    losers = [result for kind, result in outcomes if kind == "error"]
    assert len(winners) == 2, outcomes
    assert len(losers) == 1 and losers[0].code == "not_enough_units" and losers[0].params == {"free": 1}, losers
    assigned = list(Booking.objects.filter(status=BookingStatus.CONFIRMED).values_list("resource_id", flat=True))
    assert len(assigned) == 4 and len(set(assigned)) == 4
    assert_no_overlaps()


@pytest.mark.django_db(transaction=True)
def test_six_users_asking_one_unit_each_at_once_get_five_units_and_one_not_enough_units(make_pool, make_user, at, now):
    pool = make_pool(5)
    users = [make_user() for _ in range(6)]
    outcomes = run_together([lambda u=u: book(pool, u, at(10), at(12), 1, now) for u in users])
    assert sorted(kind for kind, _ in outcomes) == ["error"] + ["ok"] * 5, outcomes
    assigned = list(Booking.objects.values_list("resource_id", flat=True))
    assert len(assigned) == 5 == len(set(assigned))
    assert_no_overlaps()


@pytest.mark.django_db
def test_not_enough_units_reads_in_russian_with_the_count_s_plural(laptops, user, other_user, at, now):
    from django.utils import translation

    book(laptops, other_user, at(10), at(12), 3, now)
    with pytest.raises(errors.NotEnoughUnits) as refused:
        book(laptops, user, at(10), at(12), 3, now)
    with translation.override("ru"):
        assert refused.value.message == "Свободных единиц на это время не хватает: свободны только 2."
