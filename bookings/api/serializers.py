"""Serializers of the REST API: parse requests into domain arguments, render results.

Input serializers only parse and check shapes (types, ranges, choices); the
booking rules stay in bookings.rules and bookings.services, so the API never
judges a booking differently from the bot. Datetimes are ISO 8601; one
written without an offset is read in the site's time zone (settings.TIME_ZONE),
and every datetime is answered with its offset in that zone.
"""

from datetime import UTC, datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bookings import errors, policies, pools, rules, selectors, waitlist
from bookings.models import (
    AccessRequest,
    Booking,
    BookingEvent,
    BookingSeries,
    BookingStatus,
    OpeningHours,
    Pool,
    PoolRequest,
    Resource,
    ResourceKind,
    Suspension,
    WaitlistEntry,
)
from bookings.rules import site_zone
from bookings.selectors import Action

# The domain's range of years (bookings.rules); outside it no booking lives.
EARLIEST = datetime(rules.FIRST_YEAR, 1, 1, tzinfo=UTC)
LATEST = datetime(rules.LAST_YEAR + 1, 1, 1, tzinfo=UTC)
MAX_ID = 2**63 - 1  # BigAutoField


# --- Fields -------------------------------------------------------------------


class SiteDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date and time; without an offset it is read in the site's zone.

    Every parse failure has the code "invalid_datetime", whatever DRF found
    wrong (format, range, a local time that a clock change skips or repeats).
    """

    def default_timezone(self):
        return site_zone()

    def to_internal_value(self, value):
        try:
            moment = super().to_internal_value(value)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError(str(exc.detail[0]), code="invalid_datetime") from None
        if not EARLIEST <= moment < LATEST:
            raise serializers.ValidationError(
                _("Datetime out of range: use a year between 1900 and 8999."), code="invalid_datetime"
            )
        return moment

    def enforce_timezone(self, value):
        if timezone.is_aware(value):
            return super().enforce_timezone(value)
        # DRF would read a local time that a clock change skips or repeats as one
        # of two instants; the domain refuses it, with the same words as the bot.
        try:
            return rules.local_datetime(value.date(), value.time(), zone=self.default_timezone())
        except errors.UnclearLocalTime as error:
            raise serializers.ValidationError(error.message, code="invalid_datetime") from None
        except OverflowError:
            self.fail("overflow")


class SiteDateField(serializers.DateField):
    """A local date, YYYY-MM-DD; every parse failure has the code "invalid_date"."""

    def to_internal_value(self, value):
        try:
            day = super().to_internal_value(value)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError(str(exc.detail[0]), code="invalid_date") from None
        if not EARLIEST.date() <= day < LATEST.date():
            raise serializers.ValidationError(
                _("Date out of range: use a year between 1900 and 8999."), code="invalid_date"
            )
        return day


@extend_schema_field(OpenApiTypes.INT)
class ResourceRefField(serializers.IntegerField):
    """A resource id in a request body, resolved to the Resource (inactive ones too,
    so that booking one is answered "resource_inactive", not "unknown")."""

    default_error_messages = {"unknown_resource": _("There is no resource with this id.")}

    def to_internal_value(self, data):
        try:
            resource_id = super().to_internal_value(data)
        except serializers.ValidationError:
            self.fail("unknown_resource")
        resource = (
            selectors.resource_get(resource_id=resource_id, include_inactive=True)
            if 1 <= resource_id <= MAX_ID
            else None
        )
        if resource is None:
            self.fail("unknown_resource")
        return resource


class IdField(serializers.IntegerField):
    """A positive database id in a query string."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


# --- Query strings ------------------------------------------------------------


class ResourceFilterSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ResourceKind.choices, required=False)
    category = serializers.CharField(required=False, max_length=60, help_text=_("Case-insensitive."))


class DayQuerySerializer(serializers.Serializer):
    date = SiteDateField(required=False, help_text=_("A local date, YYYY-MM-DD; today when omitted."))


