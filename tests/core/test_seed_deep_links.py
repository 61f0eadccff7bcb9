"""seed_demo prints each resource's sticker deep link."""

import io

import pytest
from django.core.management import call_command

from bookings.models import Resource

pytestmark = pytest.mark.django_db


def test_seed_demo_prints_the_deep_link_of_each_resource(settings):
    settings.TELEGRAM_BOT_USERNAME = "slotbot_demo_bot"
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    for resource in Resource.objects.all():
        assert f"{resource.name}: https://t.me/slotbot_demo_bot?start=r{resource.pk}" in out.getvalue()


def test_seed_demo_without_a_known_username_still_prints_the_links(settings):
    settings.TELEGRAM_BOT_USERNAME = ""
    settings.TELEGRAM_BASE_URL = "http://127.0.0.1:9/bot"  # nothing listens
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "TELEGRAM_BOT_USERNAME" in out.getvalue()
    assert "https://t.me/<bot username>?start=r" in out.getvalue()
