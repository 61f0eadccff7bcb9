"""Both languages: the Telegram language picks the default; /settings changes it; texts are complete."""

import pytest
from django.utils import timezone, translation

from bot import texts
from bot.app import bot_commands

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_russian_user_is_answered_in_russian_throughout_a_booking(bot, sandbox, open_resource, slot):
    ivan = sandbox.user("Иван", username="ivan", language_code="ru-RU")
    ivan.send("/start")
    menu = ivan.expect_message(containing="Здравствуйте, Иван")
    assert "📋 Ресурсы" in menu.buttons
    start, _end = slot(hours_ahead=5)
    local = start.astimezone(timezone.get_default_timezone())
    ivan.send("/book projector завтра 25:00 2ч")
    ivan.expect_message(containing="Не удалось разобрать время")
    ivan.send(f"/book projector {local:%d.%m} {local:%H:%M} 1ч")
    ivan.expect_message(containing="Забронировано")
    ivan.send("/my")
    ivan.expect_message(containing="подтверждена")
    ivan.send("hello?")
    ivan.expect_message(containing="Я понимаю команды и кнопки")


def test_switching_the_language_in_settings_answers_in_the_new_language(bot, alice):
    alice.send("/settings")
    alice.expect_message(containing="Language: English")
    alice.press("Русский").answer()
    alice.expect_message(containing="Язык: Русский")
    alice.send("/help")
    alice.expect_message(containing="Что я умею")


def test_the_command_menu_is_registered_in_both_languages():
    english = {c.command: c.description for c in bot_commands("en")}
    russian = {c.command: c.description for c in bot_commands("ru")}
    assert english.keys() == russian.keys()
    assert all(russian[name] != english[name] for name in english)


def test_every_static_text_has_a_russian_translation():
    static = [value for name, value in vars(texts).items() if name.isupper() and hasattr(value, "_proxy____cast")]
    static += [label for _name, label in texts.COMMANDS] + list(texts.KIND_LABELS.values())
    with translation.override("en"):
        english = [str(text) for text in static]
    with translation.override("ru"):
        russian = [str(text) for text in static]
    untranslated = [e for e, r in zip(english, russian, strict=True) if e == r and any(c.isalpha() for c in e)]
    assert untranslated == []
