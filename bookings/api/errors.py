"""Every API error as one JSON shape: {"code": …, "detail": …[, "fields": {…}]}.

This is the one place where a domain error (bookings.errors.BookingError)
becomes an HTTP answer: 409 for a slot that is taken, a quota used up or an
access request already open, 403 for an action the user may not take or a
resource they may not book, 400 for every other rule violation (closed, …). DRF's own errors
(401, 403, 404, 405, malformed input) get the same shape, so a client reads
`code` and never parses prose. Messages follow the request's language
(LocaleMiddleware activates it before the view runs). A database that cannot
be reached is 503 "unavailable" with Retry-After (core/middleware.py has the
same answer for the views outside DRF).
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from bookings import errors
from bookings.api.parsers import BodyTooLarge
from core.middleware import DATABASE_ERRORS, unavailable_body, unavailable_headers

# Domain errors that are not "your request breaks a rule" (400).
DOMAIN_ERROR_STATUS = {
    errors.SlotTaken: status.HTTP_409_CONFLICT,
    errors.NotAllowed: status.HTTP_403_FORBIDDEN,
    errors.NotPermitted: status.HTTP_403_FORBIDDEN,
    errors.QuotaExceeded: status.HTTP_409_CONFLICT,
    errors.AccessRequestPending: status.HTTP_409_CONFLICT,
    errors.OutOfService: status.HTTP_409_CONFLICT,
    errors.Suspended: status.HTTP_403_FORBIDDEN,
    errors.NotSuspended: status.HTTP_409_CONFLICT,
    errors.NotEnoughUnits: status.HTTP_409_CONFLICT,
    errors.SeriesConflict: status.HTTP_409_CONFLICT,
    errors.SeriesNothingFree: status.HTTP_409_CONFLICT,
    errors.SeriesNothingToCancel: status.HTTP_409_CONFLICT,
    errors.SeriesNothingToExtend: status.HTTP_409_CONFLICT,
    errors.BookingChanged: status.HTTP_409_CONFLICT,
    errors.WaitlistSlotFree: status.HTTP_409_CONFLICT,
    errors.WaitlistFull: status.HTTP_409_CONFLICT,
    errors.WaitlistEntryGone: status.HTTP_409_CONFLICT,
    errors.OfferStale: status.HTTP_409_CONFLICT,
    errors.OfferLapsed: status.HTTP_409_CONFLICT,
}

# DRF names a refused permission "permission_denied"; the API uses the
# domain's code for the same thing, so clients match one code.
NOT_ALLOWED = errors.NotAllowed.code


def exception_handler(exc, context):
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: domain and DRF errors → JSON error body.

    A database that cannot be reached is 503 "unavailable". Anything else is
    a bug and is left to Django (a 500 that Sentry sees).
    """
    if isinstance(exc, errors.BookingError):
        body = error_body(exc.code, exc.message)
        if isinstance(exc, errors.AlreadyBooked):
            body["booking"] = exc.booking.pk  # a repeated request: here is the booking it made
        if isinstance(exc, errors.Suspended):
            body["until"] = exc.params["until_at"]  # when the user may book again, for programs
        if getattr(exc, "occurrences", None) is not None:
            body["occurrences"] = occurrences_body(exc.occurrences)  # which occurrences refused a series
        return Response(body, status=domain_error_status(exc))
    if isinstance(exc, DATABASE_ERRORS):
        return Response(unavailable_body(), status=status.HTTP_503_SERVICE_UNAVAILABLE, headers=unavailable_headers())
    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)  # keeps headers: WWW-Authenticate, Allow, Retry-After
    if response is not None:
        response.data = api_exception_body(exc)
    return response


def occurrences_body(occurrences):
    """A refused series' occurrences, as the series endpoint answers them (start, end, outcome, detail)."""
    return [
        {
            "start": o.start.isoformat(),
            "end": o.end.isoformat(),
            "outcome": "ok" if o.ok else o.code,
            "detail": o.message,
            "booking": None,
        }
        for o in occurrences
    ]


def domain_error_status(exc):
    return next(
        (code for error_class, code in DOMAIN_ERROR_STATUS.items() if isinstance(exc, error_class)),
        status.HTTP_400_BAD_REQUEST,
    )


def error_body(code, detail, fields=None):
    body = {"code": code, "detail": str(detail)}
    if fields:
        body["fields"] = fields
    return body


def api_exception_body(exc):
    if isinstance(exc, exceptions.ValidationError):
        return validation_error_body(exc.detail)
    if isinstance(exc, exceptions.PermissionDenied):
        return error_body(NOT_ALLOWED, exc.detail)
    return error_body(getattr(exc.detail, "code", None) or exc.default_code, exc.detail)


def validation_error_body(detail):
    """The first failing field names the error; "fields" lists every message by field.

    Nested input (a list or object where a value was expected) is flattened
    to dotted names, e.g. "start" or "non_field_errors".
    """
    problems = list(_flatten(detail))
    if not problems:
        return error_body("invalid", _("Invalid input."))
    fields = {}
    for name, message in problems:
        fields.setdefault(name, []).append(str(message))
    first_name, first_message = problems[0]
    code = getattr(first_message, "code", None) or "invalid"
    detail_text = first_message if first_name == "non_field_errors" else f"{first_name}: {first_message}"
    return error_body(code, detail_text, fields)


def _flatten(detail, prefix=""):
    """(field name, ErrorDetail) pairs of a DRF ValidationError's nested detail."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            yield from _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(detail, list):
        for value in detail:
            yield from _flatten(value, prefix)
    else:
        yield prefix or "non_field_errors", detail


def _as_api_exception(exc):
    """Django's own 404, 403 and too-large body as the DRF exceptions they stand for."""
    if isinstance(exc, RequestDataTooBig):
        return BodyTooLarge()
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    return exc
