"""What simulated users do: write, press inline buttons, block the bot, join and leave groups.

Each action changes the world the way a Telegram client would and queues the
update(s) bots receive: ``message`` for text (with the entities Telegram sets,
e.g. ``bot_command``), ``callback_query`` for a press, ``my_chat_member`` when
the bot is blocked, unblocked, added to or removed from a group.
"""

from __future__ import annotations

import secrets
import time

from .botapi import MAX_CAPTION_LENGTH, MAX_PHOTO_BYTES, chat_member, image_size
from .formatting import detect_user_entities
from .state import BotAccount, Chat, Message, Press, User, World, now_ts

__all__ = ["ActionError", "add_member", "press_button", "remove_member", "send_text", "set_blocked"]

MAX_REMEMBERED_PRESSES = 20_000


class ActionError(Exception):
    """The simulated client cannot do this (HTTP status for the user API)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _bots_of(world: World, chat: Chat) -> list[BotAccount]:
    if chat.type == "private":
        return [world.bots[chat.bot_id]]
    return [
        world.bots[member_id]
        for member_id, status in chat.members.items()
        if member_id in world.bots and status in ("member", "administrator", "creator")
    ]


def _ensure_can_write(chat: Chat, user: User) -> None:
    if chat.type == "private":
        if chat.user_id != user.id:
            raise ActionError(f"user {user.id} is not the user of this private chat", 403)
    elif chat.members.get(user.id, "left") in ("left", "kicked"):
        raise ActionError(f"user {user.id} is not a member of this group", 403)


def send_text(world: World, chat: Chat, user: User, text: str, *, reply_to_message_id: int | None = None) -> Message:
    """The user writes ``text``; member bots get a ``message`` update."""
    _ensure_can_write(chat, user)
    if not text or not text.strip():
        raise ActionError("text is empty")
    if len(text) > 4096:
        raise ActionError("text is longer than 4096 characters")
    if reply_to_message_id is not None and reply_to_message_id not in chat.messages:
        raise ActionError(f"no message {reply_to_message_id} to reply to", 404)
    if chat.type == "private":
        if chat.blocked:  # writing to a blocked bot restarts it, as the Telegram app does
            set_blocked(world, chat, blocked=False)
        chat.started = True
    keyboard = chat.reply_keyboard
    if (
        keyboard
        and keyboard.get("one_time_keyboard")
        and any(button.get("text") == text for row in keyboard["keyboard"] for button in row)
    ):
        chat.reply_keyboard = None
    message = world.add_message(
        chat, user, text=text, entities=detect_user_entities(text), reply_to_message_id=reply_to_message_id
    )
    payload = world.message_api(chat, message)
    for bot in _bots_of(world, chat):
        world.enqueue_update(bot, "message", payload)
    return message


def send_photo(world: World, chat: Chat, user: User, data: bytes, *, caption: str = "") -> Message:
    """The user sends a photo (PNG, GIF or JPEG bytes) with an optional caption; bots get a ``message`` update."""
    _ensure_can_write(chat, user)
    size = image_size(data)
    if size is None:
        raise ActionError("the photo is not a PNG, GIF or JPEG image")
    if len(data) > MAX_PHOTO_BYTES:
        raise ActionError("the photo is too big")
    if len(caption) > MAX_CAPTION_LENGTH:
        raise ActionError(f"the caption is longer than {MAX_CAPTION_LENGTH} characters")
    if chat.type == "private":
        if chat.blocked:
            set_blocked(world, chat, blocked=False)
        chat.started = True
    stored = world.store_file(data, file_name=None, mime_type="image/png", width=size[0], height=size[1])
    message = world.add_message(chat, user, caption=caption or None, photo_file_id=stored.file_id)
    payload = world.message_api(chat, message)
    for bot in _bots_of(world, chat):
        world.enqueue_update(bot, "message", payload)
    return message


def press_button(
    world: World,
    chat: Chat,
    user: User,
    message_id: int,
    *,
    callback_data: str | None = None,
    label: str | None = None,
    forge: bool = False,
) -> Press:
    """The user presses an inline button; the bot that sent the message gets a callback_query.

    The button is found by ``callback_data`` or by its label. ``forge=True``
    sends ``callback_data`` even if no button carries it (a tampering client),
    which is how tests check that the bot re-validates presses.
    """
    _ensure_can_write(chat, user)
    message = chat.messages.get(message_id)
    if message is None or message.deleted:
        raise ActionError(f"no message {message_id} in this chat", 404)
    if not message.from_bot:
        raise ActionError("only a bot's message has inline buttons")
    button = message.find_button(data=callback_data, label=label)
    if button is None and not (forge and callback_data):
        labels = [b.get("text") for row in (message.inline_keyboard or {}).get("inline_keyboard", []) for b in row]
        raise ActionError(f"message {message_id} has no button {label or callback_data!r}; buttons: {labels}")
    if button is not None and "callback_data" not in button:
        raise ActionError(f"button {button.get('text')!r} has no callback_data (it is a {sorted(button)} button)")
    data = button["callback_data"] if button is not None else callback_data
    bot = world.bots[message.sender_id]
    press = Press(
        id=str(secrets.randbits(62)),
        bot_id=bot.id,
        chat_key=chat.key,
        message_id=message_id,
        from_id=user.id,
        data=data,
        date=now_ts(),
        created=time.monotonic(),
    )
    world.presses[press.id] = press
    if len(world.presses) > MAX_REMEMBERED_PRESSES:
        world.presses.pop(next(iter(world.presses)))
    chat.timeline.append(["p", press.id])
    press.seq = world.record_change(chat, "press", press.id)
    world.enqueue_update(
        bot,
        "callback_query",
        {
            "id": press.id,
            "from": user.to_api(),
            "message": world.message_api(chat, message),
            "chat_instance": str(abs(hash(chat.key)) % 10**18),
            "data": data,
        },
    )
    return press


def _member_update(world: World, bot: BotAccount, chat: Chat, actor: User, old: str, new: str) -> None:
    world.enqueue_update(
        bot,
        "my_chat_member",
        {
            "chat": world.chat_api(chat),
            "from": actor.to_api(),
            "date": now_ts(),
            "old_chat_member": chat_member(bot.user.to_api(), old),
            "new_chat_member": chat_member(bot.user.to_api(), new),
        },
    )


def set_blocked(world: World, chat: Chat, *, blocked: bool) -> None:
    """The user blocks (or unblocks) the bot of a private chat."""
    if chat.type != "private":
        raise ActionError("only a private chat's bot can be blocked")
    if chat.blocked == blocked:
        return
    chat.blocked = blocked
    bot = world.bots[chat.bot_id]
    user = world.users[chat.user_id]
    _member_update(world, bot, chat, user, "member" if blocked else "kicked", "kicked" if blocked else "member")
    world.dirty = True
    world.hub.publish("chat", {"chat": world.chat_summary(chat)})


def add_member(world: World, chat: Chat, member_id: int, *, status: str = "member") -> None:
    """Add a user or bot to a group, with the service message members see."""
    if not chat.is_group:
        raise ActionError("members are added to groups only")
    member = world.users.get(member_id) or (world.bots[member_id].user if member_id in world.bots else None)
    if member is None:
        raise ActionError(f"no user or bot {member_id}", 404)
    old = chat.members.get(member_id, "left")
    chat.members[member_id] = status
    adder = next((world.users[m] for m, s in chat.members.items() if s == "creator" and m in world.users), member)
    message = world.add_message(
        chat, adder if not adder.is_bot else member, service={"new_chat_members": [member.to_api()]}
    )
    for bot in _bots_of(world, chat):
        world.enqueue_update(bot, "message", world.message_api(chat, message))
    if member_id in world.bots:
        _member_update(world, world.bots[member_id], chat, adder, old, status)
    world.hub.publish("chat", {"chat": world.chat_summary(chat)})


def remove_member(world: World, chat: Chat, member_id: int, *, kicked: bool = False) -> None:
    """Remove a user or bot from a group (``kicked`` for a ban)."""
    if chat.members.get(member_id, "left") in ("left", "kicked"):
        raise ActionError(f"{member_id} is not a member", 404)
    member = world.users.get(member_id) or world.bots[member_id].user
    old = chat.members[member_id]
    chat.members[member_id] = "kicked" if kicked else "left"
    message = world.add_message(chat, member, service={"left_chat_member": member.to_api()})
    for bot in _bots_of(world, chat):
        world.enqueue_update(bot, "message", world.message_api(chat, message))
    if member_id in world.bots:
        actor = next((world.users[m] for m, s in chat.members.items() if s == "creator" and m in world.users), member)
        _member_update(world, world.bots[member_id], chat, actor, old, chat.members[member_id])
    world.hub.publish("chat", {"chat": world.chat_summary(chat)})
