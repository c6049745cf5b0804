"""The v2 endpoints: the calls of the platform's published API, answered the same way.

GET takes query parameters (list or object arguments as JSON-encoded strings);
POST, PATCH and DELETE take one JSON object. Every call carries the public
``key``; privacy calls and catalogue writes also ``private_key``. A call is
all-or-nothing: any invalid argument or record answers 400 and writes nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from functools import wraps

from csp.decorators import csp_exempt
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from pydantic import TypeAdapter, ValidationError

from customers.api.auth import authenticate
from customers.api.errors import ApiError, from_validation_error
from customers.api.privacy import forget_one, info_stream, one_identifier, subject_for
from customers.ingest.common import IngestResult
from customers.ingest.crm import customers_delete, customers_sync
from customers.ingest.events import events_ingest
from customers.ingest.orders import orders_delete, orders_sync
from customers.ingest.products import products_delete, products_sync
from customers.ingest.schemas import (
    CustomerRefsIn,
    CustomersIn,
    Event,
    OrderRefsIn,
    OrdersIn,
    ProductRefsIn,
    ProductsIn,
)
from stores.models import ApiKey

# Arguments that are lists or objects: JSON-encoded strings in a query string.
JSON_ARGUMENTS = frozenset({"products", "labels", "customers", "orders"})
event_adapter = TypeAdapter(Event)


def _arguments(request: HttpRequest) -> dict:
    if request.method == "GET":
        args: dict = {}
        for name in request.GET:
            value = request.GET[name]
            if name in JSON_ARGUMENTS:
                try:
                    value = json.loads(value)
                except ValueError:
                    raise ApiError(
                        400, "InvalidJSON", f"{name}: must be a JSON-encoded list."
                    ) from None
            args[name] = value
        return args
    try:
        args = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "InvalidJSON", "The body is not valid JSON.") from None
    if not isinstance(args, dict):
        raise ApiError(400, "InvalidJSON", "The body must be one JSON object.")
    return args


def v2_call(*, methods: tuple[str, ...], private: bool):
    def decorate(handler: Callable[[HttpRequest, ApiKey, dict], dict | StreamingHttpResponse]):
        @csrf_exempt
        @csp_exempt()  # JSON for machines: no page to protect, no policy to build per call
        @wraps(handler)
        def view(request: HttpRequest):
            try:
                if request.method not in methods:
                    raise ApiError(
                        405, "MethodNotAllowed", f"Use {', '.join(methods)} on this endpoint."
                    )
                args = _arguments(request)
                api_key = authenticate(
                    args.get("key"), args.get("private_key"), need_private=private
                )
                answer = handler(request, api_key, args)
            except ApiError as exc:
                return exc.response()
            except ValidationError as exc:
                return from_validation_error(exc).response()
            if isinstance(answer, StreamingHttpResponse):
                return answer
            return JsonResponse({"status": "ok", **answer})

        return view

    return decorate


def _visitor(args: dict) -> tuple[object, dict]:
    """The visitor argument; ``auto`` makes an anonymous id that the answer returns."""
    visitor = args.get("visitor")
    if visitor == "auto":
        visitor = f"auto-{uuid.uuid4().hex}"
        return visitor, {"visitor": visitor}
    return visitor, {}


def _log(api_key: ApiKey, event: dict, echo: dict) -> dict:
    parsed = event_adapter.validate_python({**event, "time": timezone.now()})
    events_ingest(store=api_key.store, events=[parsed])
    return echo


LOG = {"methods": ("GET", "POST"), "private": False}


@v2_call(**LOG)
def log_product(request, api_key, args):
    visitor, echo = _visitor(args)
    event = {"kind": "product", "visitor": visitor, "product": args.get("product")}
    if "api" in args:
        event["api"] = args["api"]
    return _log(api_key, event, echo)


@v2_call(**LOG)
def log_click(request, api_key, args):
    visitor, echo = _visitor(args)
    event = {"kind": "click", "visitor": visitor, "product": args.get("product")}
    for name in ("api", "n", "external", "labels"):
        if name in args:
            event[name] = args[name]
    return _log(api_key, event, echo)


@v2_call(**LOG)
def log_category(request, api_key, args):
    visitor, echo = _visitor(args)
    event = {"kind": "category", "visitor": visitor, "category": args.get("category")}
    return _log(api_key, event, echo)


@v2_call(**LOG)
def log_email(request, api_key, args):
    visitor, echo = _visitor(args)
    event = {"kind": "email", "visitor": visitor, "email": args.get("email")}
    return _log(api_key, event, echo)


@v2_call(**LOG)
def log_sale(request, api_key, args):
    visitor, echo = _visitor(args)
    event = {"kind": "sale", "sale": args.get("sale"), "products": args.get("products")}
    for name, value in (
        ("visitor", visitor),
        ("customer", args.get("customer")),
        ("email", args.get("email")),
    ):
        if value not in (None, ""):
            event[name] = value
    return _log(api_key, event, echo)


def _result(result: IngestResult) -> dict:
    return result.as_dict()


@v2_call(methods=("POST", "PATCH", "DELETE"), private=True)
def customers(request, api_key, args):
    store = api_key.store
    if request.method == "DELETE":
        refs = CustomerRefsIn.model_validate(args).customers
        return _result(customers_delete(store=store, refs=refs))
    records = CustomersIn.model_validate(args).customers
    return _result(
        customers_sync(store=store, customers=records, partial=request.method == "PATCH")
    )


@v2_call(methods=("POST", "DELETE"), private=True)
def orders(request, api_key, args):
    if request.method == "DELETE":
        refs = OrderRefsIn.model_validate(args).orders
        return _result(orders_delete(store=api_key.store, refs=refs))
    records = OrdersIn.model_validate(args).orders
    return _result(orders_sync(store=api_key.store, orders=records))


@v2_call(methods=("POST", "DELETE"), private=True)
def products(request, api_key, args):
    if request.method == "DELETE":
        refs = ProductRefsIn.model_validate(args).products
        return _result(products_delete(store=api_key.store, refs=refs))
    records = ProductsIn.model_validate(args).products
    return _result(products_sync(store=api_key.store, products=records))


PRIVACY = {"methods": ("GET", "POST"), "private": True}


@v2_call(**PRIVACY)
def privacy_info(request, api_key, args):
    kind, value = one_identifier(args)
    subject = subject_for(kind, value)
    return StreamingHttpResponse(
        info_stream(api_key.store, subject), content_type="application/json"
    )


@v2_call(**PRIVACY)
def privacy_forget(request, api_key, args):
    kind, value = one_identifier(args)
    request_row = forget_one(store=api_key.store, api_key=api_key, kind=kind, value=value)
    return {"request": str(request_row.pk)}