class TimeRangeQuerySerializer(ResourceFilterSerializer):
    start = SiteDateTimeField(help_text=_("ISO 8601; without an offset, read in the site's time zone."))
    end = SiteDateTimeField(help_text=_("ISO 8601; must be after start."))

    def validate(self, attrs):
        if attrs["end"] <= attrs["start"]:
            raise errors.InvalidTimeRange()
        return attrs


class BookingFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=BookingStatus.choices, required=False)
    resource = IdField(required=False, help_text=_("A resource id."))


# --- Request bodies -----------------------------------------------------------


class BookingCreateSerializer(serializers.Serializer):
    resource = ResourceRefField(help_text=_("The id of the resource to book."))
    start = SiteDateTimeField(help_text=_("ISO 8601; without an offset, read in the site's time zone."))
    end = SiteDateTimeField(help_text=_("ISO 8601; must be after start."))
    # Its length is a domain rule (bookings.rules.validate_note), answered "note_too_long".
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ExtendSerializer(serializers.Serializer):
    # The range is the domain's rule (bookings.reschedule), answered "invalid_extension".
    minutes = serializers.IntegerField(help_text=_("How many minutes later the booking should end (on its grid)."))


class MoveSerializer(serializers.Serializer):
    start = SiteDateTimeField(help_text=_("The new start. ISO 8601; without an offset, read in the site's time zone."))
    end = SiteDateTimeField(help_text=_("The new end. ISO 8601; must be after start."))


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", help_text=_("Shown to the user."))


# --- Responses ----------------------------------------------------------------


class OpeningHoursSerializer(serializers.ModelSerializer):
    class Meta:
        model = OpeningHours
        fields = ["weekday", "opens", "closes"]


class ResourceSerializer(serializers.ModelSerializer):
    """A resource as the requesting user sees it: `bookable` is false when its access rules keep them out.

    The view passes `access` ({resource id: policies.Access}) in the context.
    """

    aliases = serializers.SlugRelatedField(
        many=True,
        read_only=True,
        slug_field="alias",
        help_text=_("Other names the resource is found by (any language); edited in the admin."),
    )
    bookable = serializers.SerializerMethodField(help_text=_("False when only some groups may book it."))
    restricted_to = serializers.SerializerMethodField(
        help_text=_("When not bookable: the groups and Telegram chats whose members may book it.")
    )

    out_of_service = serializers.BooleanField(
        read_only=True, help_text=_("True while an admin has taken it out of service: nothing can be booked.")
    )

    class Meta:
        model = Resource
        # Pickup instructions and access codes are not here: they are shown only at check-in.
        fields = [
            "id",
            "name",
            "kind",
            "category",
            "location",
            "description",
            "aliases",
            "bookable",
            "restricted_to",
            "out_of_service",
        ]

    def _access(self, resource):
        return self.context.get("access", {}).get(resource.pk, policies.OPEN)

    def get_bookable(self, resource) -> bool:
        return self._access(resource).bookable

    def get_restricted_to(self, resource) -> list[str]:
        return list(self._access(resource).restricted_to)


class ResourcePageSerializer(serializers.Serializer):
    """One page of resources (GET /api/availability/), shaped like the paginated lists."""

    count = serializers.IntegerField(help_text=_("How many there are in all."))
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ResourceSerializer(many=True)


class ResourceRulesSerializer(serializers.ModelSerializer):
    return_required = serializers.BooleanField(
        read_only=True, help_text=_("An active booking ends only by a return; not returned by its end, it is overdue.")
    )

    class Meta:
        model = Resource
        fields = [
            "slot_minutes",
            "min_duration_minutes",
            "max_duration_minutes",
            "min_notice_minutes",
            "max_advance_days",
            "requires_approval",
            "requires_check_in",
            "return_required",
            "check_in_opens_minutes",
            "check_in_grace_minutes",
            "buffer_minutes",
        ]


