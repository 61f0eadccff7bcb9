"""REST: a resource's day timeline (bookings.timeline) as segments, in the requesting user's zone."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from bookings import selectors, timeline
from bookings.api import serializers as s
from bookings.api.views import ID_PARAMETER, error_responses, parse
from bookings.rules import today_in


class SegmentSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    state = serializers.ChoiceField(
        choices=timeline.STATES,
        help_text="free, booked, own (the requesting user's), pending (approval), held, closed, outside (hours).",
    )


class ResourceTimelineSerializer(serializers.Serializer):
    resource = serializers.IntegerField()
    date = serializers.DateField(help_text="The local date in `time_zone`.")
    time_zone = serializers.CharField(help_text="The requesting user's zone, which the day is read in.")
    start = serializers.DateTimeField(help_text="The day's local midnight.")
    end = serializers.DateTimeField(help_text="The next local midnight (23 or 25 hours later on DST days).")
    segments = SegmentSerializer(many=True)


class ResourceTimelineView(APIView):
    """The day of one resource cut into segments: what the bot's Day view picture shows."""

    @extend_schema(
        summary="A resource's day timeline (free, booked, own, pending, held, closed, outside hours)",
        parameters=[ID_PARAMETER, s.DayQuerySerializer],
        responses={200: ResourceTimelineSerializer, **error_responses(400, 401, 404)},
    )
    def get(self, request, id):
        resource = selectors.resource_get(resource_id=int(id))
        if resource is None:
            raise exceptions.NotFound()
        zone = request.user.zone
        day = parse(s.DayQuerySerializer, request.query_params).get("date") or today_in(zone)
        found = timeline.day_timeline(resources=[resource], day=day, zone=zone, viewer=request.user)
        body = {
            "resource": resource.pk,
            "date": day,
            "time_zone": str(zone),
            "start": found.start.astimezone(zone),
            "end": found.end.astimezone(zone),
            "segments": [
                {"start": seg.start.astimezone(zone), "end": seg.end.astimezone(zone), "state": seg.state}
                for seg in found.rows[0].segments
            ],
        }
        with timezone.override(zone):  # times are written with the user's offset
            return Response(ResourceTimelineSerializer(body).data)
