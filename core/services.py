"""Writes of the core: the user that a Telegram account maps to.

The bot registers people from their Telegram profile; the row is keyed by
the Telegram user id, so a renamed account stays the same user.
"""

from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction

from core.models import User

SUPPORTED_LANGUAGES = tuple(code for code, _name in settings.LANGUAGES)


def language_from_telegram(language_code: str | None) -> str:
    """'ru-RU' -> 'ru'; anything we do not speak -> the site's default language."""
    base = (language_code or "").split("-")[0].lower()
    return base if base in SUPPORTED_LANGUAGES else settings.LANGUAGE_CODE


def user_from_telegram(
    *,
    telegram_id: int,
    first_name: str | None = "",
    last_name: str | None = "",
    username: str | None = "",
    language_code: str | None = "",
    private_chat_id: int | None = None,
) -> User:
    """The user of a Telegram account, created on first contact and kept up to date.

    The language is taken from Telegram only when the user has none yet, so a
    choice made in the bot's settings is not overwritten. `private_chat_id`
    is given when the person wrote in a private chat: the bot can reach them
    there again, so they are marked reachable.
    """
    fields = {
        "first_name": (first_name or "")[:150],
        "last_name": (last_name or "")[:150],
        "telegram_username": (username or "")[:64],
    }
    if private_chat_id is not None:
        fields["telegram_chat_id"] = private_chat_id
        fields["is_reachable"] = True
    user = User.objects.filter(telegram_id=telegram_id).first()
    if user is None:
        user = _create_telegram_user(telegram_id, language_from_telegram(language_code), fields)
    changed = [name for name, value in fields.items() if getattr(user, name) != value]
    if not user.language_code:
        user.language_code = language_from_telegram(language_code)
        changed.append("language_code")
    if changed:
        for name in changed:
            if name in fields:
                setattr(user, name, fields[name])
        user.save(update_fields=changed)
    return user


def _create_telegram_user(telegram_id, language, fields):
    """Insert the user; if a concurrent first update inserted it already, use that row."""
    try:
        with transaction.atomic():
            user = User(username=f"tg{telegram_id}", telegram_id=telegram_id, language_code=language, **fields)
            user.set_unusable_password()
            user.save()
            return user
    except IntegrityError:
        return User.objects.get(telegram_id=telegram_id)


def users_set_reachable(*, user_ids: Iterable[int], reachable: bool) -> int:
    """Mark these users (un)reachable in their private chat (403 "bot was blocked", or a message
    from them again); returns how many rows changed."""
    return _set_reachable(User.objects.filter(pk__in=list(user_ids)), reachable)


def user_set_reachable_by_telegram_id(*, telegram_id: int, reachable: bool) -> int:
    """Mark the user of a Telegram account (un)reachable: they blocked or unblocked the bot
    (my_chat_member in their private chat); returns how many rows changed (0 for a stranger)."""
    return _set_reachable(User.objects.filter(telegram_id=telegram_id), reachable)


def _set_reachable(users, reachable):
    return users.exclude(is_reachable=reachable).update(is_reachable=reachable)


def user_set_preferences(*, user: User, language_code: str | None = None, time_zone: str | None = None) -> User:
    """Change the user's language and/or time zone; values are validated by the model."""
    changed = []
    if language_code is not None:
        if language_code not in SUPPORTED_LANGUAGES:
            raise ValueError(f"unsupported language {language_code!r}")
        user.language_code = language_code
        changed.append("language_code")
    if time_zone is not None:
        user.time_zone = time_zone
        user.full_clean(validate_unique=False, exclude=[f.name for f in User._meta.fields if f.name != "time_zone"])
        changed.append("time_zone")
    if changed:
        user.save(update_fields=changed)
    return user
