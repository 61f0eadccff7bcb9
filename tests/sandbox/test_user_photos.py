"""Users send photos in the sandbox: the bot gets a message with `photo`, and can send it back by file_id."""

from __future__ import annotations

import io

import pytest
import segno

from sandbox.testing import SandboxError


def png_bytes():
    out = io.BytesIO()
    segno.make("photo").save(out, kind="png", scale=3)
    return out.getvalue()


def test_a_user_photo_reaches_the_bot_and_goes_out_again_by_its_file_id(sandbox):
    user = sandbox.user("Alice", started=True)
    message = user.send_photo(png_bytes(), caption="Cable torn")
    assert message["caption"] == "Cable torn"
    file_id = message["photo"][-1]["file_id"]
    group = sandbox.group("Admins", members=[user])
    answer = sandbox.bot_api("sendPhoto", chat_id=group.id, photo=file_id, caption="<b>Report</b>", parse_mode="HTML")
    sent = answer["result"]
    assert sent["photo"][-1]["file_id"] == file_id and sent["caption"] == "Report"


def test_a_photo_that_is_no_image_is_refused(sandbox):
    user = sandbox.user("Alice", started=True)
    with pytest.raises(SandboxError, match="not a PNG"):
        user.send_photo(b"not an image")
