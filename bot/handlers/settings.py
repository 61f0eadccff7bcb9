"""/settings: the user's language and time zone (every time the bot shows is in that zone)."""

import zoneinfo

from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from bot import callbacks as cb
from bot import keyboards, texts
from bot.handlers.base import Expired, Screen, reply, view_only
from bot.models import PendingInput
from bot.state import pending_input_ask
from core.services import SUPPORTED_LANGUAGES, user_set_preferences

TIME_ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Kyiv",
    "Europe/Moscow",
    "Asia/Tbilisi",
    "Asia/Almaty",
    "Asia/Tokyo",
    "America/New_York",
    "America/Los_Angeles",
]


def settings_menu(actor, notice=""):
    user = actor.user
    language_buttons = [
        cb.button(("• " if code == user.language_code else "") + texts.LANGUAGE_NAMES.get(code, code), cb.LANGUAGE, i)
        for i, code in enumerate(SUPPORTED_LANGUAGES)
    ]
    rows = [
        language_buttons,
        [cb.button(texts.TIME_ZONE_BUTTON, cb.TIME_ZONES)],
        [cb.button(texts.CALENDAR_LINK_BUTTON, cb.CALENDAR_LINK)],
        keyboards.to_menu(),
    ]
    now_text = texts.clock(timezone.now(), actor.zone)
    return Screen(texts.settings_text(user.language_code, user.time_zone, now_text), rows, notice=str(notice))


def set_language(actor, index):
    if index >= len(SUPPORTED_LANGUAGES):
        raise Expired()
    user_set_preferences(user=actor.user, language_code=SUPPORTED_LANGUAGES[index])
    translation.activate(SUPPORTED_LANGUAGES[index])  # the answer already speaks the new language
    return settings_menu(actor, notice=texts.SAVED)


def time_zones(actor):
    buttons = [cb.button(name, cb.TIME_ZONE, i) for i, name in enumerate(TIME_ZONES)]
    rows = keyboards.grid(buttons, 2) + [
        [cb.button(texts.TYPE_TIME_ZONE, cb.TIME_ZONE_TYPE)],
        keyboards.back(cb.SETTINGS),
    ]
    return Screen(str(texts.CHOOSE_TIME_ZONE), rows)


def set_time_zone(actor, index):
    if index >= len(TIME_ZONES):
        raise Expired()
    user_set_preferences(user=actor.user, time_zone=TIME_ZONES[index])
    return settings_menu(actor, notice=texts.SAVED)


def ask_time_zone(actor):
    pending_input_ask(user=actor.user, chat_id=actor.chat_id, kind=PendingInput.Kind.TIME_ZONE)
    return Screen(str(texts.TYPE_TIME_ZONE_PROMPT), [keyboards.back(cb.TIME_ZONES)])


def typed_time_zone(actor, pending, text):
    """The answer to "send the name of your time zone"."""
    name = text.strip()
    try:
        zoneinfo.ZoneInfo(name)
        user_set_preferences(user=actor.user, time_zone=name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, ValidationError):
        return Screen(texts.unknown_time_zone(name), [[cb.button(texts.TYPE_TIME_ZONE, cb.TIME_ZONE_TYPE)]])
    return settings_menu(actor)


async def settings_command(update, context):
    await reply(update, context, settings_menu)


COMMANDS = {"settings": settings_command}
PRESSES = {
    cb.SETTINGS: view_only(settings_menu),
    cb.LANGUAGE: view_only(set_language),
    cb.TIME_ZONES: view_only(time_zones),
    cb.TIME_ZONE: view_only(set_time_zone),
    cb.TIME_ZONE_TYPE: view_only(ask_time_zone),
}
