"""Every request shape the platform's integrations send, through HTTP, answered like the platform.

The shapes are data (``tests/integration_shapes.py``); this module puts each on the
wire the way its plugin does and checks the answer and what the store holds after.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.utils import timezone

from customers import models
from customers.models import Click, ContentView, Customer, Order, OrderLine, PageView, Product
from tests.integration_shapes import SHAPES

STORE_MODELS = (Customer, models.Visitor, PageView, ContentView, Click, Product, Order, OrderLine)
JSONP = re.compile(rb"^/\*\*/(?P<cb>[\w$.]+)\((?P<body>.*)\);$", re.S)


def _times(value):
    if value == "NOW":
        return int(timezone.now().timestamp())
    if value == "NOW+2h":
        return (timezone.now() + timedelta(hours=2)).replace(tzinfo=None).isoformat()
    if isinstance(value, dict):
        return {k: _times(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_times(v) for v in value]
    return value


def php_pairs(value, prefix: str) -> list[tuple[str, str]]:
    """PHP's http_build_query: nested arrays as name[0][id]=...; true as 1."""
    if isinstance(value, dict | list):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        return [pair for k, v in items for pair in php_pairs(v, f"{prefix}[{k}]")]
    if isinstance(value, bool):
        value = int(value)
    return [(prefix, str(value))]


def send(client, shape: dict, issued, *, callback: str = "Clerk._cb.c1"):
    args = {"key": issued.api_key.key, **_times(shape["args"])}
    if shape["key"] == "private":
        args["private_key"] = issued.private_key
    path, encoding = shape["path"], shape["encoding"]
    if encoding == "payload":
        return client.get(path, {"payload": json.dumps(args), "callback": callback})
    if encoding in ("query", "delete-query"):
        query = {k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in args.items()}
        if encoding == "delete-query":
            return client.delete(f"{path}?{urlencode(query)}")
        return client.get(path, query)
    pairs = [pair for name, value in args.items() for pair in php_pairs(value, name)]
    if encoding == "php-query":
        return client.get(f"{path}?{urlencode(pairs)}")
    form = "application/x-www-form-urlencoded"
    if encoding == "php-form":
        return client.post(path, data=urlencode(pairs), content_type=form)
    if encoding == "get-form-body":
        return client.generic("GET", path, urlencode(pairs), content_type=form)
    content_type = {"json": "application/json", "text": "text/plain;charset=UTF-8"}.get(
        encoding, form
    )
    return client.generic(shape["method"], path, json.dumps(args), content_type=content_type)


def answer(response) -> dict:
    if response["Content-Type"].startswith("application/javascript"):
        match = JSONP.match(response.content)
        assert match, response.content
        return json.loads(match["body"])
    return response.json()


def prepare(store, shape) -> None:
    connection.set_tenant(store)
    store.crm_fields = ["age", "city", "roles"]
    store.save(update_fields=["crm_fields"])
    for ref in shape.get("removes", ()):
        Product.objects.create(product_ref=ref, name="to remove")
    if "needs_order" in shape:
        order_ref, product_ref = shape["needs_order"]
        order = Order.objects.create(order_ref=order_ref, placed_at=timezone.now())
        OrderLine.objects.create(order=order, product_ref=product_ref, quantity=2, price=10)
    if shape["name"] == "customers-delete-query":
        Customer.objects.create(
            customer_ref="7", name="Ann", first_seen=timezone.now(), last_seen=timezone.now()
        )
    connection.set_schema_to_public()


@pytest.mark.parametrize("shape", SHAPES, ids=[s["name"] for s in SHAPES])
def test_it_takes_every_shape_the_integrations_send(client, store, api_key, shape):
    prepare(store, shape)
    response = send(client, shape, api_key)
    assert response.status_code == 200, response.content
    body = answer(response)
    assert body["status"] == "ok", body
    connection.set_tenant(store)
    for model_name, lookup in shape["stores"]:
        model = getattr(models, model_name)
        assert model.objects.filter(**lookup).exists(), (model_name, lookup)
    if not shape["stores"] and "needs_order" not in shape:
        leftovers = {m.__name__: m.objects.count() for m in STORE_MODELS}
        if shape["name"] == "customers-delete-query":
            assert leftovers["Customer"] == 0
        assert not any(leftovers.values()) or shape.get("removes"), leftovers
    for ref in shape.get("removes", ()):
        assert not Product.objects.filter(product_ref=ref).exists()
    if shape["args"].get("visitor") == "auto":
        assert body["visitor"].startswith("auto-")


