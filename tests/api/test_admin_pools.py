"""The admin of pools (a pool with its units, requests read-only with their bookings) and the demo pool."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from bookings import pools
from bookings.models import Pool, Resource

pytestmark = pytest.mark.django_db


def test_a_pool_page_lists_its_units_and_a_request_page_its_bookings(admin_client, make_pool, user, local_day):
    pool = make_pool(3, hours=None)
    request = pools.pool_book(user=user, pool=pool, start=local_day(10), end=local_day(12), quantity=2)
    page = admin_client.get(reverse("admin:bookings_pool_change", args=[pool.pk]))
    assert page.status_code == 200 and all(f"Laptops {n}" in page.text for n in (1, 2, 3))
    assert admin_client.get(reverse("admin:bookings_pool_changelist")).status_code == 200
    page = admin_client.get(reverse("admin:bookings_poolrequest_change", args=[request.pk]))
    assert page.status_code == 200 and "Laptops 1" in page.text and "Laptops 2" in page.text
    assert admin_client.get(reverse("admin:bookings_poolrequest_add")).status_code == 403


def test_seed_demo_twice_makes_one_pool_of_five_laptops_that_need_check_in():
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)
    pool = Pool.objects.get(name="Laptops")
    units = Resource.objects.filter(pool=pool)
    assert units.count() == 5 and all(u.requires_check_in for u in units)
