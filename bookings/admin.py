"""Django admin of the booking domain: the catalogue with its rules, and bookings.

Resources and their opening hours are plain data, edited here. Bookings are
not: the admin shows them read-only with their history, and changes their
status only through the services (actions approve, reject, cancel, acting
as the signed-in staff user), so every rule, history row and notification
happens exactly as it does from the bot or the API. Reject and cancel first
ask for a reason, which the user is shown, as in the bot.

Policies (bookings.policies): access rules and quota rules are plain data;
a closure is added through closure_create after a page listing the live
bookings it cancels; access requests are approved or rejected by actions.
"""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten
from django.db.models import Count
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from bookings import feeds, formats, policies, reschedule, selectors, services, waitlist
from bookings import series as booking_series
from bookings.errors import BookingError
from bookings.models import (
    AccessRequest,
    AccessRule,
    Booking,
    BookingEvent,
    BookingSeries,
    CalendarToken,
    Closure,
    OpeningHours,
    Pool,
    PoolRequest,
    QuotaRule,
    Resource,
    ResourceAlias,
    Strike,
    Suspension,
    WaitlistEntry,
    name_key,
)
from bookings.rules import MAX_NOTE_LENGTH, local_midnight, today_in
from bookings.selectors import Action
from bookings.stickers import sticker_sheet_pdf
from core.deeplinks import BotUsernameUnknown, bot_username, resource_deep_link


def applied_to_each(request, rows, apply):
    """`apply` each row (an admin action's service call); each refusal is reported on the page under the row's
    name and the others go on. Returns what `apply` returned for the rows it succeeded on."""
    results = []
    for row in rows:
        try:
            results.append(apply(row))
        except BookingError as exc:
            messages.error(request, f"{row}: {exc.message}")
    return results


