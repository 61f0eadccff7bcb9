"""The Bot API methods: Telegram's parameters, object shapes, refusals and error texts.

Each public coroutine of ``BotApi`` named like a Bot API method (``sendMessage``)
takes the calling bot and its ``Params`` and returns the ``result`` of the
envelope, or raises ``ApiError`` with Telegram's code and description. Methods
are looked up case-insensitively, as Telegram does; any other name is 404.

Checks run in the order Telegram's server runs them: markup is parsed first,
then the chat is looked up, then the content is validated, then the recipient
(blocked / never started), then flood control, and only then the message is
stored. A refused call changes nothing.
"""

from __future__ import annotations

import asyncio
import json
import re
import struct
import time

from .formatting import EntityParseError, clean_text, parse_text, utf16_len
from .limits import FloodLimiter
from .state import BotAccount, Chat, Message, World, now_ts

__all__ = ["NOT_MODIFIED", "ApiError", "BotApi", "Params"]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_BYTES = 50 * 1024 * 1024

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
INLINE_BUTTON_ACTIONS = {
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
}
METHOD_NAMES = (
    "getMe",
    "logOut",
    "close",
    "getUpdates",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "sendMessage",
    "sendPhoto",
    "sendDocument",
    "editMessageText",
    "editMessageCaption",
    "editMessageReplyMarkup",
    "editMessageMedia",
    "deleteMessage",
    "answerCallbackQuery",
    "sendChatAction",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "getChat",
    "getChatMember",
    "getFile",
)
BOT_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")


