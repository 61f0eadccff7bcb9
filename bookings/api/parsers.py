"""Request body parsers of the REST API: DRF's, with a size and nesting limit checked before parsing.

A body larger than Django's DATA_UPLOAD_MAX_MEMORY_SIZE is answered 413
"too_large" without being read further; JSON nested deeper than MAX_DEPTH
is answered 400 "invalid" before `json` sees it (its recursive decoder
would raise RecursionError, a 500). Configured as
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"].
"""

import io
import re

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, parsers, status

# No request body of the API nests more than two levels; 32 leaves room for clients' envelopes.
MAX_DEPTH = 32

# A JSON string (skipped whole, so brackets inside it do not count) or a bracket. The string's
# closing quote is optional, so an unterminated one is consumed to the end: the scan stays linear.
_STRING_OR_BRACKET = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "too_large"


def read_limited(stream):
    """The whole body, or BodyTooLarge as soon as it passes DATA_UPLOAD_MAX_MEMORY_SIZE."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None:
        return stream.read()
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise BodyTooLarge()
    return body


def check_depth(body, *, limit=MAX_DEPTH):
    """Raise ParseError (code "invalid") if JSON `body` nests arrays or objects deeper than `limit`.

    Only counts brackets outside strings; it does not validate the JSON, the parser does that next.
    """
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                raise exceptions.ParseError(
                    _("The JSON body nests deeper than %(limit)s levels.") % {"limit": limit}, code="invalid"
                )
        elif token in (b"]", b"}"):
            depth -= 1


def _check_declared_length(parser_context):
    request = (parser_context or {}).get("request")
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
    except ValueError:
        declared = 0
    if limit is not None and declared > limit:
        raise BodyTooLarge()


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        body = read_limited(stream)
        check_depth(body)
        return super().parse(io.BytesIO(body), media_type, parser_context)


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        return super().parse(io.BytesIO(read_limited(stream)), media_type, parser_context)


class MultiPartParser(parsers.MultiPartParser):
    """Django's multipart parser limits the fields but not the files: refuse by the declared length first."""

    def parse(self, stream, media_type=None, parser_context=None):
        _check_declared_length(parser_context)
        return super().parse(stream, media_type, parser_context)
