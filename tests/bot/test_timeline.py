"""Day timeline pictures in the chat, through the sandbox with the real PTB.

🖼 Day view on a resource card sends the day as a photo; ◀ ▶ edit it in
place (editMessageMedia); an unchanged day goes out again by its file_id
(nothing drawn, nothing uploaded) and a booking change draws it anew; the
pixels say which hours are booked; presses are re-checked (a forged pool,
an admins' picture for a non-admin); Russian labels; a stale file_id falls
back to an upload.
"""

import io
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone
from PIL import Image

from bookings import rules, services
from bot import callbacks as cb
from bot import timeline_picture as picture
from bot.handlers import timeline as handlers

pytestmark = pytest.mark.django_db(transaction=True)


def image_of(sandbox, message):
    url = str(sandbox.http.base_url).rstrip("/") + message["photo"]["url"]
    return Image.open(io.BytesIO(httpx.get(url).content)).convert("RGB")


def colour_at(image, timeline_day, moment, row=0):
    """The pixel in the middle of `row`'s bar at `moment`, as drawn (same axis as the picture)."""
    start, end = timeline_day
    left, right = picture.MARGIN + picture.NAME_WIDTH, picture.WIDTH - picture.MARGIN
    x = left + (moment - start) / (end - start) * (right - left)
    return image.getpixel((round(x), picture.row_top(row) + picture.ROW_HEIGHT // 2))


def open_card(user, resource):
    user.send("/start")
    user.expect_message()
    user.press(cb.data(cb.RESOURCE, resource.pk), forge=True).answer()
    return user.expect_message(containing=resource.name)


@pytest.fixture(autouse=True)
def fresh_stats():
    handlers.STATS.clear()


def test_day_view_is_a_photo_whose_arrows_edit_it_and_an_unchanged_day_is_resent_by_file_id(
    bot, sandbox, alice, open_resource, slot, make_user
):
    bob = make_user(username="bob-db")
    start, end = slot(3)
    services.booking_create(user=bob, resource=open_resource, start=start, end=end)
    card = open_card(alice, open_resource)
    assert "🖼 Day view" in card.buttons

    alice.press("🖼 Day view").answer()
    photo = alice.expect_message(containing="Projector —")
    assert photo["photo"] and "Times in" in photo.text
    today = rules.today_in(rules.site_zone())
    image = image_of(sandbox, photo)
    assert image.width >= 1080
    bounds = (rules.local_midnight(today), rules.local_midnight(today + timedelta(days=1)))
    assert colour_at(image, bounds, start + timedelta(minutes=30)) == picture.COLOURS["booked"]
    if start.astimezone(rules.site_zone()).date() == today:  # 3 h later may be tomorrow, near midnight
        assert colour_at(image, bounds, start - timedelta(minutes=90)) in (
            picture.COLOURS["free"],
            picture.NOW_COLOUR,
        )
    assert handlers.STATS == {"drawn": 1}
    first_file = photo["photo"]["file_id"]

    alice.press("▶", photo["message_id"]).answer()
    tomorrow = alice.expect_message(containing=texts_day(today + timedelta(days=1)))
    assert tomorrow.message_id == photo.message_id and tomorrow.edited
    assert tomorrow["photo"]["file_id"] != first_file
    alice.press("◀", photo["message_id"]).answer()
    back = alice.expect_message(containing=texts_day(today))
    # Today again, unchanged: re-sent by file_id — not drawn, not uploaded.
    assert back["photo"]["file_id"] == first_file
    assert handlers.STATS == {"drawn": 2, "reused": 1}

    # A booking change of the day bumps its version: the next press draws it anew. The booking is at the
    # earliest start, so it is today's whatever the hour (3 h after `start` is tomorrow from 19:00 on).
    soonest = rules.earliest_start(open_resource, timezone.now())
    services.booking_create(user=bob, resource=open_resource, start=soonest, end=soonest + timedelta(hours=1))
    alice.press("🖼 Day view", card["message_id"]).answer()
    again = alice.expect_message(containing="Projector —")
    assert again.message_id != photo.message_id and again["photo"]["file_id"] != first_file
    assert handlers.STATS["drawn"] == 3


def texts_day(day):
    from bot import texts

    return texts.day_label(day)


def test_own_bookings_have_their_colour_and_russian_labels(bot, sandbox, open_resource, slot):
    from core.models import User

    ivan = sandbox.user("Ivan", username="ivan", language_code="ru")
    start, end = slot(4)
    open_card(ivan, open_resource)
    owner = User.objects.get(telegram_id=ivan.id)
    services.booking_create(user=owner, resource=open_resource, start=start, end=end)
    ivan.press("🖼 На день").answer()
    photo = ivan.expect_message(containing="Время: ")
    day = start.astimezone(rules.site_zone()).date()
    if day != rules.today_in(rules.site_zone()):
        return  # the slot is tomorrow (near midnight): the first picture is today's
    image = image_of(sandbox, photo)
    bounds = (rules.local_midnight(day), rules.local_midnight(day + timedelta(days=1)))
    assert colour_at(image, bounds, start + timedelta(minutes=30)) == picture.COLOURS["own"]


def test_presses_are_rechecked(bot, sandbox, alice, boss, admin_group, open_resource):
    alice.send("/start")
    alice.expect_message()
    today = rules.today_in(rules.site_zone())
    assert "expired" in alice.press(cb.data(cb.TIMELINE_POOL, 999_999, today), forge=True).answer()["text"]
    far = today + timedelta(days=handlers.DAYS_AHEAD + 5)
    assert "expired" in alice.press(cb.data(cb.TIMELINE_RESOURCE, open_resource.pk, far), forge=True).answer()["text"]
    assert "admins only" in alice.press(cb.data(cb.TIMELINE_ADMINS, today), forge=True).answer()["text"]
    assert not [m for m in alice.bot_messages() if m.get("photo")]

    boss.send("/today", chat=admin_group)
    listing = boss.expect_message(chat=admin_group)
    boss.press("🖼 Day view", listing["message_id"], chat=admin_group).answer()
    shown = boss.expect_message(containing="All resources", chat=admin_group)
    assert shown["photo"]


def test_a_stale_file_id_falls_back_to_an_upload(bot, sandbox, alice, open_resource, monkeypatch):
    open_card(alice, open_resource)
    # Telegram no longer knows the cached file (a wiped server, another bot's id).
    monkeypatch.setattr(handlers, "_cached", lambda key: "SBXno-such-file")
    alice.press("🖼 Day view").answer()
    shown = alice.expect_message(containing="Projector —")
    assert shown["photo"]["file_size"] > 0
    assert handlers.STATS == {"drawn": 1, "stale": 1}


def test_free_results_offer_the_day_view_of_what_is_free(bot, alice, open_resource, make_resource, slot):
    make_resource(name="Camera", hours=None)
    start, _ = slot(5)
    alice.send("/start")
    alice.expect_message()
    alice.press(cb.data(cb.FREE_LIST, start, 60, 0), forge=True).answer()
    listing = alice.expect_message(containing="2 resources are free")
    assert "🖼 Day view" in listing.buttons
    alice.press("🖼 Day view").answer()
    shown = alice.expect_message(containing="Free ")
    assert shown["photo"]


def test_a_category_list_offers_the_day_view_of_its_resources(bot, alice, open_resource, make_resource):
    make_resource(name="Camera", category="AV", hours=None)
    make_resource(name="Desk", category="Furniture", hours=None)
    alice.send("/start")
    alice.expect_message()
    alice.press(cb.data(cb.RESOURCES, 0, 1, 0), forge=True).answer()  # equipment, the first category: AV
    listing = alice.expect_message(containing="AV")
    alice.press("🖼 Day view", listing["message_id"]).answer()
    shown = alice.expect_message(containing="AV —")
    two = image_of(alice.client, shown)
    open_card(alice, open_resource)
    alice.press("🖼 Day view").answer()
    one = image_of(alice.client, alice.expect_message(containing="Projector —"))
    # Camera and Projector (not the furniture): one row more than the single resource's picture.
    assert two.height - one.height == picture.ROW_HEIGHT


def test_a_text_screen_pressed_on_the_photo_comes_as_a_new_message(bot, sandbox, alice, open_resource, errors_seen):
    # A photo has no text to edit into a screen (Telegram: "There is no text in the message to edit"): a press on
    # it that answers with a text screen (here a forged one: the resource card) sends the screen anew.
    open_card(alice, open_resource)
    alice.press("🖼 Day view").answer()
    photo = alice.expect_message(containing=open_resource.name)
    assert photo["photo"]

    alice.press(cb.data(cb.RESOURCE, open_resource.pk), photo["message_id"], forge=True).answer()

    card = alice.expect_message(containing=open_resource.name)
    assert card.message_id != photo.message_id and not card.get("photo")
    assert errors_seen == []