def test_it_answers_jsonp_as_javascript(client, api_key):
    shape = SHAPES[0]
    response = send(client, shape, api_key, callback="jQuery_123.done")
    assert response["Content-Type"] == "application/javascript; charset=utf-8"
    assert response.content.startswith(b"/**/jQuery_123.done(")


@pytest.mark.parametrize(
    "callback", ["alert(1)//", "a b", "x;y", "</script>", "1abc", "a" * 70, "a..b"]
)
def test_it_refuses_an_unsafe_callback(client, api_key, callback):
    response = send(client, SHAPES[0], api_key, callback=callback)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["type"] == "InvalidArgument"
    assert callback.encode() not in response.content


def test_it_wraps_an_error_in_the_callback(client, store, api_key):
    payload = json.dumps({"key": "nope", "product": 1, "visitor": "v"})
    response = client.get("/v2/log/product", {"payload": payload, "callback": "cb"})
    body = answer(response)
    assert response.status_code == 200  # a script tag runs only a 2xx answer
    assert (body["status"], body["type"]) == ("error", "InvalidKey")


def test_it_answers_no_jsonp_with_a_private_key(client, api_key):
    shape = next(s for s in SHAPES if s["name"] == "magento1-product-remove")
    response = client.get(
        shape["path"],
        {
            "key": api_key.api_key.key,
            "private_key": api_key.private_key,
            "products": "[1]",
            "callback": "cb",
        },
    )
    assert response.status_code == 400 and response["Content-Type"] == "application/json"


@pytest.mark.parametrize("path", ["/v2/log/click", "/v2/log/sale/shopify", "/v2/log/basket/set"])
def test_it_answers_the_cors_preflight_of_tracking_calls(client, path):
    response = client.options(
        path,
        HTTP_ORIGIN="https://shop.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Content-Type" in response["Access-Control-Allow-Headers"]


def test_a_tracking_answer_is_readable_by_a_storefront(client, api_key):
    response = client.get("/v2/log/click", {"key": "nope", "product": 1, "visitor": "v"})
    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    "path", ["/v2/customers", "/v2/product/add", "/v2/log/returned", "/v2/privacy/info"]
)
def test_it_never_answers_cors_for_private_key_calls(client, api_key, path):
    preflight = client.options(path, HTTP_ORIGIN="https://evil.example")
    assert preflight.status_code == 405
    assert not preflight.has_header("Access-Control-Allow-Origin")
    response = client.post(path, data="{}", content_type="application/json")
    assert not response.has_header("Access-Control-Allow-Origin")


def test_it_writes_nothing_of_a_batch_with_one_broken_product(client, store, api_key):
    body = {
        "key": api_key.api_key.key,
        "private_key": api_key.private_key,
        "products": [{"id": 1, "price": 5}, {"id": 2, "price": "five"}],
    }
    response = client.post("/v2/product/add", json.dumps(body), content_type="text/plain")
    assert response.status_code == 400
    assert response.json()["type"] == "InvalidArgument"
    assert response.json()["errors"][0]["index"] == 1
    connection.set_tenant(store)
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("key=abc&product=1", "text/plain"),  # form pairs are taken as form type only
        ("{not json", "text/plain"),
        ("[1, 2]", "application/json"),
        ("just words", "application/x-www-form-urlencoded"),
        ("\xff\xfe", "text/plain"),
    ],
)
def test_a_broken_body_gets_the_documented_error(client, body, content_type):
    response = client.post("/v2/log/click", body.encode("latin-1"), content_type=content_type)
    assert response.status_code == 400
    assert response.json()["type"] == "InvalidJSON"


def test_a_broken_payload_gets_the_documented_error(client):
    response = client.get("/v2/log/click", {"payload": "{oops"})
    assert response.status_code == 400 and response.json()["type"] == "InvalidJSON"


def test_it_ignores_unknown_fields(client, store, api_key):
    payload = {
        "key": api_key.api_key.key,
        "product": 5,
        "visitor": "v-x",
        "whatever": {"deep": [1, 2]},
        "_": 1764460800123,
    }
    response = client.get("/v2/log/product", {"payload": json.dumps(payload), "extra": "1"})
    assert response.json() == {"status": "ok"}


