"""The day timeline on the sandbox's chat page, in a real headless Chromium (tests/sandbox's driver).

The real Slotbot bot sends the picture (sendPhoto upload), the page shows it
as an image; a click on ▶ edits the photo (editMessageMedia) and the page
shows the new picture in place. Screenshots go to var/test-artifacts/
(docs/timeline-page.png in the README is one of them).
"""

import shutil
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from bookings import services
from bot import callbacks as cb
from tests.sandbox.ptb import run
from tests.sandbox.test_page_in_browser import ARTIFACTS, Chromium

pytestmark = pytest.mark.django_db(transaction=True)

IMAGE = "document.querySelector('#messages .message .media img')"


def test_the_page_shows_the_timeline_picture_and_its_edit(
    bot, sandbox, alice, open_resource, slot, make_user, tmp_path
):
    bob = make_user(username="bob-db")
    for hours in (2, 5):
        start, end = slot(hours)
        services.booking_create(user=bob, resource=open_resource, start=start, end=end + timedelta(minutes=30))
    alice.send("/start")
    alice.expect_message()
    alice.press(cb.data(cb.RESOURCE, open_resource.pk), forge=True).answer()
    alice.expect_message(containing="Projector")
    chat_key = f"p:{sandbox.token.split(':')[0]}:{alice.id}"

    async def scenario(profile: Path) -> tuple[Path, Path]:
        async with Chromium(profile) as browser:
            await browser.send("Page.navigate", url=f"{sandbox.url}#chat={chat_key}")
            await browser.wait_for("document.body.dataset.ready === 'true'", what="the loaded page")
            await browser.wait_for("document.getElementById('status').textContent.includes('live')", what="events")
            day_view = (
                "[...document.querySelectorAll('.inline-keyboard button')].find(b => b.textContent === '🖼 Day view')"
            )
            await browser.wait_for(f"Boolean({day_view})", what="the Day view button")
            await browser.click(day_view)
            await browser.wait_for(f"{IMAGE} && {IMAGE}.complete && {IMAGE}.naturalWidth >= 1080", what="the picture")
            first_src = await browser.evaluate(f"{IMAGE}.src")
            await browser.evaluate(f"{IMAGE}.scrollIntoView()")
            first = tmp_path / "timeline-page.png"
            await browser.screenshot(first)
            forward = "[...document.querySelectorAll('.inline-keyboard button')].find(b => b.textContent === '▶')"
            await browser.click(forward)
            await browser.wait_for(
                f"{IMAGE}.src !== {first_src!r} && {IMAGE}.complete && {IMAGE}.naturalWidth >= 1080",
                what="the edited picture",
            )
            edited = await browser.evaluate(
                "[...document.querySelectorAll('.message .meta')].some(m => m.textContent.startsWith('edited'))"
            )
            assert edited, "the photo message is marked as edited"
            calls = await browser.evaluate("[...document.querySelectorAll('#calls .method')].map(m => m.textContent)")
            assert "sendPhoto" in calls and "editMessageMedia" in calls
            second = tmp_path / "timeline-page-next-day.png"
            await browser.screenshot(second)
            return first, second

    shots = run(scenario(tmp_path / "chromium-profile"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for shot in shots:
        assert shot.stat().st_size > 10_000
        shutil.copyfile(shot, ARTIFACTS / shot.name)
        print(f"screenshot: {ARTIFACTS / shot.name}")
    photos = [m for m in alice.bot_messages() if m.get("photo")]
    assert len(photos) == 1 and photos[0].edited
    # The first picture itself (today's), as the bot uploaded it: the sandbox kept it in the edit history.
    first_file = photos[0]["edit_history"][0]["photo_file_id"]
    assert first_file and first_file != photos[0]["photo"]["file_id"]
    picture = httpx.get(str(sandbox.http.base_url).rstrip("/") + f"/sandbox/files/{first_file}").content
    (ARTIFACTS / "timeline-day.png").write_bytes(picture)
