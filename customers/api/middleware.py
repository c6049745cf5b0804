"""Guards every API path: body size, JSON errors for unknown routes, never an HTML 500."""

from __future__ import annotations

import logging

from django.conf import settings

from customers.api.errors import error_response

log = logging.getLogger("clerkgdpr.api")

API_PREFIXES = ("/v2/", "/api/")


class ApiGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIXES):
            return self.get_response(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(400, "InvalidRequest", "Invalid Content-Length header.")
        limit = settings.API_MAX_BODY_BYTES
        if length > limit:
            return error_response(
                413, "BodyTooLarge", f"The request body is larger than {limit} bytes."
            )
        try:
            response = self.get_response(request)
        except Exception:
            # Logged without the request's arguments: they may be personal data.
            log.exception("unhandled error on an API call")
            return error_response(500, "InternalError", "Something went wrong on our side.")
        content_type = response.get("Content-Type", "")
        if response.status_code in (404, 405) and "json" not in content_type:
            if response.status_code == 404:
                return error_response(404, "NotFound", "No such API endpoint.")
            return error_response(405, "MethodNotAllowed", "This method is not allowed here.")
        return response

    def process_exception(self, request, exception):
        """JSON nested deeper than the parser's recursion limit (thousands of brackets) is the
        caller's bad input, not our failure: 400, as for any other invalid JSON. Caught here,
        before Django turns the exception into an HTML 500 with a traceback in the log."""
        if request.path.startswith(API_PREFIXES) and isinstance(exception, RecursionError):
            return error_response(400, "InvalidJSON", "The JSON is nested too deeply.")
        return None
