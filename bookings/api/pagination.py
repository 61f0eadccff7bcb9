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

    def respond(self, request, items_data, total):
        """The paginated answer for a page the caller cut itself (in the same query that counted it)."""
        self.request, self.count = request, total
        self.limit, self.offset = self.get_limit(request), self.get_offset(request)
        return self.get_paginated_response(items_data)
