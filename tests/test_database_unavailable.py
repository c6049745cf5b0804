"""A lost database connection answers 503 + Retry-After (JSON under the APIs), never a 500."""

import json

from django.db import InterfaceError, OperationalError
from django.test import RequestFactory

from clerkgdpr.middleware import DatabaseUnavailableMiddleware, server_error


def _middleware():
    return DatabaseUnavailableMiddleware(lambda request: None)


def test_it_answers_503_with_retry_after_in_the_api_error_shape():
    request = RequestFactory().post("/v2/log/click", data="{}", content_type="application/json")
    response = _middleware().process_exception(request, OperationalError("server closed"))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = json.loads(response.content)
    assert body["status"] == "error"
    assert body["type"] == "ServiceUnavailable"
    assert set(body) == {"status", "type", "message", "moreInfo", "id"}


def test_it_answers_a_console_page_with_a_readable_503():
    request = RequestFactory().get("/s/acme-main/")
    response = _middleware().process_exception(request, InterfaceError("connection closed"))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"Briefly unavailable" in response.content


def test_it_leaves_other_errors_alone():
    request = RequestFactory().get("/")
    assert _middleware().process_exception(request, ValueError("x")) is None


def test_the_500_handler_turns_a_database_error_outside_a_view_into_503():
    request = RequestFactory().get("/api/v1/events")
    try:
        raise OperationalError("terminating connection due to administrator command")
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"


def test_the_500_handler_answers_api_errors_in_the_documented_shape():
    request = RequestFactory().get("/v2/privacy/info")
    try:
        raise RuntimeError("bug")
    except RuntimeError:
        response = server_error(request)
    assert response.status_code == 500
    assert json.loads(response.content)["type"] == "InternalError"
