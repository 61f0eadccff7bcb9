"""Routes of the REST API, included under /api/ by core.urls.

Paths work with and without the trailing slash: a POST to /api/bookings
must not meet a redirect that drops its body. Any other path answers the
API's JSON 404.
"""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from bookings.api import feeds, timeline, views


class OptionalSlashRouter(SimpleRouter):
    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("resources", views.ResourceViewSet, basename="resource")
router.register("bookings", views.BookingViewSet, basename="booking")
router.register("access-requests", views.AccessRequestViewSet, basename="access-request")
router.register("suspensions", views.SuspensionViewSet, basename="suspension")


router.register("pools", views.PoolViewSet, basename="pool")
router.register("pool-requests", views.PoolRequestViewSet, basename="pool-request")
router.register("series", views.SeriesViewSet, basename="series")
router.register("waitlist", views.WaitlistViewSet, basename="waitlist")

urlpatterns = [
    *router.urls,
    re_path(r"^availability/?$", views.AvailabilityView.as_view(), name="availability"),
    re_path(r"^me/quotas/?$", views.MyQuotasView.as_view(), name="my-quotas"),
    re_path(r"^me/calendar-link/?$", feeds.MyCalendarLinkView.as_view(), name="my-calendar-link"),
    re_path(
        r"^resources/(?P<id>[0-9]+)/timeline/?$", timeline.ResourceTimelineView.as_view(), name="resource-timeline"
    ),
    re_path(r"", views.api_not_found),
]