class ResourceDetailSerializer(ResourceSerializer):
    rules = ResourceRulesSerializer(source="*", read_only=True)
    opening_hours = OpeningHoursSerializer(
        many=True, read_only=True, help_text=_("Weekday 0 is Monday. No rows at all: open around the clock.")
    )

    class Meta(ResourceSerializer.Meta):
        fields = ResourceSerializer.Meta.fields + ["rules", "opening_hours"]


class IntervalSerializer(serializers.Serializer):
    start = SiteDateTimeField()
    end = SiteDateTimeField()


class ResourceAvailabilitySerializer(serializers.Serializer):
    resource = serializers.IntegerField()
    date = serializers.DateField()
    free = IntervalSerializer(many=True, help_text=_("Every booking inside one of these is accepted."))


class BookingEventSerializer(serializers.ModelSerializer):
    at = SiteDateTimeField()
    by = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text=_("The user who made the change; null for the system.")
    )

    class Meta:
        model = BookingEvent
        fields = ["from_status", "to_status", "at", "by", "reason"]


@extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=[a.value for a in Action])))
class BookingActionsField(serializers.Field):
    """The actions the requesting user may take on the booking now (bookings.actions, the rule
    the endpoints enforce): the buttons a client shows."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, booking):
        request = self.context.get("request")
        user = request.user if request else None
        actions = [a.value for a in selectors.booking_actions(booking=booking, user=user)]
        return actions + waitlist.offer_actions(booking=booking, user=user)  # take / decline of a held offer


class BookingSerializer(serializers.ModelSerializer):
    resource_name = serializers.CharField(source="resource.name", read_only=True)
    actions = BookingActionsField(
        help_text=_(
            "What the requesting user may do with this booking now: check_in, return (POST finish), "
            "cancel, approve, reject; take, decline (a held waitlist offer). More codes may be added."
        )
    )
    start = SiteDateTimeField()
    end = SiteDateTimeField()
    check_in_deadline = SiteDateTimeField(allow_null=True)
    checked_in_at = SiteDateTimeField(allow_null=True)
    returned_at = SiteDateTimeField(allow_null=True)
    held_until = SiteDateTimeField(
        allow_null=True, help_text=_("A held booking (a waitlist offer): take it by then, or it goes to the next.")
    )
    created_at = SiteDateTimeField()

    class Meta:
        model = Booking
        fields = [
            "id",
            "resource",
            "resource_name",
            "user",
            "start",
            "end",
            "status",
            "note",
            "check_in_deadline",
            "checked_in_at",
            "returned_at",
            "held_until",
            "created_at",
            "series",
            "actions",
        ]
        read_only_fields = fields


class PickupSerializer(serializers.Serializer):
    instructions = serializers.CharField()
    access_code = serializers.CharField()


class BookingDetailSerializer(BookingSerializer):
    events = BookingEventSerializer(many=True, read_only=True, help_text=_("The status history, oldest first."))
    pickup = serializers.SerializerMethodField(
        help_text=_("The resource's pickup instructions and access code: for the owner, once checked in.")
    )

    class Meta(BookingSerializer.Meta):
        fields = BookingSerializer.Meta.fields + ["events", "pickup"]
        read_only_fields = fields

    @extend_schema_field(PickupSerializer(allow_null=True))
    def get_pickup(self, booking) -> dict | None:
        request = self.context.get("request")
        return selectors.booking_pickup(booking=booking, user=request.user if request else None)


class AccessRequestCreateSerializer(serializers.Serializer):
    # Its length is a domain rule (bookings.rules.validate_note), answered "note_too_long".
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=_("Why you need it; the admins read it.")
    )


class AccessRequestSerializer(serializers.ModelSerializer):
    resource_name = serializers.CharField(source="resource.name", read_only=True)
    created_at = SiteDateTimeField()
    decided_at = SiteDateTimeField(allow_null=True)

    class Meta:
        model = AccessRequest
        fields = [
            "id",
            "user",
            "resource",
            "resource_name",
            "reason",
            "status",
            "created_at",
            "decided_by",
            "decided_at",
            "decision_reason",
        ]
        read_only_fields = fields


class QuotaQuerySerializer(serializers.Serializer):
    resource = IdField(required=False, help_text=_("Only the quotas that apply to booking this resource."))


class QuotaUsageSerializer(serializers.Serializer):
    rule = serializers.IntegerField(source="rule.pk")
    kind = serializers.CharField(source="rule.kind", help_text=_("bookings, hours or live (at once)."))
    period = serializers.CharField(source="rule.period", help_text=_("day, week, month; empty for live."))
    scope = serializers.CharField(help_text=_("The resource, the category, or all resources."))
    used = serializers.FloatField(help_text=_("Bookings, or hours for an hours limit."))
    limit = serializers.IntegerField()
    left = serializers.FloatField()
    period_start = SiteDateTimeField(allow_null=True)
    period_end = SiteDateTimeField(allow_null=True, help_text=_("When the period resets; null for live."))
    text = serializers.CharField(source="describe", help_text=_("E.g. 3 h of 4 h left this week on Meeting rooms."))


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer."""

    code = serializers.CharField(help_text=_("Stable, for programs: e.g. slot_taken, not_found, invalid_datetime."))
    detail = serializers.CharField(help_text=_("For people, in the request's language."))
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text=_("Validation errors only: the messages of each failing field."),
    )
    booking = serializers.IntegerField(
        required=False,
        help_text=_("already_booked only: the id of the asking user's own booking of exactly this time."),
    )


