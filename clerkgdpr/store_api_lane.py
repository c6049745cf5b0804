"""The store API's own request lane: ``/v2/`` calls go through a short middleware list.

A shop's v2 call uses none of the console's middleware (a key, not a session; JSON, not
a page), and the storefront's tracking calls are the hottest path there is. The outermost
middleware, ``StoreApiLane``, hands a ``/v2/`` request to a chain of its own built from
``STORE_API_MIDDLEWARE`` (security headers, the host check, ``Cache-Control``, the public
schema, the database-down 503 and the API guard), then Django's own resolving, view
hooks and exception handling; every other request goes on through ``MIDDLEWARE``. So a
tracking call never sets a session or CSRF cookie on a shopper's browser, and it passes
no layer it does not use.
"""

from __future__ import annotations

from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.utils.module_loading import import_string

STORE_API_PREFIX = "/v2/"


class StoreApiHandler(BaseHandler):
    """Django's request handling with ``STORE_API_MIDDLEWARE`` instead of ``MIDDLEWARE``.

    ``load_middleware`` is Django's, synchronous only (the lane runs inside the outer
    chain, which adapts it under ASGI) and without ``MiddlewareNotUsed``.
    """

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(settings.STORE_API_MIDDLEWARE):
            instance = import_string(path)(handler)
            if hasattr(instance, "process_view"):
                self._view_middleware.insert(0, instance.process_view)
            if hasattr(instance, "process_template_response"):
                self._template_response_middleware.append(instance.process_template_response)
            if hasattr(instance, "process_exception"):
                self._exception_middleware.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler


class StoreApiLane:
    """Outermost middleware: ``/v2/`` requests take the store API's chain."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.store_api = StoreApiHandler()
        self.store_api.load_middleware()

    def __call__(self, request):
        if request.path_info.startswith(STORE_API_PREFIX):
            return self.store_api._middleware_chain(request)
        return self.get_response(request)
