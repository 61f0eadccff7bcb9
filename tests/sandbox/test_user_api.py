"""The user API over plain HTTP, the state file, the event stream and the test helper itself."""

from __future__ import annotations

import json

import httpx
import pytest

from sandbox.formatting import EntityParseError, parse_html, parse_markdown_v2
from sandbox.testing import SandboxError, run_sandbox

from .ptb import TOKEN


def test_documented_endpoints_create_user_send_press_and_read_transcript(sandbox):
    http = httpx.Client(base_url=sandbox.url)
    user = http.post(
        "/sandbox/api/users", json={"first_name": "Alice", "username": "alice", "language_code": "de"}
    ).json()
    assert user == {
        "id": user["id"],
        "is_bot": False,
        "first_name": "Alice",
        "username": "alice",
        "language_code": "de",
    }
    message = http.post(
        f"/sandbox/api/chats/{user['id']}/messages", json={"from_id": user["id"], "text": "/start"}
    ).json()
    assert message["chat"] == {"id": user["id"], "first_name": "Alice", "username": "alice", "type": "private"}
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    offer = sandbox.bot_api(
        "sendMessage",
        chat_id=user["id"],
        text="Pick",
        reply_markup={"inline_keyboard": [[{"text": "A", "callback_data": "pick:a"}]]},
    )
    press = http.post(
        f"/sandbox/api/chats/{user['id']}/press",
        json={"from_id": user["id"], "message_id": offer["result"]["message_id"], "callback_data": "pick:a"},
    ).json()
    update = sandbox.bot_api("getUpdates")["result"][-1]["callback_query"]
    assert update["id"] == press["callback_query_id"] and update["data"] == "pick:a"
    assert sandbox.bot_api("answerCallbackQuery", callback_query_id=press["callback_query_id"], text="Done")["ok"]
    transcript = http.get(f"/sandbox/api/chats/{user['id']}/messages").json()
    assert [entry["kind"] for entry in transcript] == ["message", "message", "press"]
    assert transcript[2]["answer"]["text"] == "Done"
    wrong = http.post(
        f"/sandbox/api/chats/{user['id']}/press",
        json={"from_id": user["id"], "message_id": 2, "callback_data": "pick:zzz"},
    )
    assert wrong.status_code == 400 and "no button" in wrong.json()["error"]


