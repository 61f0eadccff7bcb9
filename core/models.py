"""The user model, carrying the Telegram identity from the first migration."""

import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value):
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_("Unknown time zone: %(zone)s"), params={"zone": value}) from None


def default_time_zone():
    return settings.TIME_ZONE


class User(AbstractUser):
    """A person who books; staff users are admins.

    People who arrive through the bot get a user row keyed by their Telegram
    user id; people who only use the REST API or the admin may have none.
    """

    telegram_id = models.BigIntegerField(_("Telegram user id"), unique=True, null=True, blank=True)
    telegram_chat_id = models.BigIntegerField(_("Telegram chat id"), null=True, blank=True)
    telegram_username = models.CharField(_("Telegram username"), max_length=64, blank=True)
    language_code = models.CharField(_("language"), max_length=16, blank=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=default_time_zone, validators=[validate_time_zone]
    )
    is_reachable = models.BooleanField(
        _("reachable in Telegram"),
        default=True,
        help_text=_("Cleared when the user blocks the bot; set again when they write to it."),
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    @property
    def zone(self):
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo(settings.TIME_ZONE)

    def __str__(self):
        if self.telegram_username:
            return f"@{self.telegram_username}"
        return self.get_full_name() or self.username
