"""Store API calls (/v2/) take their own short middleware list; console pages keep all of it."""

from __future__ import annotations

import json

from django.conf import settings


def test_the_v2_calls_get_security_headers_and_no_console_middleware(client, api_key):
    response = client.get(
        "/v2/log/click",
        {"key": api_key.api_key.key, "product": 1, "visitor": "v-lane"},
        HTTP_ACCEPT_LANGUAGE="de",
        HTTP_COOKIE="sessionid=abc; csrftoken=x",
    )
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert response["X-Frame-Options"] == "DENY"
    # No session or CSRF cookie, no language, no CSP header (JSON, not a page).
    assert not response.cookies
    assert "Vary" not in response or "Cookie" not in response["Vary"]
    assert "Content-Language" not in response
    assert "Content-Security-Policy" not in response
    assert not hasattr(response.wsgi_request, "user")
    assert not hasattr(response.wsgi_request, "session")


def test_console_pages_still_get_the_whole_chain(client, alice):
    client.force_login(alice)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="de")
    assert response.wsgi_request.user == alice
    assert "Content-Security-Policy" in response
    assert response["Content-Language"] == "de"
    login = client.get("/login/")
    assert "csrftoken" in login.cookies or "csrfmiddlewaretoken" in login.content.decode()


def test_a_v2_post_without_a_csrf_token_is_not_refused(client, api_key):
    """CSRF is the console's: a shop's POST carries a key, never a token."""
    csrf_client = type(client)(enforce_csrf_checks=True)
    response = csrf_client.post(
        "/v2/log/click",
        data=json.dumps({"key": api_key.api_key.key, "product": 1, "visitor": "v-lane"}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert not response.cookies


def test_the_lane_keeps_the_consoles_order_and_its_safeguards():
    lane = settings.STORE_API_MIDDLEWARE
    console = settings.MIDDLEWARE
    assert console[0] == "clerkgdpr.store_api_lane.StoreApiLane"
    assert [m for m in console if m in lane] == lane  # a subset, in the same order
    for needed in (
        "clerkgdpr.middleware.PrivateResponsesMiddleware",
        "customers.api.middleware.ApiGuardMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.common.CommonMiddleware",
        "stores.middleware.PublicSchemaMiddleware",
        "clerkgdpr.middleware.DatabaseUnavailableMiddleware",
    ):
        assert needed in lane


def test_a_v2_call_with_a_host_not_allowed_is_refused(client, api_key):
    response = client.get(
        "/v2/log/click",
        {"key": api_key.api_key.key, "product": 1, "visitor": "v-lane"},
        HTTP_HOST="evil.example",
    )
    assert response.status_code == 400


def test_an_unknown_v2_address_answers_the_error_shape(client):
    response = client.get("/v2/log/teleport")
    assert response.status_code == 404 and response.json()["type"] == "NotFound"
    assert "no-store" in response["Cache-Control"]


def test_the_csrf_cookie_deployment_check_runs(settings):
    from django.core import checks

    settings.CSRF_COOKIE_SECURE = True
    assert "security.W016" not in {m.id for m in checks.run_checks(include_deployment_checks=True)}
    settings.CSRF_COOKIE_SECURE = False
    assert "security.W016" in {m.id for m in checks.run_checks(include_deployment_checks=True)}
