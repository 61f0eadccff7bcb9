"""build_application(): the python-telegram-bot Application of Slotbot, from settings.

`TELEGRAM_BASE_URL` points it at Telegram or at any server that speaks the
Bot API (the sandbox in development and tests). Nothing here touches the
network until the Application is initialised; at start-up the bot registers
its command list per language, and a server that refuses that is logged,
not fatal.
"""

import logging

from django.conf import settings
from django.utils import translation
from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import callbacks, texts
from bot.errors import on_error
from bot.flood import check_flood, flood_guard_from_settings
from bot.handlers import (
    access,
    admin,
    booking,
    browse,
    fallback,
    feeds,
    free,
    loans,
    membership,
    my,
    pools,
    reschedule,
    start,
    sticker,
    timeline,
    waitlist,
)
from bot.handlers import series as series_handlers
from bot.handlers import settings as settings_handlers
from bot.handlers.base import Expired, respond
from bot.ratelimit import SharedRateLimiter
from bot.sync import close_db_threads_on_shutdown
from bot.telegram_request import AiohttpRequest
from core.services import SUPPORTED_LANGUAGES
from core.telegram_urls import telegram_file_url

logger = logging.getLogger(__name__)

AREAS = (
    start,
    browse,
    booking,
    free,
    my,
    settings_handlers,
    admin,
    access,
    sticker,
    loans,
    pools,
    reschedule,
    series_handlers,
    feeds,
    timeline,
    waitlist,
)
FLOOD_GROUP = -1


def build_application(
    *,
    token=None,
    base_url=None,
    base_file_url=None,
    rate_limit=None,
    flood_guard=None,
    with_updater=True,
    register_commands=True,
):
    """The Application with every handler; arguments override settings (tests, the sandbox)."""
    builder = (
        Application.builder()
        .token(token or settings.TELEGRAM_BOT_TOKEN)
        .base_url(base_url or settings.TELEGRAM_BASE_URL)
        .base_file_url(base_file_url or telegram_file_url(base_url) or settings.TELEGRAM_BASE_FILE_URL)
        .concurrent_updates(settings.BOT_CONCURRENT_UPDATES)
        .post_shutdown(close_db_threads_on_shutdown)
    )
    if settings.BOT_HTTP_CLIENT == "aiohttp":
        # PTB's default (httpx) costs several times the CPU per Bot API call: bot/telegram_request.py.
        builder.request(AiohttpRequest()).get_updates_request(AiohttpRequest(connection_pool_size=1))
    if settings.TELEGRAM_RATE_LIMIT if rate_limit is None else rate_limit:
        builder.rate_limiter(SharedRateLimiter(max_retries=3))
    if register_commands:
        builder.post_init(set_commands)
    if not with_updater:
        builder.updater(None)
    application = builder.build()
    application.bot_data["flood_guard"] = flood_guard if flood_guard is not None else flood_guard_from_settings()
    add_handlers(application)
    return application


def add_handlers(application):
    application.add_handler(TypeHandler(Update, check_flood), group=FLOOD_GROUP)
    new_messages = filters.UpdateType.MESSAGE
    for area in AREAS:
        for command, handler in getattr(area, "COMMANDS", {}).items():
            application.add_handler(CommandHandler(command, handler, filters=new_messages))
    application.add_handler(CallbackQueryHandler(on_press))
    application.add_handler(ChatMemberHandler(membership.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    for area in AREAS:
        # Non-text messages an area answers (a photo for a problem report), before the fallbacks.
        for message_filter, handler in getattr(area, "MESSAGES", ()):
            application.add_handler(MessageHandler(new_messages & message_filter, handler))
    application.add_handler(MessageHandler(new_messages & filters.COMMAND, fallback.on_unknown_command))
    application.add_handler(MessageHandler(new_messages & filters.TEXT, fallback.on_text))
    application.add_handler(MessageHandler(new_messages, fallback.on_other_message))
    application.add_error_handler(on_error)


def _routes():
    routes = {}
    for area in AREAS:
        for action, handler in getattr(area, "PRESSES", {}).items():
            if action in routes:
                raise RuntimeError(f"callback action {action!r} is handled twice")
            routes[action] = handler
    missing = set(callbacks.ARGUMENTS) - set(routes)
    if missing:
        raise RuntimeError(f"no handler for callback actions {sorted(missing)}")
    return routes


ROUTES = _routes()


def _expired(actor):
    raise Expired()


async def on_press(update, context):
    """Every inline button lands here: parse its data strictly, then route by action."""
    try:
        press = callbacks.parse(update.callback_query.data)
    except callbacks.InvalidCallback:
        await respond(update, context, _expired)
        return
    await ROUTES[press.action](update, context, *press.values)


def bot_commands(language, *, admin_commands=False):
    with translation.override(language):
        pairs = texts.COMMANDS + (texts.ADMIN_COMMANDS if admin_commands else ())
        return [BotCommand(command, str(description)) for command, description in pairs]


async def set_commands(application):
    """post_init: the command menu in each language (English is the default), and for the admin chat."""
    scopes = [(BotCommandScopeDefault(), False)]
    if settings.TELEGRAM_ADMIN_CHAT_ID is not None:
        scopes.append((BotCommandScopeChat(settings.TELEGRAM_ADMIN_CHAT_ID), True))
    for scope, admin_commands in scopes:
        for language in SUPPORTED_LANGUAGES:
            code = None if language == settings.LANGUAGE_CODE else language
            try:
                await application.bot.set_my_commands(
                    bot_commands(language, admin_commands=admin_commands), scope=scope, language_code=code
                )
            except TelegramError as error:
                # A server without this method (or a hiccup) must not keep the bot from starting.
                logger.warning("setMyCommands (%s, %s) failed: %s", scope.type, language, error)
