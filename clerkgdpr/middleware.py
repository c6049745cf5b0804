"""Answers for a database that is down or restarting: 503 with Retry-After, never a 500.

A PostgreSQL restart or failover drops every open connection; requests that
hit that window get ``OperationalError`` / ``InterfaceError``.  Clients (shop
systems above all) must be told to come back, and retry safely: every write
path runs in one transaction, so a request that failed wrote nothing.
"""

from __future__ import annotations

import logging
import sys
import uuid

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
API_PREFIXES = ("/api/", "/v2/")
DATABASE_ERRORS = (OperationalError, InterfaceError)


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES)


def database_unavailable_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    error_id = uuid.uuid4().hex[:12]
    # The exception text can hold a query with its parameters (personal data): log its type only.
    log.warning(
        "database unavailable (%s), answered 503, error id %s", type(exc).__name__, error_id
    )
    # Django drops the broken connection at the end of the request (close_old_connections).
    if is_api_path(request.path):
        response: HttpResponse = JsonResponse(
            {
                "status": "error",
                "type": "ServiceUnavailable",
                "message": "The service is briefly unavailable; retry after the given seconds.",
                "moreInfo": "",
                "id": error_id,
            },
            status=503,
        )
    else:
        response = HttpResponse(
            render_to_string("503.html", {"retry_after": RETRY_AFTER_SECONDS}), status=503
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """Turns a lost database connection in a view into 503 + Retry-After (JSON under the APIs)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, DATABASE_ERRORS):
            return database_unavailable_response(request, exc)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database error raised outside a view (middleware) still becomes a 503."""
    exc = sys.exception()
    if isinstance(exc, DATABASE_ERRORS):
        return database_unavailable_response(request, exc)
    if is_api_path(request.path):
        return JsonResponse(
            {
                "status": "error",
                "type": "InternalError",
                "message": "Something went wrong on our side.",
                "moreInfo": "",
                "id": uuid.uuid4().hex[:12],
            },
            status=500,
        )
    return HttpResponse(render_to_string("500.html"), status=500)


# Pages that never show anything about a person; every other answer may (profiles, lists,
# search, not-found and forget pages, downloads, API keys, the privacy APIs, the admin).
PUBLIC_PATHS = ("/trust/", "/healthz", "/static/", "/api/v1/openapi.json", "/api/v1/docs")


class PrivateResponsesMiddleware:
    """``Cache-Control: no-store, private`` on every answer that may show personal data.

    Outermost, so refusals, not-found pages, 503s and the API guard's errors get it too:
    no shared cache or browser history keeps a profile, a search or a privacy answer.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(PUBLIC_PATHS):
            patch_cache_control(response, no_store=True, private=True)
        return response
