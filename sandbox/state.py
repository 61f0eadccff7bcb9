"""The sandbox's world: users, bots, chats, messages, button presses and update queues.

One ``World`` per server. It is plain data plus the few operations both sides
share (a user sends, a bot's message is stored, an update is queued, a change
is announced). Telegram's refusals live in ``botapi``; this module only keeps
state consistent and cheap to query: every lookup is a dict access, and the
waiters are woken through ``Signal`` rather than by scanning.

Chats:
- a private chat is one conversation between one user and one bot; its id is
  the user's id (as on Telegram), its key ``p:<bot_id>:<user_id>``;
- a group has a negative id, members (users and bots), key ``g:<chat_id>``.
"""

from __future__ import annotations

import base64
import bisect
import itertools
import json
import os
import random
import re
import secrets
import time
from collections import deque
from dataclasses import asdict, dataclass, field

from .events import EventHub, Signal

__all__ = ["TOKEN_PATTERN", "BotAccount", "Chat", "Message", "Press", "StoredFile", "User", "World"]

TOKEN_PATTERN = re.compile(r"^(\d{1,20}):[A-Za-z0-9_-]{1,100}$")

# Telegram keeps pending updates for 24 hours; the sandbox keeps at most this many per bot.
MAX_PENDING_UPDATES = 100_000
DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "callback_query",
        "inline_query",
        "chosen_inline_result",
        "shipping_query",
        "pre_checkout_query",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "chat_member",
        "chat_boost",
        "removed_chat_boost",
        "purchased_paid_media",
    }
    - {"chat_member", "message_reaction", "message_reaction_count"}
)


def now_ts() -> int:
    return int(time.time())


@dataclass(slots=True)
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    def to_api(self) -> dict:
        data: dict = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code and not self.is_bot:
            data["language_code"] = self.language_code
        return data


@dataclass
class WebhookState:
    url: str = ""
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None

    def to_api(self, pending: int, allowed_updates) -> dict:
        info: dict = {"url": self.url, "has_custom_certificate": False, "pending_update_count": pending}
        if self.url:
            info["max_connections"] = self.max_connections
            info["ip_address"] = "127.0.0.1"
            if allowed_updates is not None:
                info["allowed_updates"] = list(allowed_updates)
        if self.last_error_date:
            info["last_error_date"] = self.last_error_date
            info["last_error_message"] = self.last_error_message
        return info


@dataclass
class BotAccount:
    token: str
    user: User
    commands: dict = field(default_factory=dict)  # "<scope json>|<language>" -> [BotCommand]
    webhook: WebhookState = field(default_factory=WebhookState)
    allowed_updates: list[str] | None = None
    next_update_id: int = field(default_factory=lambda: random.randint(100_000_000, 900_000_000))
    pending: deque = field(default_factory=deque)  # Update dicts, oldest first
    # run time only
    update_signal: Signal = field(default_factory=Signal, repr=False)
    poll: object = field(default=None, repr=False)  # the getUpdates request in progress

    @property
    def id(self) -> int:
        return self.user.id

    def accepts(self, update_type: str) -> bool:
        if not self.allowed_updates:  # None or []: the default set
            return update_type in DEFAULT_ALLOWED_UPDATES
        return update_type in self.allowed_updates