def test_it_refuses_a_time_more_than_a_day_ahead(client, store, api_key):
    ahead = int((timezone.now() + timedelta(hours=25)).timestamp())
    body = {
        "key": api_key.api_key.key,
        "private_key": api_key.private_key,
        "orders": [{"id": "O-1", "products": [{"id": 1}], "time": ahead}],
    }
    response = client.post("/v2/orders", json.dumps(body), content_type="application/json")
    assert response.status_code == 400 and "future" in response.json()["message"]


def test_a_visitor_seen_ahead_is_dated_now_for_retention(client, store, api_key):
    ahead = timezone.now() + timedelta(hours=3)
    body = {
        "key": api_key.api_key.key,
        "sale": "S-9",
        "visitor": "v-ahead",
        "products": [{"id": 1, "price": "1.5"}],
    }
    client.post("/v2/log/sale", json.dumps(body), content_type="application/json")
    connection.set_tenant(store)
    assert models.Visitor.objects.get(visitor_ref="v-ahead").last_seen <= timezone.now()
    assert ahead > timezone.now()


def test_returns_survive_a_resync_of_the_order(client, store, api_key):
    keys = {"key": api_key.api_key.key, "private_key": api_key.private_key}
    now = int(timezone.now().timestamp())
    order = {"id": "O-7", "products": [{"id": "P", "quantity": 3, "price": 2}], "time": now}
    client.post("/v2/orders", json.dumps({**keys, "orders": [order]}), content_type="text/plain")
    r = client.get("/v2/log/returned", {**keys, "order": "O-7", "product": "P", "quantity": 5})
    assert r.json()["stored"] == {"returned_items": 3}
    assert r.json()["dropped"] == {"returned_items_not_bought": 2}
    client.post("/v2/orders", json.dumps({**keys, "orders": [order]}), content_type="text/plain")
    connection.set_tenant(store)
    assert OrderLine.objects.get(order__order_ref="O-7").returned_quantity == 3


def test_a_return_of_an_unknown_order_stores_nothing(client, store, api_key):
    keys = {"key": api_key.api_key.key, "private_key": api_key.private_key}
    r = client.get("/v2/log/returned", {**keys, "order": "nope", "product": "P"})
    assert r.json() == {"status": "ok", "stored": {}, "dropped": {"unknown_order": 1}}


def test_a_shopify_sale_leaves_a_synced_order_alone(client, store, api_key):
    keys = {"key": api_key.api_key.key, "private_key": api_key.private_key}
    now = int(timezone.now().timestamp())
    order = {"id": "55", "products": [{"id": "P", "quantity": 1, "price": 9}], "time": now}
    client.post("/v2/orders", json.dumps({**keys, "orders": [order]}), content_type="text/plain")
    pixel = json.dumps({"sale": 55, "key": api_key.api_key.key})
    r = client.post("/v2/log/sale/shopify", pixel, content_type="text/plain;charset=UTF-8")
    assert r.json()["dropped"] == {"order_known": 1}
    connection.set_tenant(store)
    assert OrderLine.objects.filter(order__order_ref="55").count() == 1


@pytest.mark.parametrize(
    "attributes",
    [{"roles": [["nested"]]}, {"roles": [{"a": 1}]}, {"roles": ["x"] * 51}, {"roles": ["x" * 300]}],
)
def test_it_refuses_lists_that_are_not_lists_of_plain_values(client, api_key, attributes):
    body = {
        "key": api_key.api_key.key,
        "private_key": api_key.private_key,
        "customers": [{"id": 1, **attributes}],
    }
    response = client.post("/v2/customers", json.dumps(body), content_type="application/json")
    assert response.status_code == 400 and response.json()["type"] == "InvalidArgument"


@pytest.mark.parametrize("price", ["4,99", "NaN", "Infinity", True, "1e20", -1])
def test_it_refuses_prices_that_are_not_amounts(client, store, api_key, price):
    body = {
        "key": api_key.api_key.key,
        "private_key": api_key.private_key,
        "products": [{"id": 1, "price": price}],
    }
    response = client.post("/v2/product/add", json.dumps(body), content_type="application/json")
    assert response.status_code == 400 and response.json()["type"] == "InvalidArgument"
