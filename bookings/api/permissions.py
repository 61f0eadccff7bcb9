"""Permissions of the REST API beyond "authenticated" (the project default)."""

from rest_framework.permissions import BasePermission

from bookings import errors


class IsStaff(BasePermission):
    """Staff-only actions (approve, reject). Refused with the domain's "not_allowed"."""

    message = errors.NotAllowed.default_message

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_staff)
