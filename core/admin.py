from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from core.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "first_name", "telegram_username", "telegram_id", "is_staff", "is_reachable")
    list_filter = ("is_staff", "is_active", "is_reachable", "language_code")
    search_fields = ("username", "first_name", "last_name", "email", "telegram_username", "telegram_id")
    fieldsets = DjangoUserAdmin.fieldsets + (
        (
            _("Telegram"),
            {
                "fields": (
                    "telegram_id",
                    "telegram_chat_id",
                    "telegram_username",
                    "language_code",
                    "time_zone",
                    "is_reachable",
                )
            },
        ),
    )
