"""Routes of the calendar feeds, included under /calendar/ by core.urls."""

from django.urls import re_path

from bookings import feed_views
from bookings.feeds import TOKEN_PATTERN

urlpatterns = [
    re_path(rf"^resource/(?P<token>{TOKEN_PATTERN})\.ics$", feed_views.resource_feed, name="calendar-resource-feed"),
    re_path(rf"^(?P<token>{TOKEN_PATTERN})\.ics$", feed_views.user_feed, name="calendar-feed"),
]
