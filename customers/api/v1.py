"""The v1 API (ours): full privacy export, forget jobs, request log, batch events,
customer, order and product sync.

Auth: ``Authorization: Bearer <key>:<private_key>``. Every error has the v2
error shape. Every write (``/events``, ``/customers``, ``/orders``,
``/products``) is all-or-nothing: if any item is invalid the answer is 400
with ``errors`` naming each rejected item by ``index`` and nothing is written;
data dropped by the store's settings or by suppression is not an error and is
counted in ``dropped``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Literal

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer
from pydantic import Field, ValidationError

from customers.api.auth import authenticate
from customers.api.errors import ApiError, error_response, from_validation_error, invalid_arguments
from customers.api.privacy import forget_many, one_identifier, subject_for
from customers.ingest import crm, orders, products
from customers.ingest.events import events_ingest
from customers.ingest.schemas import (
    MAX_BATCH,
    CustomerRefsIn,
    CustomersIn,
    EventBatch,
    OrderRefsIn,
    OrdersIn,
    ProductRefsIn,
    ProductsIn,
)
from customers.privacy import export
from gdpr_dashboard.models import PrivacyRequest
from stores.models import ApiKey

MAX_PAGE_SIZE = 1000


class PrivateKeyAuth(HttpBearer):
    openapi_description = "`Bearer <key>:<private_key>` — the store's key pair."

    def __call__(self, request: HttpRequest):
        if not request.headers.get("Authorization"):
            raise ApiError(401, "MissingKey", "Send Authorization: Bearer <key>:<private_key>.")
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey:
        key, sep, private_key = token.partition(":")
        if not sep:
            raise ApiError(
                403, "PrivateKeyRequired", "Send Authorization: Bearer <key>:<private_key>."
            )
        return authenticate(key, private_key, need_private=True)


api = NinjaAPI(
    title="clerkgdpr store API",
    version="1",
    description=__doc__,
    urls_namespace="api-v1",
    auth=PrivateKeyAuth(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return exc.response()


@api.exception_handler(NinjaValidationError)
def _ninja_validation(request, exc: NinjaValidationError):
    # ninja's loc starts with where the value came from ("body", "query"), then
    # the parameter name: skip both so fields read like the documented ones.
    errors = [dict(e) for e in exc.errors]
    for e in errors:
        e.pop("input", None)
        e.pop("ctx", None)
    skip = 2 if errors and tuple(errors[0].get("loc", ()))[:1] == ("body",) else 1
    return invalid_arguments(errors, skip=skip).response()


@api.exception_handler(ValidationError)
def _pydantic_validation(request, exc: ValidationError):
    return from_validation_error(exc).response()


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return error_response(401, "InvalidKey", "Unknown or revoked API key.")


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    kind = {400: "InvalidJSON", 404: "NotFound", 405: "MethodNotAllowed"}.get(
        exc.status_code, "InvalidRequest"
    )
    message = "The body is not valid JSON." if kind == "InvalidJSON" else str(exc)[:200]
    return error_response(exc.status_code, kind, message)


# --- privacy -----------------------------------------------------------------------


class SubjectQuery(Schema):
    email: str | None = Field(default=None, max_length=254)
    customer: str | None = Field(default=None, max_length=254)
    visitor: str | None = Field(default=None, max_length=254)
    page: int = Field(default=1, ge=1, le=1_000_000, description="page of every list section")
    page_size: int = Field(default=500, ge=1, le=MAX_PAGE_SIZE)


@api.get(
    "/privacy/subjects",
    summary="Everything the store holds about one subject (the export document)",
    response={200: dict},
)
def privacy_subject(request, query: Query[SubjectQuery]):
    """Give exactly one of email, customer, visitor.

    The document of the profile's "Download all data": identity, CRM fields,
    visitors, orders with lines, clicks, content views, page views. Each list
    holds page ``page`` of ``page_size`` rows, newest first; ``pagination``
    says per list whether a next page exists.
    """
    kind, value = one_identifier(query.dict())
    subject = subject_for(kind, value)
    store = request.auth.store
    doc = export.header(subject, store_slug=store.slug, generated_at=timezone.now())
    offset = (query.page - 1) * query.page_size
    pagination = {}
    for name in export.LIST_SECTIONS:
        rows = export.section_page(name, subject, offset=offset, limit=query.page_size + 1)
        doc[name] = rows[: query.page_size]
        pagination[name] = {"page": query.page, "has_more": len(rows) > query.page_size}
    doc["pagination"] = {"page_size": query.page_size, "sections": pagination}
    # Decimals as strings, like the profile's download: serialised here, not by ninja.
    return HttpResponse(json.dumps(doc, cls=export.ExportEncoder), content_type="application/json")


class SubjectIn(Schema):
    email: str | None = None
    customer: str | None = None
    visitor: str | None = None


class ForgetIn(Schema):
    subjects: list[SubjectIn] = Field(min_length=1, max_length=MAX_BATCH)


class ForgetOut(Schema):
    requests: list[str]


@api.post(
    "/privacy/forget",
    response={202: ForgetOut},
    summary="Forget 1 to 1,000 subjects (asynchronous jobs)",
)
def privacy_forget(request, body: ForgetIn):
    """Each subject gives exactly one of email, customer, visitor.

    Answers 202 with one request id per subject, in order, once every request
    is durable; the jobs run asynchronously (poll ``/privacy/requests/{id}``).
    All-or-nothing: one invalid subject rejects the call.

    A forgotten visitor id stays forgotten: every later event naming it is dropped
    (counted as ``suppressed``). A forgotten e-mail or customer id comes back only with
    activity newer than the forget; older data synced again is dropped. A device shared
    with other customers loses its browsing with any of them but stays theirs.
    """
    subjects = []
    for index, subject in enumerate(body.subjects):
        try:
            subjects.append(one_identifier(subject.dict()))
        except ApiError as exc:
            exc.message = f"subjects.{index}: {exc.message}"
            exc.errors = [{"index": index, "field": f"subjects.{index}", "message": exc.message}]
            raise
    rows = forget_many(store=request.auth.store, api_key=request.auth, subjects=subjects)
    return Status(202, {"requests": [str(r.pk) for r in rows]})


class PrivacyRequestOut(Schema):
    id: str
    kind: str
    status: str
    via: str
    subject_kind: str
    received_at: datetime
    queued_at: datetime | None
    started_at: datetime | None
    done_at: datetime | None
    failed_at: datetime | None
    counts: dict

    @staticmethod
    def resolve_id(obj: PrivacyRequest) -> str:
        return str(obj.pk)


@api.get(
    "/privacy/requests/{request_id}",
    response={200: PrivacyRequestOut},
    summary="Status, timestamps and counts of one privacy request",
)
def privacy_request(request, request_id: int):
    row = PrivacyRequest.objects.filter(store=request.auth.store, pk=request_id).first()
    if row is None:
        raise ApiError(404, "UnknownRequest", "No privacy request with this id in this store.")
    return row


class PrivacyRequestPage(Schema):
    page: int
    has_more: bool
    requests: list[PrivacyRequestOut]


@api.get(
    "/privacy/requests",
    response={200: PrivacyRequestPage},
    summary="The store's privacy requests, newest first",
)
def privacy_requests(
    request,
    page: int = Query(1, ge=1, le=1_000_000),
    page_size: int = Query(100, ge=1, le=MAX_PAGE_SIZE),
    status: Literal["received", "queued", "running", "done", "failed"] | None = None,
):
    rows = PrivacyRequest.objects.filter(store=request.auth.store).order_by("-received_at", "-pk")
    if status:
        rows = rows.filter(status=status)
    offset = (page - 1) * page_size
    chunk = list(rows[offset : offset + page_size + 1])
    return {"page": page, "has_more": len(chunk) > page_size, "requests": chunk[:page_size]}


# --- collection --------------------------------------------------------------------


class IngestOut(Schema):
    status: Literal["ok"] = "ok"
    stored: dict[str, int]
    dropped: dict[str, int]


@api.post("/events", response={200: IngestOut}, summary="1 to 1,000 tracking events")
def events(request, body: EventBatch):
    """Kinds ``page``, ``category``, ``product``, ``click``, ``email``, ``sale``, each
    with its own ``time`` (Unix seconds or ISO 8601) and the shop's ``visitor`` id.

    All-or-nothing: one invalid event rejects the batch (400, ``errors`` lists
    every rejected event by ``index``) and nothing is written. Events the
    store does not collect (e-mails, browsing when tracking is off) or that
    name a forgotten subject with a time before the forget are not errors:
    they are counted in ``dropped``.
    """
    result = events_ingest(store=request.auth.store, events=body.events, trusted=True)
    return result.as_dict()


# --- sync: the same schemas and services as /v2/customers, /v2/orders, /v2/products ----


@api.post(
    "/customers",
    response={200: IngestOut},
    summary="Create or replace 1 to 1,000 customers (CRM records)",
)
def customers_sync(request, body: CustomersIn):
    """Each record has the shop's customer ``id`` and any attributes; ``name``,
    ``email`` and the attributes replace what was stored for that id.

    The e-mail is kept only if the store collects e-mails, attributes only those
    on the store's CRM list; the rest is counted in ``dropped``. A customer
    who was forgotten is dropped (``suppressed``) unless the record sends a
    ``time`` after the forget.
    """
    return crm.customers_sync(store=request.auth.store, customers=body.customers).as_dict()


@api.delete(
    "/customers",
    response={200: IngestOut},
    summary="Delete the CRM records of 1 to 1,000 customers by id",
)
def customers_delete(request, body: CustomerRefsIn):
    """Removes each customer's CRM record (name, e-mail, attributes); unknown ids are
    not an error. A customer that visitors or orders still point at stays as a
    bare id, so a later forget by that id or e-mail still reaches them.

    This is not a forget: nothing is suppressed and the customer may be synced
    again. To erase a person, use ``POST /privacy/forget``.
    """
    return crm.customers_delete(store=request.auth.store, refs=body.customers).as_dict()


@api.post(
    "/orders",
    response={200: IngestOut},
    summary="Create or replace 1 to 1,000 orders with their lines",
)
def orders_sync(request, body: OrdersIn):
    """Each order has an ``id``, its ``time`` and ``products`` (ids, or ``{id, quantity,
    price}``; a line without a price takes the catalogue's), optionally
    ``customer``, ``email`` and ``visitor``.

    An order is never dropped: an e-mail the store does not collect is left
    out, and the links of an order that names a forgotten subject with a time
    before the forget are left out (``suppressed_links``), as a forget leaves it.
    """
    return orders.orders_sync(store=request.auth.store, orders=body.orders).as_dict()


@api.delete(
    "/orders",
    response={200: IngestOut},
    summary="Delete 1 to 1,000 orders (and their lines) by id",
)
def orders_delete(request, body: OrderRefsIn):
    return orders.orders_delete(store=request.auth.store, refs=body.orders).as_dict()


@api.post(
    "/products",
    response={200: IngestOut},
    summary="Create or replace 1 to 1,000 catalogue products",
)
def products_sync(request, body: ProductsIn):
    return products.products_sync(store=request.auth.store, products=body.products).as_dict()


@api.delete(
    "/products",
    response={200: IngestOut},
    summary="Delete 1 to 1,000 catalogue products by id",
)
def products_delete(request, body: ProductRefsIn):
    return products.products_delete(store=request.auth.store, refs=body.products).as_dict()