class ApiError(Exception):
    """A refusal in Telegram's envelope."""

    def __init__(self, code: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def envelope(self) -> dict:
        body = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(text: str) -> ApiError:
    return ApiError(400, f"Bad Request: {text}")


def forbidden(text: str) -> ApiError:
    return ApiError(403, f"Forbidden: {text}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


class UploadedFile:
    """A multipart file part."""

    __slots__ = ("content_type", "data", "filename")

    def __init__(self, data: bytes, filename: str | None, content_type: str | None) -> None:
        self.data, self.filename, self.content_type = data, filename, content_type


class Params:
    """Request parameters from the query string, a form, JSON or multipart, typed on demand.

    Form and query values are strings (objects arrive JSON-encoded, as Telegram
    expects them); JSON bodies carry native values. Both read the same way.
    """

    __slots__ = ("data",)

    def __init__(self, data: dict) -> None:
        self.data = data

    def present(self, name: str) -> bool:
        return self.data.get(name) not in (None, "")

    def str(self, name: str, default: str | None = None) -> str | None:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, str):
            return value
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        return str(value).lower() if isinstance(value, bool) else str(value)

    def int(self, name: str, default: int | None = None) -> int | None:
        value = self.data.get(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def float(self, name: str, default: float = 0.0) -> float:
        value = self.data.get(name)
        if value in (None, ""):
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def bool(self, name: str, default: bool = False) -> bool:
        value = self.data.get(name)
        if value in (None, ""):
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("true", "1", "yes")

    def json(self, name: str, error: str):
        value = self.data.get(name)
        if value in (None, ""):
            return None
        if isinstance(value, (dict, list)):
            return value
        try:
            return json.loads(value)
        except (TypeError, ValueError):
            raise bad_request(error) from None

    def file(self, name: str):
        return self.data.get(name)


class PollRequest:
    """A getUpdates call in progress; a newer call marks the older one terminated."""

    __slots__ = ("finished", "terminated")

    def __init__(self) -> None:
        self.terminated = False
        self.finished = False


class BotApi:
    """Dispatches Bot API calls to the methods below."""

    def __init__(self, world: World, limiter: FloodLimiter, *, callback_query_ttl: float = 15.0, webhooks=None) -> None:
        self.world = world
        self.limiter = limiter
        self.callback_query_ttl = callback_query_ttl
        self.webhooks = webhooks  # set by the server once the delivery loop exists
        self.methods = {name.lower(): getattr(self, name) for name in METHOD_NAMES}

    async def call(self, bot: BotAccount, method: str, params: Params):
        handler = self.methods.get(method.lower())
        if handler is None:
            raise ApiError(404, "Not Found")
        return await handler(bot, params)

    # ------------------------------------------------------------------ shared checks

    def _chat(self, bot: BotAccount, params: Params, name: str = "chat_id") -> Chat:
        """Look up the chat a bot names; private chats need a user the sandbox knows."""
        raw = params.str(name)
        if raw in (None, ""):
            raise bad_request(f"{name} is empty")
        world = self.world
        if raw.startswith("@"):
            for group in world.groups.values():
                if group.username and group.username.lower() == raw[1:].lower():
                    return group
            raise bad_request("chat not found")
        try:
            chat_id = int(raw)
        except ValueError:
            raise bad_request("chat not found") from None
        if chat_id < 0:
            group = world.groups.get(chat_id)
            if group is None:
                raise bad_request("chat not found")
            return group
        user = world.users.get(chat_id)
        if user is None:
            raise bad_request("chat not found")
        return world.private_chat(bot, user)

    def _ensure_reachable(self, bot: BotAccount, chat: Chat) -> None:
        """Telegram's 403s: blocked, never started, or not in the group."""
        if chat.type == "private":
            if chat.blocked:
                raise forbidden("bot was blocked by the user")
            if not chat.started:
                raise forbidden("bot can't initiate conversation with a user")
            return
        status = chat.members.get(bot.id, "left")
        if status == "kicked":
            raise forbidden("bot was kicked from the group chat")
        if status == "left":
            raise forbidden("bot is not a member of the group chat")

    def _flood(self, bot: BotAccount, chat: Chat, *, per_chat: bool, paid: bool = False) -> None:
        retry_after = self.limiter.check(bot.id, chat.id, is_group=chat.is_group, counts_per_chat=per_chat, paid=paid)
        if retry_after:
            raise too_many_requests(retry_after)

    def _formatted(
        self, params: Params, field: str, entities_field: str, *, required: bool, empty_error: str
    ) -> tuple[str | None, list]:
        """Parse text or caption with parse_mode / explicit entities."""
        raw = params.str(field)
        if raw is None or raw == "":
            if required:
                raise bad_request(empty_error)
            return None, []
        parse_mode = params.str("parse_mode")
        explicit = params.json(entities_field, "can't parse entities JSON object")
        if explicit is not None:
            return raw, _clip_entities(raw, explicit)
        try:
            return parse_text(raw, parse_mode)
        except KeyError:
            raise bad_request("unsupported parse_mode") from None
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None

    def _reply_markup(self, params: Params) -> dict | None:
        markup = params.json("reply_markup", "can't parse reply keyboard markup JSON object")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            return {"inline_keyboard": _inline_keyboard(markup["inline_keyboard"])}
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise bad_request("can't parse reply keyboard markup JSON object")
            keyboard = [[{"text": b} if isinstance(b, str) else b for b in row] for row in rows]
            return {**markup, "keyboard": keyboard}
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return markup
        raise bad_request("can't parse reply keyboard markup JSON object")

    def _reply_target(self, chat: Chat, params: Params) -> int | None:
        reply = params.json("reply_parameters", "can't parse reply parameters JSON object") or {}
        message_id = reply.get("message_id") if isinstance(reply, dict) else None
        if message_id is None:
            message_id = params.int("reply_to_message_id")
        if message_id is None:
            return None
        allow_missing = bool(reply.get("allow_sending_without_reply")) or params.bool("allow_sending_without_reply")
        target = chat.messages.get(int(message_id))
        if target is None or target.deleted:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return target.message_id

    def _bot_message(self, bot: BotAccount, chat: Chat, params: Params, not_found: str) -> Message:
        if params.present("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")  # inline mode is not simulated
        message_id = params.int("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request(not_found)
        return message

    def _own_message_to_edit(self, bot: BotAccount, chat: Chat, params: Params) -> Message:
        """The message an edit names, which must be this bot's own (Telegram's refusals otherwise)."""
        message = self._bot_message(bot, chat, params, "message to edit not found")
        if not message.from_bot or message.sender_id != bot.id:
            raise bad_request("message can't be edited")
        return message

    def _store_bot_message(self, bot: BotAccount, chat: Chat, markup: dict | None, **content) -> dict:
        message = self.world.add_message(chat, bot.user, reply_markup=markup, **content)
        if markup and "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup and markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        return self.world.message_api(chat, message)

    # --------------------------------------------------------------------------- me

    async def getMe(self, bot: BotAccount, params: Params) -> dict:
        return {
            **bot.user.to_api(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def logOut(self, bot: BotAccount, params: Params) -> bool:
        return True

    async def close(self, bot: BotAccount, params: Params) -> bool:
        return True

    # ---------------------------------------------------------------------- updates

    async def getUpdates(self, bot: BotAccount, params: Params) -> list:
        if bot.webhook.url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.int("offset", 0)
        limit = min(max(params.int("limit", 100), 1), 100)
        timeout = min(max(params.float("timeout", 0.0), 0.0), 600.0)
        allowed = params.json("allowed_updates", "can't parse allowed updates JSON object")
        if allowed is not None:
            bot.allowed_updates = list(allowed)
        if offset:
            self.world.confirm_updates(bot, offset)

        previous = bot.poll
        if previous is not None and not previous.finished:
            previous.terminated = True
            bot.update_signal.fire()
        poll = bot.poll = PollRequest()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                if poll.terminated:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                if bot.webhook.url:
                    raise ApiError(
                        409,
                        "Conflict: can't use getUpdates method while webhook is active; "
                        "use deleteWebhook to delete the webhook first",
                    )
                if bot.pending:
                    return [bot.pending[index] for index in range(min(limit, len(bot.pending)))]
                remaining = deadline - loop.time()
                if remaining <= 0 or self.world.closing:
                    return []
                await bot.update_signal.wait(remaining)
        finally:
            poll.finished = True
            if bot.poll is poll:
                bot.poll = None

    async def setWebhook(self, bot: BotAccount, params: Params) -> bool:
        url = params.str("url", "") or ""
        secret = params.str("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters")
        if url and not re.match(r"^https?://", url, re.IGNORECASE):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        allowed = params.json("allowed_updates", "can't parse allowed updates JSON object")
        if allowed is not None:
            bot.allowed_updates = list(allowed)
        if params.bool("drop_pending_updates"):
            bot.pending.clear()
        webhook = bot.webhook
        if url != webhook.url:
            webhook.last_error_date = webhook.last_error_message = None
        webhook.url = url
        webhook.secret_token = secret
        webhook.max_connections = params.int("max_connections", 40)
        self.world.dirty = True
        bot.update_signal.fire()  # a long-poll in progress now answers 409
        if self.webhooks is not None:
            self.webhooks.ensure(bot)
        return True

    async def deleteWebhook(self, bot: BotAccount, params: Params) -> bool:
        if params.bool("drop_pending_updates"):
            bot.pending.clear()
        bot.webhook.url = ""
        bot.webhook.secret_token = None
        bot.webhook.last_error_date = bot.webhook.last_error_message = None
        self.world.dirty = True
        bot.update_signal.fire()
        return True

    async def getWebhookInfo(self, bot: BotAccount, params: Params) -> dict:
        return bot.webhook.to_api(len(bot.pending), bot.allowed_updates)

    # --------------------------------------------------------------------- messages

    async def sendMessage(self, bot: BotAccount, params: Params) -> dict:
        text, entities = self._formatted(params, "text", "entities", required=True, empty_error="message text is empty")
        markup = self._reply_markup(params)
        chat = self._chat(bot, params)
        text, entities = clean_text(text, entities)
        if not text:
            raise bad_request("message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise bad_request("message is too long")
        reply_to = self._reply_target(chat, params)
        self._ensure_reachable(bot, chat)
        self._flood(bot, chat, per_chat=True, paid=params.bool("allow_paid_broadcast"))
        return self._store_bot_message(bot, chat, markup, text=text, entities=entities, reply_to_message_id=reply_to)

    async def sendPhoto(self, bot: BotAccount, params: Params) -> dict:
        return await self._send_media(bot, params, "photo")

    async def sendDocument(self, bot: BotAccount, params: Params) -> dict:
        return await self._send_media(bot, params, "document")

    async def _send_media(self, bot: BotAccount, params: Params, kind: str) -> dict:
        caption, caption_entities = self._formatted(
            params, "caption", "caption_entities", required=False, empty_error=""
        )
        markup = self._reply_markup(params)
        chat = self._chat(bot, params)
        if caption is not None:
            caption, caption_entities = clean_text(caption, caption_entities)
            if len(caption) > MAX_CAPTION_LENGTH:
                raise bad_request("message caption is too long")
        stored = self._input_file(params.file(kind), kind)
        reply_to = self._reply_target(chat, params)
        self._ensure_reachable(bot, chat)
        self._flood(bot, chat, per_chat=True, paid=params.bool("allow_paid_broadcast"))
        file_field = "photo_file_id" if kind == "photo" else "document_file_id"
        return self._store_bot_message(
            bot,
            chat,
            markup,
            caption=caption or None,
            caption_entities=caption_entities,
            reply_to_message_id=reply_to,
            **{file_field: stored.file_id},
        )

    def _input_file(self, value, kind: str):
        world = self.world
        if value in (None, ""):
            raise bad_request(f"there is no {kind} in the request")
        if isinstance(value, UploadedFile):
            limit = MAX_PHOTO_BYTES if kind == "photo" else MAX_UPLOAD_BYTES
            if len(value.data) > limit:
                raise bad_request("file is too big")
            width = height = 0
            if kind == "photo":
                size = image_size(value.data)
                if size is None:
                    raise bad_request("IMAGE_PROCESS_FAILED")
                width, height = size
            return world.store_file(
                value.data, file_name=value.filename, mime_type=value.content_type, width=width, height=height
            )
        value = str(value)
        if value in world.files:
            return world.files[value]
        if re.match(r"^https?://", value):
            # No internet here: keep the URL as a file without bytes; the page links to it.
            return world.store_file(b"", file_name=value, mime_type=None)
        raise bad_request("wrong file identifier/HTTP URL specified")

    async def editMessageText(self, bot: BotAccount, params: Params) -> dict:
        text, entities = self._formatted(params, "text", "entities", required=True, empty_error="message text is empty")
        markup = self._reply_markup(params)
        chat = self._chat(bot, params)
        message = self._own_message_to_edit(bot, chat, params)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        text, entities = clean_text(text, entities)
        if not text:
            raise bad_request("message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise bad_request("message is too long")
        if markup is not None and "inline_keyboard" not in markup:
            raise bad_request("inline keyboard expected")
        if text == message.text and entities == message.entities and markup == message.inline_keyboard:
            raise bad_request(NOT_MODIFIED)
        self._ensure_reachable(bot, chat)
        self._flood(bot, chat, per_chat=False)
        return self._edit(chat, message, text=text, entities=entities, reply_markup=markup)

    async def editMessageCaption(self, bot: BotAccount, params: Params) -> dict:
        caption, caption_entities = self._formatted(
            params, "caption", "caption_entities", required=False, empty_error=""
        )
        markup = self._reply_markup(params)
        chat = self._chat(bot, params)
        message = self._own_message_to_edit(bot, chat, params)
        if message.text is not None:
            raise bad_request("there is no caption in the message to edit")
        caption, caption_entities = clean_text(caption or "", caption_entities)
        if len(caption) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        if (
            (caption or None) == message.caption
            and caption_entities == message.caption_entities
            and markup == message.inline_keyboard
        ):
            raise bad_request(NOT_MODIFIED)
        self._ensure_reachable(bot, chat)
        self._flood(bot, chat, per_chat=False)
        return self._edit(
            chat, message, caption=caption or None, caption_entities=caption_entities, reply_markup=markup
        )

    async def editMessageReplyMarkup(self, bot: BotAccount, params: Params) -> dict:
        markup = self._reply_markup(params)
        chat = self._chat(bot, params)
        message = self._own_message_to_edit(bot, chat, params)
        if markup is not None and "inline_keyboard" not in markup:
            raise bad_request("inline keyboard expected")
        if markup == message.inline_keyboard:
            raise bad_request(NOT_MODIFIED)
        self._ensure_reachable(bot, chat)
        self._flood(bot, chat, per_chat=False)
        return self._edit(chat, message, reply_markup=markup)

    async def editMessageMedia(self, bot: BotAccount, params: Params) -> dict:
        """Replace a photo or document message's file (and caption): a file_id, or a multipart upload
        named by `attach://<name>`, as Telegram takes them."""
        media = params.json("media", "can't parse InputMedia JSON object")
        if not isinstance(media, dict):
            raise bad_request("can't parse InputMedia JSON object")
        kind = media.get("type")
        if kind not in ("photo", "document"):
            raise bad_request("unsupported media type")  # animations, audio and video are not simulated
        markup = self._reply_markup(params)
        chat = self._chat(bot, params)
        message = self._own_message_to_edit(bot, chat, params)
        if message.text is not None or message.service:
            raise bad_request("there is no media in the message to edit")
        if markup is not None and "inline_keyboard" not in markup:
            raise bad_request("inline keyboard expected")
        described = Params(media)
        caption, caption_entities = self._formatted(
            described, "caption", "caption_entities", required=False, empty_error=""
        )
        caption, caption_entities = clean_text(caption or "", caption_entities)
        if len(caption) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        reference = media.get("media")
        if isinstance(reference, str) and reference.startswith("attach://"):
            reference = params.file(reference.removeprefix("attach://"))
            if not isinstance(reference, UploadedFile):
                raise bad_request("wrong file identifier/HTTP URL specified")
        stored = self._input_file(reference, kind)
        photo, document = (stored.file_id, None) if kind == "photo" else (None, stored.file_id)
        if (
            photo == message.photo_file_id
            and document == message.document_file_id
            and (caption or None) == message.caption
            and caption_entities == message.caption_entities
            and markup == message.inline_keyboard
        ):
            raise bad_request(NOT_MODIFIED)
        self._ensure_reachable(bot, chat)
        self._flood(bot, chat, per_chat=False)
        return self._edit(
            chat,
            message,
            photo_file_id=photo,
            document_file_id=document,
            caption=caption or None,
            caption_entities=caption_entities,
            reply_markup=markup,
        )

    def _edit(self, chat: Chat, message: Message, **changes) -> dict:
        message.history.append(message.content())
        for name, value in changes.items():
            setattr(message, name, value)
        message.edit_date = now_ts()
        self.world.record_change(chat, "edit", message.message_id, version=len(message.history))
        return self.world.message_api(chat, message)

    async def deleteMessage(self, bot: BotAccount, params: Params) -> bool:
        chat = self._chat(bot, params)
        message = self._bot_message(bot, chat, params, "message to delete not found")
        own = message.from_bot and message.sender_id == bot.id
        is_admin = chat.members.get(bot.id) in ("administrator", "creator")
        if not own and chat.is_group and not is_admin:
            raise bad_request("message can't be deleted")
        message.deleted = True
        self.world.record_change(chat, "delete", message.message_id)
        return True

    async def answerCallbackQuery(self, bot: BotAccount, params: Params) -> bool:
        query_id = params.str("callback_query_id")
        if not query_id:
            raise bad_request("query_id is empty")
        press = self.world.presses.get(query_id)
        too_old = (
            press is None
            or press.bot_id != bot.id
            or press.answered
            or (time.monotonic() - press.created > self.callback_query_ttl)
        )
        if too_old:
            raise bad_request(QUERY_TOO_OLD)
        text = params.str("text") or ""
        if len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        press.answered = True
        press.answer = {
            "text": text,
            "show_alert": params.bool("show_alert"),
            "url": params.str("url"),
            "cache_time": params.int("cache_time", 0),
        }
        chat = self.world.chats.get(press.chat_key)
        if chat is not None:
            self.world.record_change(chat, "answer", press.id)
        return True

    async def sendChatAction(self, bot: BotAccount, params: Params) -> bool:
        chat = self._chat(bot, params)
        action = params.str("action")
        if not action:
            raise bad_request("action is empty")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._ensure_reachable(bot, chat)
        self.world.hub.publish("action", {"chat_key": chat.key, "action": action, "bot_id": bot.id})
        return True

    # ---------------------------------------------------------------------- commands

    def _commands_key(self, params: Params) -> str:
        scope = params.json("scope", "can't parse BotCommandScope JSON object") or {"type": "default"}
        return json.dumps(scope, sort_keys=True) + "|" + (params.str("language_code") or "")

    async def setMyCommands(self, bot: BotAccount, params: Params) -> bool:
        commands = params.json("commands", "can't parse commands JSON object")
        if not isinstance(commands, list):
            raise bad_request("commands must be an array")
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        cleaned = []
        for command in commands:
            name = str(command.get("command", "")).lower() if isinstance(command, dict) else ""
            description = str(command.get("description", "")) if isinstance(command, dict) else ""
            if not BOT_COMMAND.match(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        bot.commands[self._commands_key(params)] = cleaned
        self.world.dirty = True
        return True

    async def getMyCommands(self, bot: BotAccount, params: Params) -> list:
        return bot.commands.get(self._commands_key(params), [])

    async def deleteMyCommands(self, bot: BotAccount, params: Params) -> bool:
        bot.commands.pop(self._commands_key(params), None)
        self.world.dirty = True
        return True

    # ------------------------------------------------------------------------- chats

    async def getChat(self, bot: BotAccount, params: Params) -> dict:
        chat = self._chat(bot, params)
        if chat.is_group and chat.members.get(bot.id, "left") in ("left", "kicked"):
            raise bad_request("chat not found")
        info = {
            **self.world.chat_api(chat),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        if chat.is_group:
            info["permissions"] = {"can_send_messages": True}
        return info

    async def getChatMember(self, bot: BotAccount, params: Params) -> dict:
        chat = self._chat(bot, params)
        user_id = params.int("user_id")
        if user_id is None:
            raise bad_request("user_id is empty")
        world = self.world
        user = world.users.get(user_id) or (world.bots[user_id].user if user_id in world.bots else None)
        if user is None:
            raise bad_request("user not found")
        if chat.type == "private":
            status = "member" if user_id in (chat.user_id, bot.id) else "left"
        else:
            status = chat.members.get(user_id, "left")
        return chat_member(user.to_api(), status)

    async def getFile(self, bot: BotAccount, params: Params) -> dict:
        stored = self.world.files.get(params.str("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }


def chat_member(user: dict, status: str) -> dict:
    """A ChatMember object of the given status, with the fields PTB requires."""
    member = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(
            {
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": True,
                "can_restrict_members": True,
                "can_promote_members": False,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
            }
        )
    elif status == "kicked":
        member["until_date"] = 0
    return member


def _inline_keyboard(rows) -> list:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request("can't parse inline keyboard button: InlineKeyboardMarkup must be an Array of Arrays")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
            if not INLINE_BUTTON_ACTIONS & button.keys():
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            if "callback_data" in button:
                data = button["callback_data"]
                size = len(str(data).encode("utf-8"))
                if not isinstance(data, str) or not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button and not re.match(r"^(https?|tg)://", str(button["url"]), re.IGNORECASE):
                raise bad_request("BUTTON_URL_INVALID")
    return rows


def _clip_entities(text: str, entities) -> list:
    """Explicit ``entities``: keep well-formed ones inside the text, like tdlib's fix-up."""
    if not isinstance(entities, list):
        raise bad_request("can't parse entities JSON object")
    limit = utf16_len(text)
    kept = []
    for entity in entities:
        if not isinstance(entity, dict) or not isinstance(entity.get("type"), str):
            raise bad_request('can\'t parse MessageEntity: Field "type" must be of type String')
        try:
            offset, length = int(entity["offset"]), int(entity["length"])
        except (KeyError, TypeError, ValueError):
            raise bad_request('can\'t parse MessageEntity: Field "offset" must be of type Number') from None
        end = min(offset + length, limit)
        if offset >= 0 and end > offset:
            kept.append({**entity, "offset": offset, "length": end - offset})
    kept.sort(key=lambda e: (e["offset"], -e["length"]))
    return kept


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, GIF or JPEG, None when the bytes are not an image."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data[:2] == b"\xff\xd8":
        index = 2
        while index + 9 < len(data):
            if data[index] != 0xFF:
                return None
            marker = data[index + 1]
            length = struct.unpack(">H", data[index + 2 : index + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", data[index + 5 : index + 9])
                return width, height
            index += 2 + length
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return (0, 0)
    return None
