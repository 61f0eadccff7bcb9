"""Pagination of the API's lists: ?limit= and ?offset=, bounded.

DRF accepts any positive offset, and PostgreSQL answers one beyond bigint
with an error; clamping it (and the page size) keeps every query valid.
"""

from rest_framework.pagination import LimitOffsetPagination

MAX_OFFSET = 10**9


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200

    def get_offset(self, request):
        return min(super().get_offset(request), MAX_OFFSET)
