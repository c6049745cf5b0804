"""The one error shape of the store API, for v2 and v1 alike.

``{"status": "error", "type": <stable type>, "message": ..., "moreInfo": ..., "id": ...}``.
Messages name the argument and the rule, never the value sent (it may be an
e-mail address); the id is logged with the type so support can find a call.
"""

from __future__ import annotations

import logging
import uuid

from django.http import JsonResponse
from pydantic import ValidationError

log = logging.getLogger("clerkgdpr.api")

MORE_INFO = "/api/v1/docs"
MAX_MESSAGE = 300


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        type: str,  # noqa: A002 - the field is called "type" in the contract
        message: str,
        *,
        retry_after: int | None = None,
        errors: list[dict] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.type = type
        self.message = message
        self.retry_after = retry_after
        self.errors = errors

    def response(self) -> JsonResponse:
        return error_response(
            self.status,
            self.type,
            self.message,
            retry_after=self.retry_after,
            errors=self.errors,
        )


def error_response(
    status: int,
    type: str,  # noqa: A002
    message: str,
    *,
    retry_after: int | None = None,
    errors: list[dict] | None = None,
) -> JsonResponse:
    error_id = uuid.uuid4().hex[:16]
    log.info("api error id=%s type=%s status=%s", error_id, type, status)
    body = {
        "status": "error",
        "type": type,
        "message": message[:MAX_MESSAGE],
        "moreInfo": MORE_INFO,
        "id": error_id,
    }
    if errors is not None:
        body["errors"] = errors
    response = JsonResponse(body, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


EVENT_KINDS = frozenset({"page", "category", "product", "click", "email", "sale"})


def _location(loc: tuple) -> str:
    # Drop the event kind pydantic adds for the tagged union ("events.3.page.url" ->
    # "events.3.url"): first for one event (v2), after the index in a batch (v1). Only
    # there: "customers.0.email" is a field and stays.
    parts = [p for p in loc if not (isinstance(p, str) and p.endswith("Event"))]
    if parts[:1] and parts[0] in EVENT_KINDS:
        parts = parts[1:]
    elif len(parts) > 2 and parts[0] == "events" and parts[2] in EVENT_KINDS:
        parts = parts[:2] + parts[3:]
    return ".".join(str(p) for p in parts) or "arguments"


def _message(err: dict) -> str:
    msg = err.get("msg", "invalid")
    if err.get("type") == "union_tag_invalid":
        msg = "unknown kind; use page, category, product, click, email or sale"
    elif err.get("type") == "missing":
        msg = "is required"
    return msg.removeprefix("Value error, ")


def item_errors(errors: list[dict], *, skip: int = 0) -> list[dict]:
    """Pydantic errors as [{"field", "message", "index"?}] (index of the batch item)."""
    out = []
    for err in errors[:100]:
        loc = tuple(err.get("loc", ()))[skip:]
        entry = {"field": _location(loc)[:200], "message": _message(err)[:200]}
        if len(loc) >= 2 and isinstance(loc[1], int):
            entry["index"] = loc[1]
        out.append(entry)
    return out


def invalid_arguments(errors: list[dict], *, skip: int = 0) -> ApiError:
    items = item_errors(errors, skip=skip)
    first = items[0] if items else {"field": "arguments", "message": "invalid"}
    more = f" (and {len(items) - 1} more)" if len(items) > 1 else ""
    return ApiError(
        400,
        "InvalidArgument",
        f"{first['field']}: {first['message']}{more}",
        errors=items,
    )


def from_validation_error(exc: ValidationError) -> ApiError:
    return invalid_arguments(exc.errors(include_input=False, include_url=False))