class SuspensionSerializer(serializers.ModelSerializer):
    start = SiteDateTimeField()
    until = SiteDateTimeField()
    lifted_at = SiteDateTimeField(allow_null=True)

    class Meta:
        model = Suspension
        fields = ["id", "user", "start", "until", "reason", "lifted_by", "lifted_at"]


# --- Pools of identical units (bookings.pools) --------------------------------


class PoolBookingCreateSerializer(serializers.Serializer):
    start = SiteDateTimeField(help_text=_("ISO 8601; without an offset, read in the site's time zone."))
    end = SiteDateTimeField(help_text=_("ISO 8601; must be after start."))
    # Its range is the domain's (1 to the pool's size), answered "invalid_quantity".
    quantity = serializers.IntegerField(min_value=-MAX_ID, max_value=MAX_ID)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class PoolUnitSwapSerializer(serializers.Serializer):
    booking = IdField()
    unit = IdField()


class PoolSerializer(serializers.ModelSerializer):
    units = serializers.IntegerField(source="unit_count", read_only=True)

    class Meta:
        model = Pool
        fields = ["id", "name", "description", "units"]


class PoolIntervalSerializer(serializers.Serializer):
    start = SiteDateTimeField()
    end = SiteDateTimeField()
    free = serializers.IntegerField()
    total = serializers.IntegerField()


class PoolAvailabilitySerializer(serializers.Serializer):
    pool = serializers.IntegerField()
    date = serializers.DateField()
    free = PoolIntervalSerializer(many=True)


class PoolRequestActionsField(BookingActionsField):
    """What the requesting user may do with the whole request now: cancel, return (bookings.pools)."""

    def to_representation(self, pool_request):
        request = self.context.get("request")
        user = request.user if request else None
        return [a.value for a in pools.pool_request_actions(request=pool_request, user=user)]


class PoolRequestSerializer(serializers.ModelSerializer):
    pool_name = serializers.CharField(source="pool.name", read_only=True)
    start = SiteDateTimeField()
    end = SiteDateTimeField()
    created_at = SiteDateTimeField()
    actions = PoolRequestActionsField()
    bookings = BookingSerializer(many=True, read_only=True)

    class Meta:
        model = PoolRequest
        fields = [
            "id",
            "pool",
            "pool_name",
            "user",
            "start",
            "end",
            "quantity",
            "note",
            "created_at",
            "actions",
            "bookings",
        ]
        read_only_fields = fields


# --- Recurring series -------------------------------------------------------------