def test_group_members_and_commands_with_bot_username(sandbox):
    alice, bob = sandbox.user("Alice"), sandbox.user("Bob")
    lab = sandbox.group("Lab", members=[alice, bob])
    alice.send("/status@sandbox_123456_bot now", chat=lab)
    updates = sandbox.bot_api("getUpdates")["result"]
    assert updates[0]["message"]["chat"]["type"] == "group"
    assert updates[0]["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 26}]
    carol = sandbox.user("Carol")
    lab.add(carol)
    carol.send("hello", chat=lab)
    lab.remove(bob.id)
    with pytest.raises(SandboxError, match="not a member"):
        bob.send("still here?", chat=lab)
    assert [m.text for m in lab.bot_messages()] == []


def test_expect_message_waits_and_reports_what_arrived(sandbox):
    alice = sandbox.user("Alice", started=True)
    sandbox.bot_api("sendMessage", chat_id=alice.id, text="first")
    sandbox.bot_api("sendMessage", chat_id=alice.id, text="second")
    assert alice.expect_message(containing="second").text == "second"
    with pytest.raises(AssertionError, match="recent"):
        alice.expect_message(timeout=0.2)
    alice.expect_no_message(timeout=0.1)


def test_block_is_visible_as_my_chat_member_update(sandbox):
    alice = sandbox.user("Alice", started=True)
    alice.block()
    update = sandbox.bot_api("getUpdates")["result"][0]["my_chat_member"]
    assert update["new_chat_member"]["status"] == "kicked" and update["from"]["id"] == alice.id


def test_bots_can_be_registered_at_run_time_and_others_get_401(sandbox):
    sandbox.register_bot("777:SECOND-BOT", username="second_bot")
    assert sandbox.bot_api("getMe", token="777:SECOND-BOT")["result"]["username"] == "second_bot"
    assert sandbox.bot_api("getMe", token="778:UNKNOWN")["error_code"] == 401
    alice = sandbox.user("Alice", started=True)
    assert sandbox.bot_api("sendMessage", token="777:SECOND-BOT", chat_id=alice.id, text="hi")["ok"]
    assert sandbox.transcript(alice.id, bot="second_bot")[0]["text"] == "hi"
    assert sandbox.transcript(alice.id) == [], "each bot has its own private chat with a user"


def test_state_file_keeps_chats_across_restarts(tmp_path):
    state_file = str(tmp_path / "sandbox.json")
    with run_sandbox(tokens=[TOKEN], state_file=state_file) as sandbox:
        alice = sandbox.user("Alice", started=True)
        sandbox.bot_api("sendMessage", chat_id=alice.id, text="<b>kept</b>", parse_mode="HTML")
    with run_sandbox(tokens=[TOKEN], state_file=state_file) as sandbox:
        assert [m["text"] for m in sandbox.transcript(alice.id)] == ["kept"]
        assert sandbox.bot_api("sendMessage", chat_id=alice.id, text="again")["result"]["message_id"] == 2


def test_event_stream_announces_changes_and_calls(sandbox):
    alice = sandbox.user("Alice", started=True)
    seen = []
    with httpx.stream("GET", f"{sandbox.url}sandbox/api/events", timeout=10) as stream:
        lines = stream.iter_lines()
        assert next(lines).startswith(": connected")
        sandbox.bot_api("sendMessage", chat_id=alice.id, text="live")
        for line in lines:
            if line.startswith("data: "):
                seen.append(json.loads(line[6:]))
            if {event["type"] for event in seen} >= {"change", "call"}:
                break
    change = next(event for event in seen if event["type"] == "change")
    assert change["kind"] == "new" and change["entry"]["text"] == "live"


def test_reset_forgets_users_but_keeps_bots(sandbox):
    sandbox.user("Alice")
    sandbox.add_fault("error", count=5)
    sandbox.reset()
    state = sandbox.state()
    assert state["users"] == [] and state["chats"] == [] and [b["id"] for b in state["bots"]] == [123456]
    assert state["faults"]["rules"] == []


@pytest.mark.parametrize(
    "source, text, entities",
    [
        ("<b>a<i>b</i></b>", "ab", [("bold", 0, 2), ("italic", 1, 1)]),
        ('<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>', "st", [("spoiler", 0, 1), ("spoiler", 1, 1)]),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1", [("pre", 0, 5)]),
        ('<a href="https://example.org">site</a> &lt;&amp;&gt; &foo;', "site <&> &foo;", [("text_link", 0, 4)]),
        (
            "😀<u>x</u><s>y</s><blockquote>q</blockquote>",
            "😀xyq",
            [("underline", 2, 1), ("strikethrough", 3, 1), ("blockquote", 4, 1)],
        ),
    ],
)
def test_html_parse_mode_entities(source, text, entities):
    parsed_text, parsed = parse_html(source)
    assert parsed_text == text and [(e["type"], e["offset"], e["length"]) for e in parsed] == entities


@pytest.mark.parametrize(
    "source, error",
    [
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<script>x</script>", 'Unsupported start tag "script" at byte offset 0'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
def test_html_parse_mode_refusals(source, error):
    with pytest.raises(EntityParseError) as refused:
        parse_html(source)
    assert str(refused.value) == error


def test_markdown_v2_entities_and_refusals():
    text, entities = parse_markdown_v2(r"*b* _i_ __u__ ~s~ ||p|| `c` [l](https://x.org) \. ```py" + "\nx```")
    assert text == "b i u s p c l . x"
    assert [e["type"] for e in entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "text_link",
        "pre",
    ]
    with pytest.raises(EntityParseError, match="Can't find end of Bold entity at byte offset 0"):
        parse_markdown_v2("*open")
