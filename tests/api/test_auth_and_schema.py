"""Token and session authentication, and the OpenAPI schema with its docs pages."""

import io

import pytest
from django.core.management import call_command
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from tests.api.conftest import body
from tests.api.routes import ENDPOINTS

pytestmark = pytest.mark.django_db


def test_a_token_from_drf_create_token_authenticates(user, studio, local_day):
    out = io.StringIO()
    call_command("drf_create_token", user.username, stdout=out)
    token = out.getvalue().split()[2]  # "Generated token <key> for user <name>"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    response = client.post("/api/bookings/", body(local_day(10), local_day(11), studio), format="json")

    assert response.status_code == 201
    assert response.json()["user"] == user.pk


def test_a_session_authenticates_reads(user):
    client = APIClient()
    client.login(username=user.username, password="pw-for-tests")

    assert client.get("/api/bookings/").status_code == 200


def test_a_session_write_without_csrf_token_is_refused(user, studio, local_day):
    client = APIClient(enforce_csrf_checks=True)
    client.login(username=user.username, password="pw-for-tests")

    response = client.post("/api/bookings/", body(local_day(10), local_day(11), studio), format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"


def test_schema_is_valid_openapi_with_every_endpoint(anonymous):
    response = anonymous.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)  # raises on an invalid OpenAPI 3 document
    assert set(ENDPOINTS) <= set(schema["paths"])
    assert "409" in schema["paths"]["/api/bookings/"]["post"]["responses"]


def test_schema_generates_without_warnings():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_render_from_local_static_files(anonymous, path):
    response = anonymous.get(path)

    assert response.status_code == 200
    assert b"cdn.jsdelivr.net" not in response.content
