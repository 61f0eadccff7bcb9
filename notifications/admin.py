"""Admin for the outbox: find failed and uncertain deliveries, read their error, retry them."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from notifications import recovery
from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "chat_id",
        "user",
        "booking",
        "status",
        "attempts",
        "short_error",
        "created_at",
        "sent_at",
    )
    list_filter = ("status", "kind")
    search_fields = ("dedupe_key", "chat_id", "user__username", "user__telegram_username", "last_error")
    list_select_related = ("user", "booking__resource")
    raw_id_fields = ("user", "booking")
    actions = ["retry"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False  # rows come from booking changes, never by hand

    @admin.display(description=_("last error"))
    def short_error(self, obj):
        return obj.last_error[:120]

    @admin.action(description=_("Retry delivery (an 'outcome unknown' row may then arrive twice)"))
    def retry(self, request, queryset):
        changed = recovery.notifications_retry(notifications=queryset)
        self.message_user(
            request,
            ngettext("%(count)d notification queued again.", "%(count)d notifications queued again.", changed)
            % {"count": changed},
            messages.SUCCESS,
        )
