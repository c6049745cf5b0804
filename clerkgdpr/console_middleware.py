"""The console's middleware, passed by on the store API's ``/v2/`` calls.

Static files, sessions, languages, CSRF, users, messages, htmx, login lockouts and the
CSP header serve people in the console. A shop's v2 call
uses none of them (a key, not a session; JSON, not a page), and the storefront's tracking
calls are the hottest path there is. Each of these middleware classes is wrapped here so a
``/v2/`` request goes straight past it, hooks included; it still goes through the rest:
security headers, the host check, ``Cache-Control``, the public schema, the database-down
503 and the API guard (``clerkgdpr/settings.py`` lists which is which). So a tracking call
never sets a session or CSRF cookie on a shopper's browser; Django's deployment check of
the CSRF cookie looks for the middleware by name, so ``clerkgdpr/checks.py`` runs it.
"""

from __future__ import annotations

from axes.middleware import AxesMiddleware
from csp.middleware import CSPMiddleware
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.locale import LocaleMiddleware
from django_htmx.middleware import HtmxMiddleware
from whitenoise.middleware import WhiteNoiseMiddleware

STORE_API_PREFIX = "/v2/"

HOOKS = ("process_view", "process_exception", "process_template_response")


def _is_store_api(request) -> bool:
    return request.path_info.startswith(STORE_API_PREFIX)


def console_only(middleware_class: type) -> type:
    """A subclass of ``middleware_class`` that requests under ``/v2/`` go straight past,
    hooks included (a subclass, so checks that look for the class still find it)."""

    def __init__(self, get_response):
        middleware_class.__init__(self, get_response)
        self._next = get_response

    def __call__(self, request):
        if _is_store_api(request):
            return self._next(request)
        return middleware_class.__call__(self, request)

    namespace = {"__init__": __init__, "__call__": __call__, "__module__": __name__}
    for hook in HOOKS:
        if hasattr(middleware_class, hook):
            namespace[hook] = _skipping_store_api(hook, getattr(middleware_class, hook))
    return type(f"ConsoleOnly{middleware_class.__name__}", (middleware_class,), namespace)


def _skipping_store_api(hook: str, method):
    def guarded(self, request, *args):
        if _is_store_api(request):
            # process_template_response hands the response on; the others decline.
            return args[0] if hook == "process_template_response" else None
        return method(self, request, *args)

    return guarded


# Imported when the handler loads its middleware (the apps are ready by then).
Sessions = console_only(SessionMiddleware)
Locale = console_only(LocaleMiddleware)
Csrf = console_only(CsrfViewMiddleware)
Authentication = console_only(AuthenticationMiddleware)
Messages = console_only(MessageMiddleware)
WhiteNoise = console_only(WhiteNoiseMiddleware)
Htmx = console_only(HtmxMiddleware)
Axes = console_only(AxesMiddleware)
Csp = console_only(CSPMiddleware)
