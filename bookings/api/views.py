"""Views of the REST API: parse with a serializer, call one selector or service, render.

No rule lives here. Errors are raised, never rendered: bookings.api.errors
turns each into the JSON error body. A user reaches only their own bookings
(another's is "not found", so ids cannot be probed); staff reach all.
"""

from django.db.models import prefetch_related_objects
from django.http import JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from bookings import policies, pools, reschedule, selectors, series, services, waitlist
from bookings.api import serializers as s
from bookings.api.errors import error_body
from bookings.api.pagination import BoundedLimitOffsetPagination
from bookings.api.permissions import IsStaff
from bookings.rules import today_in

# At most 18 digits: every such id fits a bigint, so a longer one is simply not found.
ID_PATTERN = "[0-9]{1,18}"

ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)

ERROR_DESCRIPTIONS = {
    400: "Malformed input or a booking rule broken (code names which: invalid_datetime, too_long, …).",
    401: "No or invalid credentials (code not_authenticated or authentication_failed).",
    403: (
        "Not allowed (code not_allowed): staff-only action, or a CSRF failure with session auth; "
        "or the resource is restricted to some groups (code not_permitted, the detail names them); "
        "or the user is suspended from booking (code suspended, with `until`: when it ends)."
    ),
    404: "No such object, or not yours (code not_found).",
    409: (
        "The time is already booked (code slot_taken); by the asking user's own booking of exactly "
        "this time (code already_booked, with `booking`: that booking's id); a fair-use limit is used up "
        "(code quota_exceeded: which limit, the usage, when it resets), or an access request is already open "
        "(access_request_pending); fewer units of a pool are free than asked (not_enough_units); "
        "an occurrence of an all-or-nothing series is refused (series_conflict, with `occurrences`), no occurrence "
        "can be booked (series_nothing_free), cancelled (series_nothing_to_cancel) or added "
        "(series_nothing_to_extend); the waitlist: the time is free (waitlist_slot_free), too many entries "
        "(waitlist_full), the entry is not open (waitlist_entry_gone), the offer is not open (offer_stale) "
        "or was not taken in time (offer_lapsed)."
    ),
}


def error_responses(*statuses):
    """The error answers an endpoint can give, for the OpenAPI schema."""
    return {code: OpenApiResponse(s.ErrorSerializer, description=ERROR_DESCRIPTIONS[code]) for code in statuses}


