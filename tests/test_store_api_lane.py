"""Store API calls (/v2/) pass the console's middleware by; console pages keep all of it."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from clerkgdpr import console_middleware


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


def test_each_wrapper_is_its_middleware_and_keeps_its_hooks():
    for path in settings.MIDDLEWARE:
        if not path.startswith("clerkgdpr.console_middleware."):
            continue
        wrapper = import_string(path)
        inner = wrapper.__mro__[1]
        assert issubclass(wrapper, inner)
        for hook in console_middleware.HOOKS:
            assert hasattr(wrapper, hook) == hasattr(inner, hook)


def test_the_csrf_cookie_check_django_skips_for_the_wrapped_middleware_runs(settings):
    from django.core import checks

    settings.CSRF_COOKIE_SECURE = True
    assert "clerkgdpr.W016" not in {m.id for m in checks.run_checks(include_deployment_checks=True)}
    settings.CSRF_COOKIE_SECURE = False
    assert "clerkgdpr.W016" in {m.id for m in checks.run_checks(include_deployment_checks=True)}
