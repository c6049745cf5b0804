"""The product's 404 and 403 pages, whatever ``DEBUG`` says.

Django answers an unknown URL or an ``Http404`` with its technical page (every URL
pattern listed) while ``DEBUG`` is on, and ``handler404`` only with ``DEBUG`` off.
Staff never see that page: ``ProductErrorPagesMiddleware`` renders the product 404
for a ``Http404`` raised by a view and, with ``DEBUG`` on, for a URL that resolves
to nothing (with ``DEBUG`` off ``handler404`` does it and the extra resolve is skipped).
A 403 always goes through ``handler403``. The API paths keep their JSON errors
(``customers.api.middleware``).
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve

from clerkgdpr.middleware import is_api_path


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: never says why (unknown store, no access and no such record look alike)."""
    return render(request, "404.html", status=404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler403: the role does not allow the page (the store navigation stays)."""
    return render(request, "403.html", status=403)


class ProductErrorPagesMiddleware:
    """Innermost: CommonMiddleware still redirects an address missing its slash."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.DEBUG and not is_api_path(request.path):
            try:
                resolve(request.path_info, getattr(request, "urlconf", None))
            except Resolver404:
                return page_not_found(request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, Http404) and not is_api_path(request.path):
            return page_not_found(request, exc)
        return None
