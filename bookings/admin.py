"""Django admin of the booking domain: the catalogue with its rules, and bookings.

Resources and their opening hours are plain data, edited here. Bookings are
not: the admin shows them read-only with their history, and changes their
status only through the services (actions approve, reject, cancel, acting
as the signed-in staff user), so every rule, history row and notification
happens exactly as it does from the bot or the API. Reject and cancel first
ask for a reason, which the user is shown, as in the bot.
"""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from bookings import selectors, services
from bookings.errors import BookingError
from bookings.models import Booking, BookingEvent, OpeningHours, Resource
from bookings.rules import MAX_NOTE_LENGTH, local_midnight, site_zone
from bookings.selectors import Action


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "category", "location", "is_active", "requires_approval", "requires_check_in")
    list_filter = ("kind", "category", "is_active", "requires_approval", "requires_check_in")
    search_fields = ("name", "category", "location", "description")
    inlines = [OpeningHoursInline]
    fieldsets = (
        (_("Catalogue"), {"fields": ("name", "kind", "category", "location", "description", "is_active")}),
        (
            _("Booking rules"),
            {
                "fields": (
                    "slot_minutes",
                    ("min_duration_minutes", "max_duration_minutes"),
                    ("min_notice_minutes", "max_advance_days"),
                    "buffer_minutes",
                    "requires_approval",
                ),
                "description": _("Opening hours are below; a resource without any is open around the clock."),
            },
        ),
        (_("Check-in"), {"fields": ("requires_check_in", "check_in_opens_minutes", "check_in_grace_minutes")}),
    )


class BookingDayFilter(admin.SimpleListFilter):
    """Bookings that meet a local day (or span of days) of the site's calendar."""

    title = _("day")
    parameter_name = "day"
    # value → (first day as an offset from today, number of days)
    SPANS = {"today": (0, 1), "tomorrow": (1, 1), "next_7_days": (0, 7), "yesterday": (-1, 1)}

    def lookups(self, request, model_admin):
        return [
            ("yesterday", _("Yesterday")),
            ("today", _("Today")),
            ("tomorrow", _("Tomorrow")),
            ("next_7_days", _("Next 7 days")),
        ]

    def queryset(self, request, queryset):
        if self.value() not in self.SPANS:
            return queryset
        offset, days = self.SPANS[self.value()]
        first = timezone.now().astimezone(site_zone()).date() + timedelta(days=offset)
        return queryset.filter(start__lt=local_midnight(first + timedelta(days=days)), end__gt=local_midnight(first))


class BookingEventInline(admin.TabularInline):
    """The status history, oldest first; written only by the services."""

    model = BookingEvent
    fields = ("at", "from_status", "to_status", "by", "reason_shown")
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description=_("reason"))
    def reason_shown(self, event):
        return event.reason_in_language()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        help_text=_("The user sees it in their chat. Optional."),
        required=False,
        max_length=MAX_NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


# The service of each admin action, and how its success is counted. Each service first asks
# bookings.actions whether its action is allowed now, so a refusal here reads as in the bot and API.
TRANSITIONS = {
    Action.APPROVE: (
        services.booking_approve,
        lambda n: ngettext("%(count)d booking approved.", "%(count)d bookings approved.", n),
    ),
    Action.REJECT: (
        services.booking_reject,
        lambda n: ngettext("%(count)d booking rejected.", "%(count)d bookings rejected.", n),
    ),
    Action.CANCEL: (
        services.booking_cancel,
        lambda n: ngettext("%(count)d booking cancelled.", "%(count)d bookings cancelled.", n),
    ),
}


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = ("id", "resource", "user", "start", "end", "status", "checked_in_at", "actions_now")
    list_filter = ("status", BookingDayFilter, ("resource", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("resource", "user")
    search_fields = ("resource__name", "user__username", "user__first_name", "user__telegram_username", "note")
    date_hierarchy = "start"
    fields = (
        "resource",
        "user",
        ("start", "end"),
        "blocked_until",
        "status",
        "note",
        ("check_in_deadline", "checked_in_at"),
        ("created_at", "updated_at"),
        "actions_now",
    )
    readonly_fields = flatten(fields)
    inlines = [BookingEventInline]
    actions = ["approve_bookings", "reject_bookings", "cancel_bookings"]

    # Bookings are made and changed through the services only (bot, API, the
    # actions below); the admin never writes a booking row itself.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("actions now"))
    def actions_now(self, booking):
        """What staff may do with the booking now: the same answer as the bot's and the API's buttons."""
        allowed = selectors.booking_actions(booking=booking, user=selectors.ANY_STAFF)
        return ", ".join(str(action.label) for action in allowed) or "—"

    def has_transition_permission(self, request):
        """Who may run the status actions: staff allowed to change bookings."""
        return request.user.is_staff and request.user.has_perm("bookings.change_booking")

    @admin.action(description=_("Approve selected bookings"), permissions=["transition"])
    def approve_bookings(self, request, queryset):
        self._run_transition(request, queryset, Action.APPROVE)

    @admin.action(description=_("Reject selected bookings"), permissions=["transition"])
    def reject_bookings(self, request, queryset):
        return self._transition_with_reason(request, queryset, Action.REJECT, _("Reject bookings"))

    @admin.action(description=_("Cancel selected bookings"), permissions=["transition"])
    def cancel_bookings(self, request, queryset):
        return self._transition_with_reason(request, queryset, Action.CANCEL, _("Cancel bookings"))

    def _transition_with_reason(self, request, queryset, name, title):
        """First a page asking for the reason (the user will see it), then the transition."""
        if "apply" in request.POST:
            form = ReasonForm(request.POST)
            if form.is_valid():
                self._run_transition(request, queryset, name, reason=form.cleaned_data["reason"])
                return None  # back to the list, with the messages
        else:
            form = ReasonForm()
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "form": form,
            "bookings": queryset.select_related("resource", "user").order_by("start"),
            "action": request.POST.get("action", ""),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/bookings/booking/transition_reason.html", context)

    def _run_transition(self, request, queryset, name, **options):
        """Apply one service to each booking; report each refusal and the count of successes."""
        service, success_message = TRANSITIONS[name]
        done = 0
        for booking in queryset.select_related("resource", "user"):
            try:
                service(booking=booking, by=request.user, **options)
            except BookingError as exc:
                messages.error(request, f"{booking}: {exc.message}")
            else:
                done += 1
        if done:
            messages.success(request, success_message(done) % {"count": done})
