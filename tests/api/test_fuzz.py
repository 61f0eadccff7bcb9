"""No input makes the API answer 500: random bodies, query strings, paths and methods.

Every answer below 500 must also be the API's JSON error shape when it is
an error, so a client can always read `code`.
"""

import json
from datetime import timedelta
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.routes import ENDPOINTS

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

FIELDS = ["resource", "start", "end", "note", "reason", "date", "kind", "category", "status", "limit", "offset"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
datetime_like = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.dates().map(lambda d: d.isoformat()),
)
field_values = st.one_of(json_values, datetime_like, st.integers(min_value=-2, max_value=2**70), st.text())


@pytest.fixture
def world(make_resource, book, user, other_user, local_day):
    """Resources of every sort and bookings in several statuses for the fuzzer to hit."""
    open_all_day = make_resource(hours=None, name="Open", requires_approval=True, buffer_minutes=15)
    make_resource(name="Office hours", kind="space", category="Rooms", requires_check_in=True)
    make_resource(name="Retired", is_active=False)
    started = local_day(10, days=-1)
    book(user, open_all_day, local_day(10))
    book(other_user, open_all_day, local_day(14))
    book(user, make_resource(hours=None), started, started + timedelta(hours=1), now=started - timedelta(hours=2))


def paths(ids):
    return st.builds(
        lambda template, id_: template.format(id=quote(str(id_), safe="")),
        st.sampled_from(ENDPOINTS),
        st.one_of(ids, st.integers(min_value=-1, max_value=10**25), st.text(min_size=1, max_size=10)),
    )


def assert_answered(response):
    assert response.status_code < 500, response.content
    if response.status_code >= 400 and response.content:  # HEAD answers carry no body
        data = response.json()
        assert isinstance(data["code"], str) and isinstance(data["detail"], str)


def client_for(choice, anonymous, api, staff_api):
    return {"anonymous": anonymous, "user": api, "staff": staff_api}[choice]


who = st.sampled_from(["anonymous", "user", "staff"])


@FUZZ
@given(
    who=who,
    path=paths(st.integers(min_value=1, max_value=8)),
    payload=st.one_of(json_values, st.dictionaries(st.sampled_from(FIELDS), field_values, max_size=5)),
)
def test_random_json_bodies_never_cause_a_500(world, anonymous, api, staff_api, who, path, payload):
    client = client_for(who, anonymous, api, staff_api)

    response = client.post(path, json.dumps(payload), content_type="application/json")

    assert_answered(response)


@FUZZ
@given(
    who=who,
    path=paths(st.integers(min_value=1, max_value=8)),
    query=st.dictionaries(
        st.sampled_from(FIELDS) | st.text(max_size=5), st.text(max_size=30) | datetime_like, max_size=4
    ),
)
def test_random_query_strings_never_cause_a_500(world, anonymous, api, staff_api, who, path, query):
    client = client_for(who, anonymous, api, staff_api)

    response = client.get(f"{path}?{urlencode(query)}")

    assert_answered(response)


@FUZZ
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]),
    path=paths(st.integers(min_value=1, max_value=8)),
    raw=st.binary(max_size=64),
    content_type=st.sampled_from(
        ["application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain"]
    ),
)
def test_random_methods_and_raw_bodies_never_cause_a_500(world, api, method, path, raw, content_type):
    response = api.generic(method, path, raw, content_type=content_type)

    assert_answered(response)


@FUZZ
@given(
    who=who,
    resource=st.integers(min_value=0, max_value=8),
    start=datetime_like,
    end=datetime_like,
    note=st.text(max_size=10),
)
def test_plausible_bookings_with_random_times_never_cause_a_500(
    world, anonymous, api, staff_api, who, resource, start, end, note
):
    client = client_for(who, anonymous, api, staff_api)
    payload = {"resource": resource, "start": start, "end": end, "note": note}

    response = client.post("/api/bookings/", payload, format="json")

    assert_answered(response)
