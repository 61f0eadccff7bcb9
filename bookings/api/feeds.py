"""REST: the requesting user's calendar feed link (GET shows it, POST renews it, DELETE revokes it)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from bookings import feeds
from bookings.api.views import error_responses


class CalendarLinkSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="The secret iCalendar feed URL to subscribe to.")
    created_at = serializers.DateTimeField()


def _link(row):
    return CalendarLinkSerializer({"url": feeds.calendar_feed_url(row=row), "created_at": row.created_at}).data


class MyCalendarLinkView(APIView):
    """The user's personal iCalendar feed URL (their bookings, live and of the last 30 days)."""

    @extend_schema(
        summary="My calendar feed link (made on first request)",
        responses={200: CalendarLinkSerializer, **error_responses(401)},
    )
    def get(self, request):
        return Response(_link(feeds.calendar_token_get_or_create(user=request.user)))

    @extend_schema(
        summary="Renew my calendar feed link: a new URL, the old one stops working",
        request=None,
        responses={201: CalendarLinkSerializer, **error_responses(401)},
    )
    def post(self, request):
        return Response(_link(feeds.calendar_token_renew(user=request.user)), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Revoke my calendar feed link (a later GET makes a new one)",
        request=None,
        responses={204: None, **error_responses(401)},
    )
    def delete(self, request):
        feeds.calendar_token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