class ServicesOnlyAdmin(admin.ModelAdmin):
    """Rows that only the services write (through the bot, the API, or this admin's actions): the admin never
    adds, changes or deletes one itself, so every change meets the rules, history and messages."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class ResourceAliasFormSet(forms.BaseInlineFormSet):
    """Refuses two aliases of one resource that differ only in case or spacing
    (the database's unique key would otherwise answer with an error page)."""

    def clean(self):
        super().clean()
        seen = set()
        for form in self.forms:
            alias = getattr(form, "cleaned_data", {}).get("alias")
            if not alias or form.cleaned_data.get("DELETE"):
                continue
            if name_key(alias) in seen:
                raise forms.ValidationError(
                    _("The alias «%(alias)s» is given twice."), code="duplicate_alias", params={"alias": alias}
                )
            seen.add(name_key(alias))


class ResourceAliasInline(admin.TabularInline):
    model = ResourceAlias
    formset = ResourceAliasFormSet
    fields = ("alias",)
    extra = 1
    verbose_name_plural = _("aliases (other names it is found by, in any language)")


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "kind",
        "category",
        "location",
        "is_active",
        "requires_approval",
        "requires_check_in",
        "out_of_service_since",
    )
    list_filter = ("kind", "category", "is_active", "requires_approval", "requires_check_in")
    search_fields = ("name", "aliases__alias", "category", "location", "description")
    inlines = [ResourceAliasInline, OpeningHoursInline]
    fieldsets = (
        (
            _("Catalogue"),
            {"fields": ("name", "kind", "category", "location", "description", "is_active", "pool")},
        ),
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
        (
            _("At the resource"),
            {
                "fields": ("pickup_instructions", "access_code", "out_of_service_since"),
                "description": _("Shown to the holder only when they check in. Print QR stickers from the list."),
            },
        ),
        (_("Return"), {"fields": ("requires_return",)}),
        (
            _("Calendar feed"),
            {
                "fields": ("public_feed", "public_feed_link"),
                "description": _("A public calendar of its bookings without people's names, e.g. for a room display."),
            },
        ),
    )
    readonly_fields = ("out_of_service_since", "public_feed_link")
    actions = ["print_stickers", "put_back_in_service", "renew_public_feed_links"]

    @admin.display(description=_("public feed link"))
    def public_feed_link(self, resource):
        url = feeds.resource_feed_url(resource=resource)
        if url is None:
            return _("Switch the public feed on and save to get its link.")
        return format_html('<a href="{}">{}</a>', url, url)

    def save_model(self, request, obj, form, change):
        feeds.resource_public_feed_prepare(obj)  # switched on for the first time: its link is made
        super().save_model(request, obj, form, change)

    @admin.action(
        description=_("Renew the public calendar feed links (the old ones stop working)"), permissions=["change"]
    )
    def renew_public_feed_links(self, request, queryset):
        done = 0
        for resource in queryset:
            feeds.resource_public_feed_renew(resource=resource)
            done += 1
        self.message_user(
            request,
            ngettext("%(count)d public feed link renewed.", "%(count)d public feed links renewed.", done)
            % {"count": done},
        )

    @admin.action(description=_("Print QR stickers (PDF)"))
    def print_stickers(self, request, queryset):
        """A PDF sheet with a QR code of each selected resource's deep link, its name below."""
        try:
            username = bot_username()
        except BotUsernameUnknown as error:
            self.message_user(
                request,
                _("The bot's username is unknown (%(error)s): set TELEGRAM_BOT_USERNAME.") % {"error": error},
                messages.ERROR,
            )
            return None
        pdf = sticker_sheet_pdf(
            resources=queryset.order_by("name"),
            link_for=lambda resource: resource_deep_link(resource_id=resource.pk, username=username),
        )
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = 'attachment; filename="slotbot-stickers.pdf"'
        return response

    @admin.action(description=_("Put selected resources back in service"), permissions=["change"])
    def put_back_in_service(self, request, queryset):
        done = sum(
            services.resource_out_of_service_set(resource=r, by=request.user, out_of_service=False) for r in queryset
        )
        self.message_user(
            request,
            ngettext("%(count)d resource is back in service.", "%(count)d resources are back in service.", done)
            % {"count": done},
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
        first = today_in() + timedelta(days=offset)
        return queryset.filter(start__lt=local_midnight(first + timedelta(days=days)), end__gt=local_midnight(first))


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their parent as they are, each linked to its own page: nothing added, changed or deleted
    here (they change through the services, or on their own pages)."""

    show_change_link = True
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False


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


class MoveForm(forms.Form):
    start = forms.DateTimeField(label=_("New start"))
    end = forms.DateTimeField(label=_("New end"))


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
    Action.RETURN: (
        services.booking_return,
        lambda n: ngettext("%(count)d booking marked returned.", "%(count)d bookings marked returned.", n),
    ),
    Action.EXTEND: (
        reschedule.booking_extend,
        lambda n: ngettext("%(count)d booking extended.", "%(count)d bookings extended.", n),
    ),
    Action.MOVE: (
        reschedule.booking_move,
        lambda n: ngettext("%(count)d booking moved.", "%(count)d bookings moved.", n),
    ),
}
# Staff's extension from the list: one grid step of the usual resource; the API takes any length.
ADMIN_EXTENSION_MINUTES = 30


@admin.register(Booking)
class BookingAdmin(ServicesOnlyAdmin):
    list_display = ("id", "resource", "user", "when", "status", "checked_in_at", "actions_now")
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
        "returned_at",
        "held_until",
        ("created_at", "updated_at"),
        "actions_now",
    )
    readonly_fields = flatten(fields)
    inlines = [BookingEventInline]
    actions = [
        "approve_bookings",
        "reject_bookings",
        "cancel_bookings",
        "mark_returned",
        "extend_bookings",
        "move_bookings",
    ]

    @admin.display(description=_("when"), ordering="start")
    def when(self, booking):
        """The booking's time as the bot and the messages write it, in the admin's zone."""
        return formats.booking_span(booking.start, booking.end, timezone.get_current_timezone())

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

    @admin.action(description=_("Mark selected bookings returned"), permissions=["transition"])
    def mark_returned(self, request, queryset):
        self._run_transition(request, queryset, Action.RETURN)

    @admin.action(description=_("Extend selected bookings by 30 minutes"), permissions=["transition"])
    def extend_bookings(self, request, queryset):
        self._run_transition(request, queryset, Action.EXTEND, minutes=ADMIN_EXTENSION_MINUTES)

    @admin.action(description=_("Move selected bookings"), permissions=["transition"])
    def move_bookings(self, request, queryset):
        """A page asking for the new start and end (for each selected booking alike), then the move."""
        if "apply" in request.POST:
            form = MoveForm(request.POST)
            if form.is_valid():
                self._run_transition(request, queryset, Action.MOVE, **form.cleaned_data)
                return None
        else:
            first = queryset.order_by("start").first()
            form = MoveForm(initial={"start": first.start, "end": first.end} if first else None)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Move bookings"),
            "opts": self.model._meta,
            "form": form,
            "bookings": queryset.select_related("resource", "user").order_by("start"),
            "action": request.POST.get("action", ""),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/bookings/booking/move.html", context)

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
        rows = queryset.select_related("resource", "user")
        done = len(applied_to_each(request, rows, lambda booking: service(booking=booking, by=request.user, **options)))
        if done:
            messages.success(request, success_message(done) % {"count": done})


# --- Institution policies ---------------------------------------------------------


@admin.register(AccessRule)
class AccessRuleAdmin(admin.ModelAdmin):
    list_display = ("__str__", "resource", "category", "group", "telegram_chat_title", "telegram_chat_id")
    list_filter = ("category", "group")
    list_select_related = ("resource", "group")
    autocomplete_fields = ("resource",)
    fieldsets = (
        (
            _("What"),
            {"fields": ("resource", "category"), "description": _("One resource, or every one of a category.")},
        ),
        (
            _("Who may book it"),
            {
                "fields": ("group", ("telegram_chat_id", "telegram_chat_title")),
                "description": _(
                    "A Django group, or the members of a Telegram chat (the bot must be in it). "
                    "Approving an access request adds the user to the Django group."
                ),
            },
        ),
    )


@admin.register(QuotaRule)
class QuotaRuleAdmin(admin.ModelAdmin):
    list_display = ("__str__", "resource", "category", "group", "kind", "period", "limit")
    list_filter = ("kind", "period", "group")
    list_select_related = ("resource", "group")
    autocomplete_fields = ("resource",)
    fieldsets = (
        (_("Scope"), {"fields": ("resource", "category"), "description": _("Both empty: every resource.")}),
        (_("Who"), {"fields": ("group",)}),
        (
            _("Limit"),
            {
                "fields": ("kind", "period", "limit"),
                "description": _(
                    "Hours limits count in hours. Periods are calendar days, weeks from Monday and months, "
                    "in the site's time zone. Several rules stack; staff are exempt."
                ),
            },
        ),
    )


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    """Closures are added through policies.closure_create: the admin first sees the live bookings
    it meets, and on confirmation each is cancelled with the closure's reason (one message each)."""

    list_display = ("__str__", "resource", "category", "start", "end", "reason_kind", "created_by")
    list_filter = ("reason_kind", "category")
    list_select_related = ("resource", "created_by")
    autocomplete_fields = ("resource",)
    fields = ("resource", "category", ("start", "end"), "reason_kind", "reason")
    date_hierarchy = "start"

    # A changed closure would not cancel what it newly covers: delete and add again instead.
    def has_change_permission(self, request, obj=None):
        return False

    # Lifting a closure frees its time (policies.closure_delete sends time_freed: the waitlist offers it).
    def delete_model(self, request, obj):
        policies.closure_delete(closure=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for closure in queryset:
            policies.closure_delete(closure=closure, by=request.user)

    def add_view(self, request, form_url="", extra_context=None):
        if request.method == "POST" and self.has_add_permission(request):
            form = self.get_form(request)(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                scope = {"resource": data.get("resource"), "category": data.get("category") or ""}
                affected = policies.closure_affected_bookings(**scope, start=data["start"], end=data["end"])
                if affected and "confirm" not in request.POST:
                    return self._confirm_closure(request, form, affected)
                return self._create_closure(request, scope, data)
        return super().add_view(request, form_url, extra_context)

    def _confirm_closure(self, request, form, affected):
        context = {
            **self.admin_site.each_context(request),
            "title": _("Close and cancel these bookings?"),
            "opts": self.model._meta,
            "form": form,
            "bookings": affected,
        }
        return TemplateResponse(request, "admin/bookings/closure/confirm_closure.html", context)

    def _create_closure(self, request, scope, data):
        try:
            _closure, cancelled, running = policies.closure_create(
                **scope,
                start=data["start"],
                end=data["end"],
                reason_kind=data["reason_kind"],
                reason=data.get("reason") or "",
                by=request.user,
            )
        except BookingError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(request.path)
        messages.success(request, _("Closure added."))
        if cancelled:
            n = len(cancelled)
            messages.success(
                request, ngettext("%(count)d booking cancelled.", "%(count)d bookings cancelled.", n) % {"count": n}
            )
        for booking in running:
            messages.warning(request, _("%(booking)s is running now and was not cancelled.") % {"booking": booking})
        return HttpResponseRedirect(reverse("admin:bookings_closure_changelist"))


@admin.register(AccessRequest)
class AccessRequestAdmin(admin.ModelAdmin):
    """Access requests are decided through the services (approve adds the user to the resource's group)."""

    list_display = ("id", "user", "resource", "reason", "status", "created_at", "decided_by", "decided_at")
    list_filter = ("status", ("resource", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("user", "resource", "decided_by")
    search_fields = ("user__username", "user__telegram_username", "resource__name", "reason")
    readonly_fields = (
        "user",
        "resource",
        "reason",
        "status",
        "created_at",
        "decided_by",
        "decided_at",
        "decision_reason",
    )
    fields = readonly_fields
    actions = ["approve_requests", "reject_requests"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_decide_permission(self, request):
        return request.user.is_staff and request.user.has_perm("bookings.change_accessrequest")

    @admin.action(description=_("Approve selected access requests"), permissions=["decide"])
    def approve_requests(self, request, queryset):
        self._decide(request, queryset, policies.access_request_approve)

    @admin.action(description=_("Reject selected access requests"), permissions=["decide"])
    def reject_requests(self, request, queryset):
        self._decide(request, queryset, policies.access_request_reject)

    def _decide(self, request, queryset, service):
        rows = queryset.select_related("user", "resource")
        done = len(applied_to_each(request, rows, lambda found: service(request=found, by=request.user)))
        if done:
            messages.success(
                request,
                ngettext("%(count)d access request decided.", "%(count)d access requests decided.", done)
                % {"count": done},
            )


# --- Loans: strikes and suspensions -------------------------------------------------


@admin.register(Strike)
class StrikeAdmin(admin.ModelAdmin):
    """Strikes are written by the domain (late returns, no-shows); here they are read."""

    list_display = ("id", "user", "reason", "booking", "at")
    list_filter = ("reason",)
    list_select_related = ("user", "booking__resource")
    search_fields = ("user__username", "user__telegram_username")
    readonly_fields = fields = ("user", "booking", "reason", "at")


# --- Pools (bookings.pools) ---------------------------------------------------------


class PoolUnitInline(ReadOnlyInline):
    """The pool's units: each a resource with its own rules (edited on the resource's page)."""

    model = Resource
    fields = ("name", "is_active", "requires_check_in", "location")
    verbose_name = _("unit")
    verbose_name_plural = _("units (add one by choosing this pool on a resource)")


@admin.register(Pool)
class PoolAdmin(admin.ModelAdmin):
    list_display = ("name", "is_active", "unit_count")
    search_fields = ("name", "description")
    inlines = [PoolUnitInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(unit_count=Count("units"))

    @admin.display(description=_("units"), ordering="unit_count")
    def unit_count(self, pool):
        return pool.unit_count


class PoolRequestBookingInline(ReadOnlyInline):
    model = Booking
    fields = ("resource", "status", "start", "end", "checked_in_at")


@admin.register(PoolRequest)
class PoolRequestAdmin(admin.ModelAdmin):
    """Read-only: a request changes only through its bookings (the Booking admin's actions) or the services."""

    list_display = ("id", "pool", "user", "start", "end", "quantity", "created_at")
    list_filter = ("pool",)
    search_fields = ("user__username", "user__first_name", "pool__name")
    list_select_related = ("pool", "user")
    readonly_fields = ("pool", "user", "start", "end", "quantity", "note", "created_at")
    fields = readonly_fields
    inlines = [PoolRequestBookingInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SeriesBookingInline(ReadOnlyInline):
    model = Booking
    fields = ("start", "end", "status", "checked_in_at")


@admin.register(BookingSeries)
class BookingSeriesAdmin(ServicesOnlyAdmin):
    """Read-only list of recurring series with their occurrences inline; staff cancel a series
    (its occurrences not started yet, one summary message to the user) with the action."""

    list_display = ("id", "resource", "user", "rrule", "dtstart", "occurrence_count", "cancelled_at")
    list_filter = (("cancelled_at", admin.EmptyFieldListFilter), ("resource", admin.RelatedOnlyFieldListFilter))
    search_fields = ("user__username", "user__first_name", "resource__name", "note")
    list_select_related = ("resource", "user")
    readonly_fields = ("resource", "user", "rrule", "dtstart", "duration_minutes", "note", "created_at", "cancelled_at")
    fields = readonly_fields
    inlines = [SeriesBookingInline]
    actions = ["cancel_series"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(occurrences=Count("bookings"))

    @admin.display(description=_("occurrences"), ordering="occurrences")
    def occurrence_count(self, found):
        return found.occurrences

    def has_cancel_permission(self, request):
        return request.user.is_staff and request.user.has_perm("bookings.change_booking")

    @admin.action(description=_("Cancel selected series"), permissions=["cancel"])
    def cancel_series(self, request, queryset):
        rows = queryset.select_related("resource", "user")
        cancelled = applied_to_each(
            request, rows, lambda found: booking_series.series_cancel(series=found, by=request.user)
        )
        done = sum(len(occurrences) for occurrences in cancelled)
        if done:
            messages.success(
                request,
                ngettext("%(count)d occurrence cancelled.", "%(count)d occurrences cancelled.", done) % {"count": done},
            )


@admin.register(Suspension)
class SuspensionAdmin(admin.ModelAdmin):
    """Suspensions come from strikes; staff lift them early through the service (the user is told)."""

    list_display = ("id", "user", "start", "until", "reason", "lifted_by", "lifted_at")
    list_filter = (("lifted_at", admin.EmptyFieldListFilter),)
    list_select_related = ("user", "lifted_by")
    search_fields = ("user__username", "user__telegram_username")
    readonly_fields = fields = ("user", "start", "until", "reason", "lifted_by", "lifted_at")
    actions = ["lift_suspensions"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_lift_permission(self, request):
        return request.user.is_staff and request.user.has_perm("bookings.change_suspension")

    @admin.action(description=_("Lift selected suspensions"), permissions=["lift"])
    def lift_suspensions(self, request, queryset):
        rows = queryset.select_related("user")
        done = len(
            applied_to_each(request, rows, lambda found: services.suspension_lift(suspension=found, by=request.user))
        )
        if done:
            messages.success(
                request,
                ngettext("%(count)d suspension lifted.", "%(count)d suspensions lifted.", done) % {"count": done},
            )

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CalendarToken)
class CalendarTokenAdmin(admin.ModelAdmin):
    """Users' calendar feed links: who has one, since when; revoking one stops its URL at once.
    The links themselves are not shown (they are their owners' secrets)."""

    list_display = ("user", "created_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__username", "user__telegram_username", "user__first_name", "user__last_name")
    fields = ("user", "created_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke_tokens"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request):
        return request.user.has_perm("bookings.change_calendartoken") or request.user.is_superuser

    @admin.action(description=_("Revoke the selected calendar links"), permissions=["revoke"])
    def revoke_tokens(self, request, queryset):
        done = feeds.calendar_tokens_revoke(tokens=queryset)
        self.message_user(
            request,
            ngettext("%(count)d calendar link revoked.", "%(count)d calendar links revoked.", done) % {"count": done},
        )


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(ServicesOnlyAdmin):
    """Who waits for what, first come first (bookings.waitlist). Staff remove entries with the action
    (the service: an entry holding an offer declines it, so the next waiter gets it)."""

    list_display = ("id", "resource", "user", "when", "state", "booking", "created_at", "offered_at")
    list_filter = ("state", ("resource", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("resource", "user", "booking")
    search_fields = ("resource__name", "user__username", "user__first_name", "user__telegram_username")
    ordering = ("resource", "created_at", "id")
    fields = ("resource", "user", ("start", "end"), "state", "booking", ("created_at", "offered_at"))
    readonly_fields = flatten(fields)
    actions = ["remove_entries"]

    @admin.display(description=_("when"), ordering="start")
    def when(self, entry):
        return formats.booking_span(entry.start, entry.end, timezone.get_current_timezone())

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.is_staff:
            actions.pop("remove_entries", None)
        return actions

    @admin.action(description=_("Remove from the waitlist"))
    def remove_entries(self, request, queryset):
        removed = 0
        for entry in queryset.select_related("resource", "user", "booking"):
            try:
                waitlist.waitlist_leave(entry=entry, by=request.user)
            except BookingError:
                continue  # not open any more: nothing to remove
            removed += 1
        messages.success(
            request, ngettext("%(count)d entry removed.", "%(count)d entries removed.", removed) % {"count": removed}
        )
