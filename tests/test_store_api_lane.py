"""Store API calls (/v2/) pass the console's middleware by; console pages keep all of it."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
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


def test_a_wrapped_hook_declines_on_v2_and_works_on_console_paths(rf):
    """CSRF's process_view (a wrapped hook): a POST without a token to a view that is not
    exempt is refused on a console path and let through on a /v2/ path."""

    def view(request):
        return HttpResponse("ok")

    middleware = console_middleware.Csrf(lambda request: HttpResponse("ok"))
    for path, refused in (("/s/acme/settings/", True), ("/v2/log/click", False)):
        request = rf.post(path)
        middleware.process_request(request)
        answer = middleware.process_view(request, view, (), {})
        assert (answer is not None and answer.status_code == 403) == refused, path


def test_every_wrapper_stands_for_its_middleware():
    for path in settings.MIDDLEWARE:
        if path.startswith("clerkgdpr.console_middleware."):
            wrapper = import_string(path)
            assert wrapper.__name__ == f"ConsoleOnly{wrapper.__mro__[1].__name__}"
            assert wrapper.__call__ is not wrapper.__mro__[1].__call__


def test_the_csrf_cookie_check_django_skips_for_the_wrapped_middleware_runs(settings):
    from django.core import checks

    settings.CSRF_COOKIE_SECURE = True
    assert "clerkgdpr.W016" not in {m.id for m in checks.run_checks(include_deployment_checks=True)}
    settings.CSRF_COOKIE_SECURE = False
    assert "clerkgdpr.W016" in {m.id for m in checks.run_checks(include_deployment_checks=True)}
