"""Hostile request bodies: deep nesting, huge strings and numbers, bodies over the size limit, invalid UTF-8.

Each is a 4xx in the API's JSON error shape on every POST endpoint, and
nothing is written; none reaches Python's recursive JSON decoder as a 500.
"""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings.api.parsers import MAX_DEPTH, check_depth
from bookings.models import Booking
from tests.api.routes import ENDPOINTS

pytestmark = pytest.mark.django_db

POST_ENDPOINTS = [path for path in ENDPOINTS if path.startswith("/api/bookings/") and path != "/api/bookings/{id}/"]
# The endpoints that read their body (the others answer without parsing it, so any body is harmless there).
READ_BODY = [
    "/api/bookings/",
    "/api/bookings/{id}/cancel/",
    "/api/bookings/{id}/reject/",
    "/api/bookings/{id}/extend/",
    "/api/bookings/{id}/move/",
]
DEEP = 100_000


def post_paths(booking_id):
    return [(path in READ_BODY, path.format(id=booking_id)) for path in POST_ENDPOINTS]


@pytest.fixture
def booking_id(book, user, studio, local_day):
    return book(user, studio, local_day(10)).pk


def assert_json_error(response, status, code=None):
    assert response.status_code == status, response.content
    data = response.json()
    assert isinstance(data["code"], str) and isinstance(data["detail"], str) and data["detail"]
    if code:
        assert data["code"] == code
    return data


@pytest.mark.parametrize("opening, closing", [("[", "]"), ('{"a":', "}")])
def test_json_nested_100000_deep_is_400_invalid_on_every_post_endpoint(staff_api, booking_id, opening, closing):
    body = opening * DEEP + "1" + closing * DEEP
    for reads_body, path in post_paths(booking_id):
        response = staff_api.post(path, body, content_type="application/json")

        if reads_body:
            data = assert_json_error(response, 400, "invalid")
            assert f"deeper than {MAX_DEPTH} levels" in data["detail"]
        else:
            assert_json_error(response, response.status_code)
            assert response.status_code < 500
    assert Booking.objects.get().status == "confirmed"


def test_json_at_the_depth_limit_is_parsed_and_judged_by_the_serializer(api):
    nested = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)  # inside the body's object: MAX_DEPTH levels in all

    response = api.post("/api/bookings/", '{"resource": ' + nested + "}", content_type="application/json")

    assert_json_error(response, 400, "unknown_resource")


def test_brackets_inside_strings_do_not_count_as_nesting():
    check_depth(json.dumps({"note": "[" * DEEP, "escaped": '\\"' + "{" * DEEP}).encode())


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_a_body_over_the_upload_limit_is_413_too_large(staff_api, booking_id, settings, content_type):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"reason": "x" * 20_000}) if content_type == "application/json" else "reason=" + "x" * 20_000
    for reads_body, path in post_paths(booking_id):
        response = staff_api.post(path, body, content_type=content_type)

        if reads_body:
            assert_json_error(response, 413, "too_large")
        else:
            assert response.status_code < 500
    assert Booking.objects.get().status == "confirmed"


def test_a_multipart_body_over_the_upload_limit_is_413_too_large(api, booking_id, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000

    response = api.post("/api/bookings/", {"note": "x" * 20_000, "resource": "1"})  # multipart, the client's default

    assert_json_error(response, 413, "too_large")


@pytest.mark.parametrize(
    "body",
    [
        b'{"resource": 1, "start": "\xff\xfe", "end": "x"}',  # invalid UTF-8
        b'{"resource": ' + b"9" * 100_000 + b"}",  # more digits than Python reads as an int
        b'{"resource": 1e999999, "start": "2030-01-01T10:00", "end": "2030-01-01T11:00"}',  # a float that is inf
        b'{"note": "' + b"x" * 1_000_000 + b'"}',  # a huge string, under the size limit
        b"[" * 10 + b'"unterminated',
    ],
)
def test_hostile_json_is_answered_in_the_error_shape_on_every_post_endpoint(staff_api, booking_id, body):
    for _reads_body, path in post_paths(booking_id):
        response = staff_api.post(path, body, content_type="application/json")

        assert response.status_code < 500, (path, response.content[:200])
        if response.status_code >= 400:
            assert_json_error(response, response.status_code)


deep_values = st.recursive(
    st.none() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=2),
    max_leaves=4,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(POST_ENDPOINTS),
    depth=st.integers(min_value=1, max_value=5_000),
    kind=st.sampled_from(["array", "object", "mixed"]),
    leaf=st.one_of(
        deep_values.map(json.dumps),
        st.integers(min_value=10**30).map(str),
        st.text(max_size=2_000).map(json.dumps),
        st.binary(max_size=20).map(lambda b: b.decode("latin-1")),
    ),
)
def test_random_nesting_and_leaves_never_cause_a_500(staff_api, booking_id, path, depth, kind, leaf):
    opening = {"array": ["["], "object": ['{"k":'], "mixed": ["[", '{"k":']}[kind]
    openings = [opening[i % len(opening)] for i in range(depth)]
    closings = ["]" if o == "[" else "}" for o in reversed(openings)]
    body = ("".join(openings) + leaf + "".join(closings)).encode("utf-8", "surrogatepass")

    response = staff_api.post(path.format(id=booking_id), body, content_type="application/json")

    assert response.status_code < 500, response.content[:200]
    if response.status_code >= 400:
        assert_json_error(response, response.status_code)