class SeriesCreateSerializer(serializers.Serializer):
    resource = ResourceRefField(help_text=_("The id of the resource to book."))
    start = SiteDateTimeField(help_text=_("The first occurrence's start; its local time is kept in every occurrence."))
    end = SiteDateTimeField(help_text=_("The first occurrence's end: every occurrence is as long."))
    rrule = serializers.CharField(
        max_length=500,
        help_text=_(
            "RFC 5545 RRULE: FREQ=DAILY, WEEKLY (BYDAY=MO,WE; INTERVAL=2 for every other week) or MONTHLY, "
            "with UNTIL=<date> or COUNT=<n>."
        ),
    )
    mode = serializers.ChoiceField(
        choices=["preview", "all_or_nothing", "skip_conflicts"],
        default="preview",
        help_text=_(
            "preview books nothing; all_or_nothing books every occurrence or none; skip_conflicts the free ones."
        ),
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class SeriesCancelSerializer(serializers.Serializer):
    # "from" is a Python keyword: the field is declared under its JSON name below.
    reason = serializers.CharField(required=False, allow_blank=True, default="", help_text=_("Shown to the user."))

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = SiteDateTimeField(
            required=False,
            allow_null=True,
            default=None,
            help_text=_("Cancel this occurrence (its start) and all following; omitted: every occurrence."),
        )
        return fields


class SeriesExtendSerializer(serializers.Serializer):
    count = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, help_text=_("How many occurrences to add.")
    )


class OccurrenceSerializer(serializers.Serializer):
    start = SiteDateTimeField()
    end = SiteDateTimeField()
    outcome = serializers.SerializerMethodField(help_text=_('"ok", or the error code that refuses it (slot_taken, …).'))
    detail = serializers.CharField(source="message", help_text=_("Why it is refused, in the request's language."))
    booking = serializers.SerializerMethodField(help_text=_("The booking made for it, when booked."))

    def get_outcome(self, occurrence) -> str:
        return "ok" if occurrence.ok else occurrence.code

    def get_booking(self, occurrence) -> int | None:
        return occurrence.booking.pk if occurrence.booking is not None else None


class SeriesSerializer(serializers.ModelSerializer):
    resource_name = serializers.CharField(source="resource.name", read_only=True)
    start = SiteDateTimeField(source="dtstart")
    created_at = SiteDateTimeField()
    cancelled_at = SiteDateTimeField(allow_null=True)
    bookings = BookingSerializer(many=True, read_only=True)

    class Meta:
        model = BookingSeries
        fields = [
            "id",
            "resource",
            "resource_name",
            "user",
            "rrule",
            "start",
            "duration_minutes",
            "note",
            "created_at",
            "cancelled_at",
            "bookings",
        ]
        read_only_fields = fields


class SeriesResultSerializer(serializers.Serializer):
    series = SeriesSerializer(allow_null=True, help_text=_("The series made; null for a preview."))
    occurrences = OccurrenceSerializer(many=True)


# --- The waitlist (bookings.waitlist) ------------------------------------------------


class WaitlistJoinSerializer(serializers.Serializer):
    resource = ResourceRefField(help_text=_("The id of the resource."))
    start = SiteDateTimeField(help_text=_("ISO 8601; without an offset, read in the site's time zone."))
    end = SiteDateTimeField(help_text=_("ISO 8601; must be after start."))


class WaitlistEntrySerializer(serializers.ModelSerializer):
    resource_name = serializers.CharField(source="resource.name", read_only=True)
    start = SiteDateTimeField()
    end = SiteDateTimeField()
    created_at = SiteDateTimeField()
    offered_at = SiteDateTimeField(allow_null=True)
    held_until = SiteDateTimeField(source="booking.held_until", allow_null=True, default=None)

    class Meta:
        model = WaitlistEntry
        fields = [
            "id",
            "resource",
            "resource_name",
            "start",
            "end",
            "state",
            "booking",
            "held_until",
            "created_at",
            "offered_at",
        ]
        read_only_fields = fields