@dataclass(slots=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    file_name: str | None
    mime_type: str | None
    width: int = 0
    height: int = 0

    @property
    def file_path(self) -> str:
        return f"files/{self.file_unique_id}/{self.file_name or 'file'}"


@dataclass
class Message:
    message_id: int
    date: int
    sender_id: int
    from_bot: bool
    seq: int = 0
    text: str | None = None
    entities: list = field(default_factory=list)
    caption: str | None = None
    caption_entities: list = field(default_factory=list)
    photo_file_id: str | None = None
    document_file_id: str | None = None
    reply_markup: dict | None = None  # as sent: inline, reply keyboard, remove or force reply
    reply_to_message_id: int | None = None
    service: dict | None = None  # e.g. {"new_chat_members": [...]}
    edit_date: int | None = None
    history: list = field(default_factory=list)  # earlier versions, oldest first
    deleted: bool = False

    @property
    def inline_keyboard(self) -> dict | None:
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            return self.reply_markup
        return None

    def content(self) -> dict:
        """The editable part, as kept in the edit history."""
        return {
            "text": self.text,
            "entities": self.entities,
            "caption": self.caption,
            "caption_entities": self.caption_entities,
            "reply_markup": self.reply_markup,
            "photo_file_id": self.photo_file_id,
            "document_file_id": self.document_file_id,
            "date": self.edit_date or self.date,
        }

    def find_button(self, *, data: str | None = None, label: str | None = None) -> dict | None:
        keyboard = self.inline_keyboard
        for row in keyboard["inline_keyboard"] if keyboard else []:
            for button in row:
                if data is not None and button.get("callback_data") == data:
                    return button
                if label is not None and button.get("text") == label:
                    return button
        return None


@dataclass
class Press:
    """A press of an inline button, i.e. one callback query."""

    id: str
    bot_id: int
    chat_key: str
    message_id: int
    from_id: int
    data: str
    date: int
    created: float  # monotonic, for "query is too old"
    seq: int = 0
    answered: bool = False
    answer: dict | None = None


@dataclass
class Chat:
    id: int
    type: str  # "private" | "group" | "supergroup"
    bot_id: int | None = None  # private chats: the bot of this conversation
    user_id: int | None = None  # private chats: the user
    title: str | None = None
    username: str | None = None
    members: dict = field(default_factory=dict)  # group: member id -> status
    started: bool = False  # private: the user has written to the bot
    blocked: bool = False  # private: the user blocked the bot
    next_message_id: int = 1
    messages: dict = field(default_factory=dict)  # message_id -> Message
    timeline: list = field(default_factory=list)  # ["m", message_id] | ["p", press id]
    reply_keyboard: dict | None = None  # the reply keyboard the user currently sees
    # run time only: (seq, kind, ref) of every change, for the wait endpoints
    changes: list = field(default_factory=list, repr=False)
    change_seqs: list = field(default_factory=list, repr=False)
    signal: Signal = field(default_factory=Signal, repr=False)

    @property
    def key(self) -> str:
        return f"p:{self.bot_id}:{self.user_id}" if self.type == "private" else f"g:{self.id}"

    @property
    def is_group(self) -> bool:
        return self.type != "private"

    def changes_after(self, seq: int) -> list:
        start = bisect.bisect_right(self.change_seqs, seq)
        return self.changes[start:]


class World:
    """All sandbox state, plus the hub that announces its changes."""

    def __init__(self, state_file: str | None = None) -> None:
        self.state_file = state_file
        self.hub = EventHub()
        # Set when the server shuts down: long polls answer at once instead of being cancelled.
        self.closing = False
        self._clear()
        if state_file and os.path.exists(state_file):
            self.load(state_file)

    def _clear(self, keep_bots: list[BotAccount] | None = None) -> None:
        self.users: dict[int, User] = {}
        self.bots: dict[int, BotAccount] = {}
        self.bots_by_token: dict[str, BotAccount] = {}
        self.chats: dict[str, Chat] = {}
        self.groups: dict[int, Chat] = {}
        self.presses: dict[str, Press] = {}
        self.files: dict[str, StoredFile] = {}
        self._seq = itertools.count(1)
        self.next_user_id = 100_000_001
        self.next_group_id = 1001
        self.dirty = False
        for bot in keep_bots or []:
            self.register_bot(bot.token, bot.user.first_name, bot.user.username)

    def reset(self) -> None:
        """Forget users, chats and updates; bots stay registered (fresh, no webhook)."""
        bots = list(self.bots.values())
        for bot in bots:
            bot.webhook.url = ""
            bot.update_signal.fire()
        self._clear(keep_bots=bots)
        self.dirty = True
        self.hub.publish("reset", {})

    def next_seq(self) -> int:
        return next(self._seq)

    # -- bots ------------------------------------------------------------------------

    def register_bot(self, token: str, first_name: str | None = None, username: str | None = None) -> BotAccount:
        match = TOKEN_PATTERN.match(token)
        if not match:
            raise ValueError("a bot token looks like 123456:ABC-DEF (digits, colon, letters)")
        if token in self.bots_by_token:
            return self.bots_by_token[token]
        bot_id = int(match.group(1))
        if bot_id in self.bots:
            raise ValueError(f"another token is already registered for bot id {bot_id}")
        user = User(
            id=bot_id, first_name=first_name or "Sandbox Bot", username=username or f"sandbox_{bot_id}_bot", is_bot=True
        )
        bot = BotAccount(token=token, user=user)
        self.bots[bot_id] = bot
        self.bots_by_token[token] = bot
        for group in self.groups.values():  # like a fresh install: the bot joins existing groups
            group.members.setdefault(bot_id, "member")
        self.dirty = True
        self.hub.publish("bot", {"bot": user.to_api()})
        return bot

    def find_bot(self, ref) -> BotAccount:
        """A bot by id, username or token; None means the only/first bot."""
        if ref in (None, ""):
            if not self.bots:
                raise LookupError("no bot is registered")
            return next(iter(self.bots.values()))
        text = str(ref).lstrip("@")
        if text in self.bots_by_token:
            return self.bots_by_token[text]
        if text.isdigit() and int(text) in self.bots:
            return self.bots[int(text)]
        for bot in self.bots.values():
            if bot.user.username and bot.user.username.lower() == text.lower():
                return bot
        raise LookupError(f"no bot {ref!r}")

    def enqueue_update(self, bot: BotAccount, update_type: str, payload: dict) -> None:
        """Queue an update for the bot if it asked for this type (as Telegram filters)."""
        if not bot.accepts(update_type):
            return
        update = {"update_id": bot.next_update_id, update_type: payload}
        bot.next_update_id += 1
        bot.pending.append(update)
        if len(bot.pending) > MAX_PENDING_UPDATES:
            bot.pending.popleft()
        bot.update_signal.fire()
        self.dirty = True

    def confirm_updates(self, bot: BotAccount, offset: int) -> None:
        """getUpdates' offset: forget every update below it (negative: keep the last -offset)."""
        pending = bot.pending
        if offset < 0:
            while len(pending) > -offset:
                pending.popleft()
            return
        while pending and pending[0]["update_id"] < offset:
            pending.popleft()
            self.dirty = True

    # -- users and chats ---------------------------------------------------------------

    def create_user(
        self,
        first_name: str,
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
        user_id: int | None = None,
    ) -> User:
        if user_id is None:
            user_id = self.next_user_id
        if user_id in self.users or user_id in self.bots or user_id <= 0:
            raise ValueError(f"user id {user_id} is taken or invalid")
        self.next_user_id = max(self.next_user_id, user_id) + 1
        user = User(
            id=user_id, first_name=first_name, last_name=last_name, username=username, language_code=language_code
        )
        self.users[user_id] = user
        self.dirty = True
        self.hub.publish("user", {"user": user.to_api()})
        return user

    def private_chat(self, bot: BotAccount, user: User, *, create: bool = True) -> Chat | None:
        key = f"p:{bot.id}:{user.id}"
        chat = self.chats.get(key)
        if chat is None and create:
            chat = Chat(id=user.id, type="private", bot_id=bot.id, user_id=user.id)
            self.chats[key] = chat
            self.dirty = True
        return chat

    def create_group(
        self,
        title: str,
        *,
        member_ids: list[int],
        bot_ids: list[int] | None = None,
        chat_type: str = "group",
        username: str | None = None,
        bot_status: str = "member",
    ) -> Chat:
        if chat_type not in ("group", "supergroup"):
            raise ValueError("type is group or supergroup")
        number = self.next_group_id
        self.next_group_id += 1
        chat_id = -(1_000_000_000_000 + number) if chat_type == "supergroup" else -number
        chat = Chat(id=chat_id, type=chat_type, title=title, username=username)
        for user_id in member_ids:
            if user_id not in self.users:
                raise LookupError(f"no user {user_id}")
            chat.members[user_id] = "member"
        if member_ids:
            chat.members[member_ids[0]] = "creator"
        for bot_id in self.bots if bot_ids is None else bot_ids:
            if bot_id not in self.bots:
                raise LookupError(f"no bot {bot_id}")
            chat.members[bot_id] = bot_status
        self.groups[chat_id] = chat
        self.chats[chat.key] = chat
        self.dirty = True
        self.hub.publish("chat", {"chat": self.chat_summary(chat)})
        return chat

    def chat_for_user_api(self, chat_id: int, bot_ref=None) -> Chat:
        """The chat a user-API path names: a group id, or a user id (+ bot) for a private chat."""
        if chat_id < 0:
            chat = self.groups.get(chat_id)
            if chat is None:
                raise LookupError(f"no group {chat_id}")
            return chat
        user = self.users.get(chat_id)
        if user is None:
            raise LookupError(f"no user {chat_id}")
        return self.private_chat(self.find_bot(bot_ref), user)

    def chat_api(self, chat: Chat) -> dict:
        """The Chat object as bots see it."""
        if chat.type == "private":
            user = self.users[chat.user_id]
            data = {"id": user.id, "first_name": user.first_name}
            if user.last_name:
                data["last_name"] = user.last_name
            if user.username:
                data["username"] = user.username
            data["type"] = "private"
            return data
        data = {"id": chat.id, "title": chat.title, "type": chat.type}
        if chat.username:
            data["username"] = chat.username
        return data

    def chat_summary(self, chat: Chat) -> dict:
        """A chat as the page and the user API list it."""
        summary = {
            "key": chat.key,
            "chat": self.chat_api(chat),
            "bot_id": chat.bot_id,
            "started": chat.started,
            "blocked": chat.blocked,
            "members": [{"id": member_id, "status": status} for member_id, status in chat.members.items()],
            "reply_keyboard": chat.reply_keyboard,
            "message_count": len(chat.messages),
        }
        last = chat.messages.get(chat.next_message_id - 1)
        if last is not None:
            summary["last_message"] = {"text": last.text or last.caption or "", "date": last.date}
        return summary

    def sender(self, message: Message) -> User:
        if message.from_bot:
            return self.bots[message.sender_id].user
        return self.users[message.sender_id]

    # -- messages --------------------------------------------------------------------

    def add_message(self, chat: Chat, sender: User, **content) -> Message:
        message = Message(
            message_id=chat.next_message_id, date=now_ts(), sender_id=sender.id, from_bot=sender.is_bot, **content
        )
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        chat.timeline.append(["m", message.message_id])
        message.seq = self.record_change(chat, "new", message.message_id)
        return message

    def record_change(self, chat: Chat, kind: str, ref, version: int = 0) -> int:
        """Announce a change in a chat: waiters wake, the page gets an event.

        ``kind`` is new / edit / delete (ref: message id) or press / answer (ref:
        callback query id); ``version`` is the message's edit count at that moment.
        """
        seq = self.next_seq()
        chat.changes.append((seq, kind, ref, version))
        chat.change_seqs.append(seq)
        chat.signal.fire()
        self.dirty = True
        if self.hub.has_subscribers:
            self.hub.publish(
                "change",
                {
                    "chat_key": chat.key,
                    "chat": self.chat_summary(chat),
                    **self.change_event((seq, kind, ref, version), chat),
                },
            )
        return seq

    def change_event(self, change: tuple, chat: Chat) -> dict:
        """One change as the user API reports it, with the entry as it was at that moment."""
        seq, kind, ref, version = change
        if kind in ("press", "answer"):
            press = self.presses.get(ref)
            entry = self.press_entry(press) if press else None
            return {"seq": seq, "kind": kind, "from_bot": kind == "answer", "entry": entry}
        message = chat.messages[ref]
        entry = self.message_entry(chat, message)
        if version < len(message.history):  # show the content of that version
            entry.update(
                {
                    k: v
                    for k, v in message.history[version].items()
                    if k not in ("date", "photo_file_id", "document_file_id")
                }
            )
        return {"seq": seq, "kind": kind, "from_bot": message.from_bot, "entry": entry}

    def message_api(self, chat: Chat, message: Message, *, with_reply: bool = True) -> dict:
        """The Message object of the Bot API."""
        data: dict = {
            "message_id": message.message_id,
            "from": self.sender(message).to_api(),
            "chat": self.chat_api(chat),
            "date": message.date,
        }
        if message.edit_date:
            data["edit_date"] = message.edit_date
        if with_reply and message.reply_to_message_id:
            replied = chat.messages.get(message.reply_to_message_id)
            if replied is not None and not replied.deleted:
                data["reply_to_message"] = self.message_api(chat, replied, with_reply=False)
        if message.text is not None:
            data["text"] = message.text
            if message.entities:
                data["entities"] = message.entities
        if message.photo_file_id:
            data["photo"] = [self.photo_size(self.files[message.photo_file_id])]
        if message.document_file_id:
            data["document"] = self.document_api(self.files[message.document_file_id])
        if message.caption:
            data["caption"] = message.caption
            if message.caption_entities:
                data["caption_entities"] = message.caption_entities
        if message.service:
            data.update(message.service)
        if message.inline_keyboard:
            data["reply_markup"] = message.inline_keyboard
        return data

    def photo_size(self, stored: StoredFile) -> dict:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": stored.width,
            "height": stored.height,
            "file_size": len(stored.data),
        }

    def document_api(self, stored: StoredFile) -> dict:
        data = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_size": len(stored.data)}
        if stored.file_name:
            data["file_name"] = stored.file_name
        if stored.mime_type:
            data["mime_type"] = stored.mime_type
        return data

    def store_file(
        self, data: bytes, *, file_name: str | None, mime_type: str | None, width: int = 0, height: int = 0
    ) -> StoredFile:
        unique = secrets.token_urlsafe(12)
        stored = StoredFile(
            file_id="SBX" + secrets.token_urlsafe(24),
            file_unique_id=unique,
            data=data,
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self.files[stored.file_id] = stored
        self.dirty = True
        return stored

    # -- transcript ------------------------------------------------------------------

    def message_entry(self, chat: Chat, message: Message) -> dict:
        """A transcript entry: the message plus what the user side needs to know."""
        entry = {
            "kind": "message",
            "seq": message.seq,
            "message_id": message.message_id,
            "from_bot": message.from_bot,
            "from": self.sender(message).to_api(),
            "date": message.date,
            "text": message.text,
            "entities": message.entities,
            "reply_markup": message.reply_markup,
            "reply_to_message_id": message.reply_to_message_id,
            "edited": bool(message.history),
            "edit_date": message.edit_date,
            "edit_history": message.history,
            "deleted": message.deleted,
        }
        if message.caption is not None:
            entry["caption"] = message.caption
            entry["caption_entities"] = message.caption_entities
        for kind, file_id in (("photo", message.photo_file_id), ("document", message.document_file_id)):
            if file_id:
                stored = self.files[file_id]
                entry[kind] = {
                    **self.document_api(stored),
                    "url": f"/sandbox/files/{file_id}",
                    "width": stored.width,
                    "height": stored.height,
                }
        if message.service:
            entry["service"] = message.service
        return entry

    def press_entry(self, press: Press) -> dict:
        return {
            "kind": "press",
            "seq": press.seq,
            "callback_query_id": press.id,
            "from": self.users[press.from_id].to_api(),
            "message_id": press.message_id,
            "data": press.data,
            "date": press.date,
            "answered": press.answered,
            "answer": press.answer,
        }

    def transcript(self, chat: Chat) -> list[dict]:
        entries = []
        for kind, ref in chat.timeline:
            if kind == "m":
                entries.append(self.message_entry(chat, chat.messages[ref]))
            elif ref in self.presses:
                entries.append(self.press_entry(self.presses[ref]))
        return entries

    # -- persistence -----------------------------------------------------------------

    def to_json(self) -> dict:
        return {
            "version": 1,
            "next_user_id": self.next_user_id,
            "next_group_id": self.next_group_id,
            "users": [asdict(user) for user in self.users.values()],
            "bots": [
                {
                    "token": bot.token,
                    "user": asdict(bot.user),
                    "commands": bot.commands,
                    "webhook": asdict(bot.webhook),
                    "allowed_updates": bot.allowed_updates,
                    "next_update_id": bot.next_update_id,
                    "pending": list(bot.pending),
                }
                for bot in self.bots.values()
            ],
            "chats": [_chat_json(chat) for chat in self.chats.values()],
            "presses": [asdict(press) for press in self.presses.values()],
            "files": [
                {
                    **{k: v for k, v in asdict(stored).items() if k != "data"},
                    "data": base64.b64encode(stored.data).decode(),
                }
                for stored in self.files.values()
            ],
        }

    def save(self) -> None:
        if not self.state_file:
            return
        temporary = f"{self.state_file}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(self.to_json(), handle, ensure_ascii=False)
        os.replace(temporary, self.state_file)
        self.dirty = False

    def load(self, path: str) -> None:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        self.next_user_id = data["next_user_id"]
        self.next_group_id = data["next_group_id"]
        self.users = {u["id"]: User(**u) for u in data["users"]}
        for raw in data["bots"]:
            bot = BotAccount(
                token=raw["token"],
                user=User(**raw["user"]),
                commands=raw["commands"],
                webhook=WebhookState(**raw["webhook"]),
                allowed_updates=raw["allowed_updates"],
                next_update_id=raw["next_update_id"],
                pending=deque(raw["pending"]),
            )
            self.bots[bot.id] = bot
            self.bots_by_token[bot.token] = bot
        for raw in data["chats"]:
            chat = _chat_from_json(raw)
            self.chats[chat.key] = chat
            if chat.is_group:
                self.groups[chat.id] = chat
        self.presses = {p["id"]: Press(**p) for p in data["presses"]}
        for raw in data["files"]:
            raw = dict(raw, data=base64.b64decode(raw["data"]))
            self.files[raw["file_id"]] = StoredFile(**raw)
        highest = max([m.seq for c in self.chats.values() for m in c.messages.values()], default=0)
        self._seq = itertools.count(highest + 1)


def _chat_json(chat: Chat) -> dict:
    data = {
        name: getattr(chat, name)
        for name in (
            "id",
            "type",
            "bot_id",
            "user_id",
            "title",
            "username",
            "started",
            "blocked",
            "next_message_id",
            "timeline",
            "reply_keyboard",
        )
    }
    data["members"] = [[member_id, status] for member_id, status in chat.members.items()]
    data["messages"] = [asdict(message) for message in chat.messages.values()]
    return data


def _chat_from_json(data: dict) -> Chat:
    data = dict(data)
    messages = data.pop("messages")
    members = data.pop("members")
    chat = Chat(**data)
    chat.members = dict(members)
    chat.messages = {m["message_id"]: Message(**m) for m in messages}
    return chat