def parse(serializer_class, data):
    """Validated input, or a ValidationError that the exception handler renders."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ResourceViewSet(viewsets.GenericViewSet):
    """The catalogue of bookable resources (active ones only)."""

    serializer_class = s.ResourceSerializer
    pagination_class = BoundedLimitOffsetPagination
    lookup_value_regex = ID_PATTERN

    @extend_schema(
        summary="List resources",
        parameters=[s.ResourceFilterSerializer],
        responses={200: s.ResourceSerializer(many=True), **error_responses(400, 401)},
    )
    def list(self, request):
        filters = parse(s.ResourceFilterSerializer, request.query_params)
        # Aliases are rendered per resource: one query for the page, not one per row.
        page = self.paginate_queryset(selectors.resources_list(**filters).prefetch_related("aliases"))
        return self.get_paginated_response(s.ResourceSerializer(page, many=True, context=access(request, page)).data)

    @extend_schema(
        summary="A resource with its booking rules and opening hours",
        parameters=[ID_PARAMETER],
        responses={200: s.ResourceDetailSerializer, **error_responses(401, 404)},
    )
    def retrieve(self, request, pk):
        resource = self._resource(pk)
        return Response(s.ResourceDetailSerializer(resource, context=access(request, [resource])).data)

    @extend_schema(
        summary="The free intervals of a resource on a day",
        description=(
            "Every booking that lies inside one of these intervals (on the slot grid, within the "
            "duration limits) is accepted. Times are ISO 8601 with the site's offset. Empty when the "
            "resource is restricted to groups the user is not in."
        ),
        parameters=[ID_PARAMETER, s.DayQuerySerializer],
        responses={200: s.ResourceAvailabilitySerializer, **error_responses(400, 401, 404)},
    )
    @action(detail=True, methods=["get"])
    def availability(self, request, pk):
        resource = self._resource(pk)
        day = parse(s.DayQuerySerializer, request.query_params).get("date") or today_in()
        bookable = policies.resources_only_bookable(user=request.user, resources=[resource])
        free = selectors.resource_free_intervals(resource=resource, day=day) if bookable else []
        return Response(s.ResourceAvailabilitySerializer({"resource": resource.pk, "date": day, "free": free}).data)

    @extend_schema(
        summary="Ask for access to a restricted resource",
        description="The admins approve (the user joins the resource's group) or reject it.",
        parameters=[ID_PARAMETER],
        request=s.AccessRequestCreateSerializer,
        responses={201: s.AccessRequestSerializer, **error_responses(400, 401, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="access-requests")
    def access_requests(self, request, pk):
        reason = parse(s.AccessRequestCreateSerializer, request.data)["reason"]
        created = policies.access_request_create(user=request.user, resource=self._resource(pk), reason=reason)
        return Response(s.AccessRequestSerializer(created).data, status=status.HTTP_201_CREATED)

    def _resource(self, pk):
        resource = selectors.resource_get(resource_id=int(pk))
        if resource is None:
            raise exceptions.NotFound()
        return resource


def access(request, resources):
    """Serializer context: whether the requesting user may book each resource."""
    return {"access": policies.resources_bookable_by(user=request.user, resources=resources)}


class AvailabilityView(APIView):
    """Availability first: pick a time, see what is free for all of it."""

    @extend_schema(
        summary="Resources free for a whole time range",
        description=(
            "The active resources a booking from start to end would be accepted for, by every rule; "
            "restricted resources the user may not book are left out. Paginated like the other lists "
            "(?limit=, at most 200, and ?offset=), in the catalogue's order: an institution may have "
            "thousands free at once."
        ),
        parameters=[
            s.TimeRangeQuerySerializer,
            OpenApiParameter("limit", OpenApiTypes.INT, description="Page size (default 50, at most 200)."),
            OpenApiParameter("offset", OpenApiTypes.INT, description="How many to skip."),
        ],
        responses={200: s.ResourcePageSerializer, **error_responses(400, 401)},
    )
    def get(self, request):
        query = parse(s.TimeRangeQuerySerializer, request.query_params)
        paginator = BoundedLimitOffsetPagination()
        page = selectors.resources_free_page(
            user=request.user, offset=paginator.get_offset(request), limit=paginator.get_limit(request), **query
        )
        # Aliases are rendered per resource: one query for all of them, not one per row (issue 13).
        prefetch_related_objects(page.items, "aliases")
        return paginator.respond(request, s.ResourceSerializer(page.items, many=True).data, page.total)


BOOKING_CREATE_EXAMPLE = OpenApiExample(
    "Book resource 1 for an hour",
    value={"resource": 1, "start": "2030-06-04T10:00:00+02:00", "end": "2030-06-04T11:00:00+02:00", "note": ""},
    request_only=True,
)
SLOT_TAKEN_EXAMPLE = OpenApiExample(
    "Slot taken",
    value={"code": "slot_taken", "detail": "This time is already booked."},
    response_only=True,
    status_codes=["409"],
)
ALREADY_BOOKED_EXAMPLE = OpenApiExample(
    "Already booked by you (a repeated request)",
    value={"code": "already_booked", "detail": "You have already booked this time (booking #42).", "booking": 42},
    response_only=True,
    status_codes=["409"],
)


class BookingViewSet(viewsets.GenericViewSet):
    """Bookings: a user's own, or everyone's for staff."""

    serializer_class = s.BookingSerializer
    pagination_class = BoundedLimitOffsetPagination
    lookup_value_regex = ID_PATTERN

    @extend_schema(
        summary="List bookings (newest first)",
        parameters=[s.BookingFilterSerializer],
        responses={200: s.BookingSerializer(many=True), **error_responses(400, 401)},
    )
    def list(self, request):
        filters = parse(s.BookingFilterSerializer, request.query_params)
        bookings = selectors.bookings_visible_to(
            user=request.user, status=filters.get("status"), resource_id=filters.get("resource")
        )
        page = self.paginate_queryset(bookings)
        return self.get_paginated_response(s.BookingSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        summary="Book a resource",
        description=(
            "Answers the booking: status `confirmed`, or `pending` when the resource needs approval. "
            "A datetime without an offset is read in the site's time zone."
        ),
        request=s.BookingCreateSerializer,
        responses={201: s.BookingDetailSerializer, **error_responses(400, 401, 409)},
        examples=[BOOKING_CREATE_EXAMPLE, SLOT_TAKEN_EXAMPLE, ALREADY_BOOKED_EXAMPLE],
    )
    def create(self, request):
        booking = services.booking_create(user=request.user, **parse(s.BookingCreateSerializer, request.data))
        return Response(
            s.BookingDetailSerializer(booking, context={"request": request}).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="A booking with its status history",
        parameters=[ID_PARAMETER],
        responses={200: s.BookingDetailSerializer, **error_responses(401, 404)},
    )
    def retrieve(self, request, pk):
        return Response(s.BookingDetailSerializer(self._booking(request, pk), context={"request": request}).data)

    @extend_schema(
        summary="Cancel a booking before it starts",
        parameters=[ID_PARAMETER],
        request=s.ReasonSerializer,
        responses={200: s.BookingDetailSerializer, **error_responses(400, 401, 404)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk):
        reason = parse(s.ReasonSerializer, request.data)["reason"]
        return self._transition(request, pk, services.booking_cancel, reason=reason)

    @extend_schema(
        summary="Check in (picked up / arrived)",
        parameters=[ID_PARAMETER],
        description="Allowed from the check-in window's opening (before the start) until start plus grace.",
        request=None,
        responses={200: s.BookingDetailSerializer, **error_responses(400, 401, 404)},
    )
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request, pk):
        return self._transition(request, pk, services.booking_check_in)

    @extend_schema(
        summary="Finish an active booking early (return)",
        parameters=[ID_PARAMETER],
        description="The rest of the slot becomes free for others.",
        request=None,
        responses={200: s.BookingDetailSerializer, **error_responses(400, 401, 404)},
    )
    @action(detail=True, methods=["post"])
    def finish(self, request, pk):
        return self._transition(request, pk, services.booking_finish)

    @extend_schema(
        summary="Return the item (the owner), or mark it returned (staff)",
        parameters=[ID_PARAMETER],
        description=(
            "Active → completed (before the end, the rest of the slot is freed); overdue → completed, "
            "returned late, which adds a strike to the owner."
        ),
        request=None,
        responses={200: s.BookingDetailSerializer, **error_responses(400, 401, 404)},
    )
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk):
        return self._transition(request, pk, services.booking_return)

    @extend_schema(
        summary="Approve a pending booking (staff)",
        parameters=[ID_PARAMETER],
        request=None,
        responses={200: s.BookingDetailSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated, IsStaff])
    def approve(self, request, pk):
        return self._transition(request, pk, services.booking_approve)

    @extend_schema(
        summary="Reject a pending booking (staff)",
        parameters=[ID_PARAMETER],
        request=s.ReasonSerializer,
        responses={200: s.BookingDetailSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated, IsStaff])
    def reject(self, request, pk):
        reason = parse(s.ReasonSerializer, request.data)["reason"]
        return self._transition(request, pk, services.booking_reject, reason=reason)

    @extend_schema(
        summary="Extend a confirmed or active booking",
        description=(
            "The booking ends `minutes` later, if the new end passes every rule (grid, maximum length, opening "
            "hours, closures, quotas) and the time after it is free. Owner or staff. Refusals: not_extendable "
            "(past its end), wrong_status (pending, overdue, finished), invalid_extension, slot_taken (409), "
            "quota_exceeded (409), booking_changed (409: changed meanwhile), and the booking rules' codes."
        ),
        parameters=[ID_PARAMETER],
        request=s.ExtendSerializer,
        responses={200: s.BookingDetailSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def extend(self, request, pk):
        minutes = parse(s.ExtendSerializer, request.data)["minutes"]
        return self._transition(request, pk, reschedule.booking_extend, minutes=minutes)

    @extend_schema(
        summary="Move a booking before it starts",
        description=(
            "The same booking gets the new start and end, by every rule of a new booking; a refused move leaves "
            "it untouched. A resource that needs approval makes it pending again (unless staff move it). "
            "Owner or staff. Refusals: not_movable (already started), wrong_status, slot_taken (409), "
            "quota_exceeded (409), booking_changed (409), and the booking rules' codes."
        ),
        parameters=[ID_PARAMETER],
        request=s.MoveSerializer,
        responses={200: s.BookingDetailSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk):
        return self._transition(request, pk, reschedule.booking_move, **parse(s.MoveSerializer, request.data))

    @extend_schema(
        summary="Take a held waitlist offer",
        description=(
            "The holder only: held → confirmed, or pending when the resource needs approval. Refusals: "
            "not_allowed (403: not the holder), offer_lapsed (409: not taken in time, gone to the next waiter), "
            "offer_stale (409: declined or taken already)."
        ),
        parameters=[ID_PARAMETER],
        request=None,
        responses={200: s.BookingDetailSerializer, **error_responses(401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def take(self, request, pk):
        return self._transition(request, pk, waitlist.offer_take)

    @extend_schema(
        summary="Decline a held waitlist offer",
        description="The holder only: held → cancelled; the time is offered to the next waiter. Refusals as take.",
        parameters=[ID_PARAMETER],
        request=None,
        responses={200: s.BookingDetailSerializer, **error_responses(401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk):
        return self._transition(request, pk, waitlist.offer_decline)

    def _booking(self, request, pk):
        booking = selectors.booking_get(booking_id=int(pk), user=request.user)
        if booking is None:
            raise exceptions.NotFound()
        return booking

    def _transition(self, request, pk, service, **arguments):
        booking = service(booking=self._booking(request, pk), by=request.user, **arguments)
        return Response(s.BookingDetailSerializer(booking, context={"request": request}).data)


class WaitlistViewSet(viewsets.GenericViewSet):
    """The user's own waitlist entries: join when a time is taken, list, leave."""

    serializer_class = s.WaitlistEntrySerializer
    lookup_value_regex = ID_PATTERN

    @extend_schema(
        summary="My waitlist entries (waiting, or holding an offer), soonest first",
        responses={200: s.WaitlistEntrySerializer(many=True), **error_responses(401)},
    )
    def list(self, request):
        entries = waitlist.user_waitlist(user=request.user)
        return Response(s.WaitlistEntrySerializer(entries, many=True).data)

    @extend_schema(
        summary="Join the waitlist for a taken time",
        description=(
            "When any of the time becomes free and the whole interval is bookable, the first waiter is offered it: "
            "a booking in status `held` until `held_until` (WAITLIST_HOLD_MINUTES), to take or decline "
            "(POST /api/bookings/{id}/take/ or /decline/). Joining the same interval again answers the same entry. "
            "Refusals: waitlist_slot_free (409: the time is free, book it), waitlist_full (409: "
            "WAITLIST_MAX_ENTRIES reached), not_permitted (403), and the booking rules' codes (400)."
        ),
        request=s.WaitlistJoinSerializer,
        responses={201: s.WaitlistEntrySerializer, **error_responses(400, 401, 403, 409)},
    )
    def create(self, request):
        entry = waitlist.waitlist_join(user=request.user, **parse(s.WaitlistJoinSerializer, request.data))
        return Response(s.WaitlistEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Leave the waitlist",
        description="An entry holding an offer declines it. Refusal: waitlist_entry_gone (409: not open any more).",
        parameters=[ID_PARAMETER],
        responses={204: None, **error_responses(401, 404, 409)},
    )
    def destroy(self, request, pk):
        entry = waitlist.waitlist_entry_get(entry_id=int(pk), user=request.user)
        if entry is None:
            raise exceptions.NotFound()
        waitlist.waitlist_leave(entry=entry, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AccessRequestViewSet(viewsets.GenericViewSet):
    """Access requests: a user's own, or everyone's for staff, who decide them."""

    serializer_class = s.AccessRequestSerializer
    pagination_class = BoundedLimitOffsetPagination
    lookup_value_regex = ID_PATTERN

    @extend_schema(
        summary="List access requests (newest first)",
        responses={200: s.AccessRequestSerializer(many=True), **error_responses(401)},
    )
    def list(self, request):
        page = self.paginate_queryset(policies.access_requests_visible_to(user=request.user))
        return self.get_paginated_response(s.AccessRequestSerializer(page, many=True).data)

    @extend_schema(
        summary="An access request",
        parameters=[ID_PARAMETER],
        responses={200: s.AccessRequestSerializer, **error_responses(401, 404)},
    )
    def retrieve(self, request, pk):
        return Response(s.AccessRequestSerializer(self._request(request, pk)).data)

    @extend_schema(
        summary="Approve an access request (staff): the user joins the resource's group",
        description="Refused with no_group_to_grant when the resource is open only to Telegram chats.",
        parameters=[ID_PARAMETER],
        request=None,
        responses={200: s.AccessRequestSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated, IsStaff])
    def approve(self, request, pk):
        decided = policies.access_request_approve(request=self._request(request, pk), by=request.user)
        return Response(s.AccessRequestSerializer(decided).data)

    @extend_schema(
        summary="Reject an access request (staff)",
        parameters=[ID_PARAMETER],
        request=s.ReasonSerializer,
        responses={200: s.AccessRequestSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated, IsStaff])
    def reject(self, request, pk):
        reason = parse(s.ReasonSerializer, request.data)["reason"]
        decided = policies.access_request_reject(request=self._request(request, pk), by=request.user, reason=reason)
        return Response(s.AccessRequestSerializer(decided).data)

    def _request(self, request, pk):
        found = policies.access_request_get(request_id=int(pk), user=request.user)
        if found is None:
            raise exceptions.NotFound()
        return found


class SuspensionViewSet(viewsets.GenericViewSet):
    """Suspensions from booking (too many strikes): a user's own, or everyone's for staff, who lift them."""

    serializer_class = s.SuspensionSerializer
    pagination_class = BoundedLimitOffsetPagination
    lookup_value_regex = ID_PATTERN

    @extend_schema(
        summary="List suspensions (newest first)",
        responses={200: s.SuspensionSerializer(many=True), **error_responses(401)},
    )
    def list(self, request):
        page = self.paginate_queryset(selectors.suspensions_visible_to(user=request.user))
        return self.get_paginated_response(s.SuspensionSerializer(page, many=True).data)

    @extend_schema(
        summary="Lift a suspension (staff): the user may book again at once",
        description="Refused with not_suspended (409) when it was lifted already or is over.",
        parameters=[ID_PARAMETER],
        request=None,
        responses={200: s.SuspensionSerializer, **error_responses(401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated, IsStaff])
    def lift(self, request, pk):
        found = selectors.suspension_get(suspension_id=int(pk), user=request.user)
        if found is None:
            raise exceptions.NotFound()
        return Response(s.SuspensionSerializer(services.suspension_lift(suspension=found, by=request.user)).data)


class MyQuotasView(APIView):
    """The fair-use limits that apply to the requesting user, with their usage."""

    @extend_schema(
        summary="My quotas: each limit that applies, how much is used, when it resets",
        description="Empty for staff, who are exempt.",
        parameters=[s.QuotaQuerySerializer],
        responses={200: s.QuotaUsageSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request):
        resource_id = parse(s.QuotaQuerySerializer, request.query_params).get("resource")
        resource = None
        if resource_id is not None:
            resource = selectors.resource_get(resource_id=resource_id)
            if resource is None:
                raise exceptions.NotFound()
        usage = policies.user_quota_usage(user=request.user, resource=resource)
        return Response(s.QuotaUsageSerializer(usage, many=True).data)


class PoolViewSet(viewsets.GenericViewSet):
    """Pools of identical units, booked by count: one request, one booking per unit."""

    serializer_class = s.PoolSerializer
    pagination_class = BoundedLimitOffsetPagination
    lookup_value_regex = ID_PATTERN

    @extend_schema(summary="List pools", responses={200: s.PoolSerializer(many=True), **error_responses(401)})
    def list(self, request):
        page = self.paginate_queryset(pools.pools_list())
        return self.get_paginated_response(s.PoolSerializer(page, many=True).data)

    @extend_schema(
        summary="How many units of a pool are free, per interval of a day",
        description=(
            "Within each interval the same units are free throughout; intervals with no free unit are left out. "
            "Empty when the units are restricted to groups the user is not in."
        ),
        parameters=[ID_PARAMETER, s.DayQuerySerializer],
        responses={200: s.PoolAvailabilitySerializer, **error_responses(400, 401, 404)},
    )
    @action(detail=True, methods=["get"])
    def availability(self, request, pk):
        pool = self._pool(pk)
        day = parse(s.DayQuerySerializer, request.query_params).get("date") or today_in()
        units = pools.pool_units(pool=pool)
        bookable = policies.resources_only_bookable(user=request.user, resources=units[:1])
        free = pools.pool_free_counts(pool=pool, day=day) if bookable else []
        return Response(s.PoolAvailabilitySerializer({"pool": pool.pk, "date": day, "free": free}).data)

    @extend_schema(
        summary="Book a number of units of a pool",
        description=(
            "Picks the free units (lowest id first) and books each for the whole time, all or nothing. "
            "Fewer free units than asked: 409 not_enough_units (the detail says how many are free); "
            "a quantity outside 1 to the pool's size: 400 invalid_quantity."
        ),
        parameters=[ID_PARAMETER],
        request=s.PoolBookingCreateSerializer,
        responses={201: s.PoolRequestSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def bookings(self, request, pk):
        pool = self._pool(pk)
        made = pools.pool_book(user=request.user, pool=pool, **parse(s.PoolBookingCreateSerializer, request.data))
        return Response(
            s.PoolRequestSerializer(made, context={"request": request}).data, status=status.HTTP_201_CREATED
        )

    def _pool(self, pk):
        pool = pools.pool_get(pool_id=int(pk))
        if pool is None:
            raise exceptions.NotFound()
        return pool


class PoolRequestViewSet(viewsets.GenericViewSet):
    """Pool requests: a user's own, or everyone's for staff; cancel or return all their units at once."""

    serializer_class = s.PoolRequestSerializer
    lookup_value_regex = ID_PATTERN

    @extend_schema(
        summary="My upcoming pool requests with their live unit bookings",
        responses={200: s.PoolRequestSerializer(many=True), **error_responses(401)},
    )
    def list(self, request):
        found = pools.pool_requests_of(user=request.user)
        return Response(s.PoolRequestSerializer(found, many=True, context={"request": request}).data)

    @extend_schema(
        summary="A pool request with all its unit bookings",
        parameters=[ID_PARAMETER],
        responses={200: s.PoolRequestSerializer, **error_responses(401, 404)},
    )
    def retrieve(self, request, pk):
        return self._answer(request, self._request(request, pk))

    @extend_schema(
        summary="Cancel every unit of the request that has not started",
        description="A single unit is cancelled with POST /api/bookings/{id}/cancel/.",
        parameters=[ID_PARAMETER],
        request=s.ReasonSerializer,
        responses={200: s.PoolRequestSerializer, **error_responses(400, 401, 404)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk):
        reason = parse(s.ReasonSerializer, request.data)["reason"]
        pools.pool_request_cancel(request=self._request(request, pk), by=request.user, reason=reason)
        return self._answer(request, self._request(request, pk))

    @extend_schema(
        summary="Return every unit of the request that is out",
        description="A single unit is returned with POST /api/bookings/{id}/finish/.",
        parameters=[ID_PARAMETER],
        request=None,
        responses={200: s.PoolRequestSerializer, **error_responses(400, 401, 404)},
    )
    @action(detail=True, methods=["post"], url_path="return")
    def return_units(self, request, pk):
        pools.pool_request_return(request=self._request(request, pk), by=request.user)
        return self._answer(request, self._request(request, pk))

    @extend_schema(
        summary="Hand out another free unit of the pool for one of the request's bookings (at check-in)",
        parameters=[ID_PARAMETER],
        request=s.PoolUnitSwapSerializer,
        responses={200: s.PoolRequestSerializer, **error_responses(400, 401, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def swap(self, request, pk):
        found = self._request(request, pk)
        asked = parse(s.PoolUnitSwapSerializer, request.data)
        booking = next((b for b in found.bookings.all() if b.pk == asked["booking"]), None)
        unit = selectors.resource_get(resource_id=asked["unit"])
        if booking is None or unit is None:
            raise exceptions.NotFound()
        pools.pool_unit_swap(booking=booking, unit=unit, by=request.user)
        return self._answer(request, self._request(request, pk))

    def _request(self, request, pk):
        found = pools.pool_request_get(request_id=int(pk), user=request.user)
        if found is None:
            raise exceptions.NotFound()
        return found

    def _answer(self, request, found):
        return Response(s.PoolRequestSerializer(found, context={"request": request}).data)


class SeriesViewSet(viewsets.GenericViewSet):
    """Recurring series: a rule plus one ordinary booking per occurrence; a user's own, or everyone's for staff."""

    serializer_class = s.SeriesSerializer
    pagination_class = BoundedLimitOffsetPagination
    lookup_value_regex = ID_PATTERN

    @extend_schema(
        summary="List series (newest first) with their occurrences",
        responses={200: s.SeriesSerializer(many=True), **error_responses(401)},
    )
    def list(self, request):
        page = self.paginate_queryset(series.series_visible_to(user=request.user))
        return self.get_paginated_response(s.SeriesSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        summary="Preview or book a recurring series",
        description=(
            "`mode=preview` (the default) books nothing and answers every occurrence with `outcome` "
            '"ok" or the error code that refuses it (slot_taken, outside_opening_hours, closed, '
            "quota_exceeded, …), computed by the same rules a booking meets, earlier occurrences counting "
            "against quotas. `all_or_nothing` books every occurrence or none (409 series_conflict, with "
            "`occurrences`); `skip_conflicts` books the free ones (201, each occurrence with its outcome). "
            "At most SERIES_MAX_OCCURRENCES (52) occurrences, all within the resource's booking horizon; "
            "the rule is expanded on the site's wall clock, so 09:00 stays 09:00 across a clock change."
        ),
        request=s.SeriesCreateSerializer,
        responses={
            200: s.SeriesResultSerializer,
            201: s.SeriesResultSerializer,
            **error_responses(400, 401, 403, 409),
        },
    )
    def create(self, request):
        asked = parse(s.SeriesCreateSerializer, request.data)
        result = series.series_create(user=request.user, **asked)
        code = status.HTTP_200_OK if asked["mode"] == series.PREVIEW else status.HTTP_201_CREATED
        return self._answer(request, result, code)

    @extend_schema(
        summary="A series with its occurrences",
        parameters=[ID_PARAMETER],
        responses={200: s.SeriesSerializer, **error_responses(401, 404)},
    )
    def retrieve(self, request, pk):
        return Response(s.SeriesSerializer(self._series(request, pk), context={"request": request}).data)

    @extend_schema(
        summary="Cancel a series: this occurrence and all following, or all",
        description=(
            "`from`: the start of an occurrence; it and every later one are cancelled. Omitted: every "
            "occurrence that has not started. A single occurrence is cancelled with POST "
            "/api/bookings/{id}/cancel/. The user gets one summary message."
        ),
        parameters=[ID_PARAMETER],
        request=s.SeriesCancelSerializer,
        responses={200: s.SeriesSerializer, **error_responses(400, 401, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk):
        asked = parse(s.SeriesCancelSerializer, request.data)
        found = self._series(request, pk)
        series.series_cancel(series=found, by=request.user, start_from=asked["from"], reason=asked["reason"])
        return Response(s.SeriesSerializer(self._series(request, pk), context={"request": request}).data)

    @extend_schema(
        summary="Extend a series: book the rule's next occurrences (the free ones)",
        parameters=[ID_PARAMETER],
        request=s.SeriesExtendSerializer,
        responses={201: s.SeriesResultSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def extend(self, request, pk):
        asked = parse(s.SeriesExtendSerializer, request.data)
        result = series.series_extend(series=self._series(request, pk), by=request.user, count=asked["count"])
        return self._answer(request, result, status.HTTP_201_CREATED)

    def _series(self, request, pk):
        found = series.series_get(series_id=int(pk), user=request.user)
        if found is None:
            raise exceptions.NotFound()
        return found

    def _answer(self, request, result, code):
        if result.series is not None:
            result.series = series.series_get(series_id=result.series.pk)
        body = s.SeriesResultSerializer(result, context={"request": request}).data
        return Response(body, status=code)


def api_not_found(request, *args, **kwargs):
    """Any other path under /api/: the API's JSON 404, not Django's HTML page."""
    return JsonResponse(error_body(exceptions.NotFound.default_code, exceptions.NotFound.default_detail), status=404)
