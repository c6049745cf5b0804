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
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from pydantic import TypeAdapter, ValidationError

from customers.api.auth import authenticate
from customers.api.errors import ApiError, from_validation_error
from customers.api.privacy import forget_one, info_stream, one_identifier, subject_for
from customers.api.v2_wire import add_cors, call_arguments, callback_name, jsonp, preflight
from customers.ingest.baskets import basket_set, subscriber_set
from customers.ingest.common import IngestResult
from customers.ingest.crm import customers_delete, customers_sync
from customers.ingest.events import events_ingest
from customers.ingest.orders import order_line_return, order_placed, orders_delete, orders_sync
from customers.ingest.products import products_delete, products_sync
from customers.ingest.schemas import (
    BasketIn,
    CustomerRefsIn,
    CustomersIn,
    Event,
    OrderLineReturnIn,
    OrderRefsIn,
    OrdersIn,
    ProductRefsIn,
    ProductRemoveIn,
    ProductsIn,
    ShopifySaleIn,
    SubscriberIn,
)
from stores.models import ApiKey

event_adapter = TypeAdapter(Event)


def v2_call(*, methods: tuple[str, ...], private: bool):
    """A v2 endpoint: arguments in any of the wire forms, key checked, one answer shape.

    Public-key endpoints (the storefront's tracking calls) answer CORS preflights
    and JSONP; private-key endpoints do neither, so a browser page cannot read them.
    """

    def decorate(handler: Callable[[HttpRequest, ApiKey, dict], dict | StreamingHttpResponse]):
        @csrf_exempt
        @csp_exempt()  # JSON for machines: no page to protect, no policy to build per call
        @wraps(handler)
        def view(request: HttpRequest) -> HttpResponse:
            if request.method == "OPTIONS" and not private:
                return preflight()
            response = _answer(request, handler, methods=methods, private=private)
            return response if private else add_cors(response)

        return view

    return decorate


def _answer(request, handler, *, methods, private) -> HttpResponse:
    callback = None
    try:
        callback = callback_name(request)
        if callback is not None and private:
            callback = None
            raise ApiError(
                400, "InvalidArgument", "callback: JSONP is only answered by public-key calls."
            )
        if request.method not in methods:
            raise ApiError(405, "MethodNotAllowed", f"Use {', '.join(methods)} on this endpoint.")
        args = call_arguments(request)
        api_key = authenticate(
            args.get("key"),
            args.get("private_key"),
            need_private=private,
            identifiers=None if private else _identifiers(args),
        )
        answer = handler(request, api_key, args)
    except ApiError as exc:
        response = exc.response()
    except ValidationError as exc:
        response = from_validation_error(exc).response()
    else:
        if isinstance(answer, StreamingHttpResponse):
            return answer
        if callback is not None:  # the JSON made once, straight into the callback
            return jsonp(callback, _json_bytes({"status": "ok", **answer}))
        response = JsonResponse({"status": "ok", **answer})
    if callback is not None:
        # A script tag never runs the answer of a failed request: JSONP errors come
        # with 200, the error object inside the callback (as the platform answers them).
        wrapped = jsonp(callback, response.content)
        if response.has_header("Retry-After"):
            wrapped["Retry-After"] = response["Retry-After"]
        return wrapped
    return response


def _json_bytes(data: dict) -> bytes:
    """``data`` as ``JsonResponse`` encodes it."""
    return json.dumps(data, cls=DjangoJSONEncoder).encode()


def _identifiers(args: dict) -> dict[str, list[str]]:
    """A tracking call's e-mail, customer id and visitor id, for the key lookup to check
    against the store's suppressions (anything else is checked when it is written)."""
    found: dict[str, list[str]] = {}
    for kind in ("email", "customer", "visitor"):
        value = args.get(kind)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and value and value != "auto":
            found[kind] = [value]
    return found


def _given(args: dict, *names: str) -> dict:
    """The named arguments that were sent with a value (plugins send "" for "none")."""
    return {n: args[n] for n in names if args.get(n) not in (None, "")}


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
SYNC = {"methods": ("GET", "POST"), "private": True}


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
    return _sale(api_key, args)


def _sale(api_key: ApiKey, args: dict) -> dict:
    visitor, echo = _visitor(args)
    event = {"kind": "sale", "sale": args.get("sale"), "products": args.get("products")}
    event.update(_given({**args, "visitor": visitor}, "visitor", "customer", "email"))
    return _log(api_key, event, echo)


@v2_call(methods=("POST",), private=False)
def log_sale_shopify(request, api_key, args):
    """Shopify's web pixel: the order id alone (lines come with the order sync), or a sale."""
    if args.get("products") not in (None, "", []):
        return _sale(api_key, args)
    sale = ShopifySaleIn.model_validate(args).sale
    return _result(order_placed(store=api_key.store, order_ref=sale, at=timezone.now()))


@v2_call(**SYNC)
def log_returned(request, api_key, args):
    returned = OrderLineReturnIn.model_validate(args)
    return _result(
        order_line_return(
            store=api_key.store,
            order_ref=returned.order,
            product_ref=returned.product,
            quantity=returned.quantity,
        )
    )


@v2_call(**LOG)
def log_basket_set(request, api_key, args):
    visitor, echo = _visitor(args)
    basket = BasketIn.model_validate(
        _given({**args, "visitor": visitor}, "products", "email", "visitor")
    )
    basket_set(
        store=api_key.store,
        visitor=basket.visitor,
        email=basket.email,
        products=basket.products,
        at=timezone.now(),
    )
    return echo


@v2_call(**LOG)
def subscriber_subscribe(request, api_key, args):
    email = SubscriberIn.model_validate(args).email
    subscriber_set(store=api_key.store, email=email, subscribed=True, at=timezone.now())
    return {}


@v2_call(**LOG)
def subscriber_unsubscribe(request, api_key, args):
    email = SubscriberIn.model_validate(args).email
    subscriber_set(store=api_key.store, email=email, subscribed=False, at=timezone.now())
    return {}


@v2_call(**LOG)
def log_debug(request, api_key, args):
    """The plugins' own debug log: answered, never kept (it carries shop URLs and queries)."""
    return {}


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


@v2_call(methods=("POST",), private=True)
def product_add(request, api_key, args):
    records = ProductsIn.model_validate(args).products
    return _result(products_sync(store=api_key.store, products=records))


@v2_call(methods=("GET", "POST", "DELETE"), private=True)
def product_remove(request, api_key, args):
    refs = ProductRemoveIn.model_validate(args).products
    return _result(products_delete(store=api_key.store, refs=refs))


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
