"""Hostile input to the v1 sync endpoints: a 4xx in the documented error shape, nothing written.

Malformed JSON, wrong types, empty and 1,001-item batches, negative quantities
and prices, 10,000-character strings, control characters, values JSON allows
and PostgreSQL does not (NaN, lone surrogates), one bad item among good ones,
and every kind of wrong key: none, unknown, revoked, the public key alone,
another store's private key. Plus the body limit and the rate limit.
"""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from customers.api.keys import api_key_create, api_key_revoke
from customers.models import Customer, Order, OrderLine, Product, Visitor

LONG = "x" * 10_000
CTRL = "bad\x00value\x1b"
TIME = int((timezone.now() - timedelta(days=1)).timestamp())
ORDER = {"id": "O-1", "products": [{"id": 1, "quantity": 1, "price": 5}], "time": TIME}
BAD = "InvalidArgument"
OPERATIONS = [
    ("POST", "/api/v1/customers", {"customers": [{"id": "C-1"}]}),
    ("DELETE", "/api/v1/customers", {"customers": ["C-1"]}),
    ("POST", "/api/v1/orders", {"orders": [ORDER]}),
    ("DELETE", "/api/v1/orders", {"orders": ["O-1"]}),
    ("POST", "/api/v1/products", {"products": [{"id": 1}]}),
    ("DELETE", "/api/v1/products", {"products": [1]}),
]

# (method, path, body, error type)
CORPUS = [
    # shape and types
    ("POST", "/api/v1/customers", {}, BAD),
    ("POST", "/api/v1/customers", {"customers": "C-1"}, BAD),
    ("POST", "/api/v1/customers", {"customers": [1]}, BAD),
    ("POST", "/api/v1/customers", {"customers": [{"name": "no id"}]}, BAD),
    ("POST", "/api/v1/customers", {"customers": [{"id": {"$ne": 1}}]}, BAD),
    ("POST", "/api/v1/customers", {"customers": [{"id": True}]}, BAD),
    ("POST", "/api/v1/customers", {"customers": [{"id": "C-1", "email": "nope"}]}, BAD),
    ("POST", "/api/v1/customers", {"customers": [{"id": "C-1", "city": {"nested": 1}}]}, BAD),
    ("POST", "/api/v1/customers", {"customers": [{"id": "C-1", "time": "soon"}]}, BAD),
    ("POST", "/api/v1/customers", {"customers": [{"id": "C-1", "time": TIME + 86_400 * 3}]}, BAD),
    ("DELETE", "/api/v1/customers", {}, BAD),
    ("DELETE", "/api/v1/customers", {"customers": "C-1"}, BAD),
    ("DELETE", "/api/v1/customers", {"customers": [{"id": "C-1"}]}, BAD),
    ("DELETE", "/api/v1/customers", {"customers": [None]}, BAD),
    ("POST", "/api/v1/orders", {"orders": [{**ORDER, "products": "1"}]}, BAD),
    ("POST", "/api/v1/orders", {"orders": [{**ORDER, "time": 1}]}, BAD),
    ("POST", "/api/v1/orders", {"orders": [{**ORDER, "email": "x@"}]}, BAD),
    ("POST", "/api/v1/orders", {"orders": [{**ORDER, "visitor": "auto"}]}, BAD),
    ("POST", "/api/v1/products", {"products": [{"id": 1, "price": "cheap"}]}, BAD),
    ("POST", "/api/v1/products", {"products": [{"id": 1, "categories": "shoes"}]}, BAD),
    ("DELETE", "/api/v1/orders", {"orders": [1.5]}, BAD),
    ("DELETE", "/api/v1/products", {"products": []}, BAD),
    # batch sizes
    ("POST", "/api/v1/customers", {"customers": []}, BAD),
    ("POST", "/api/v1/customers", {"customers": [{"id": "C-1"}] * 1001}, BAD),
    ("POST", "/api/v1/orders", {"orders": [ORDER] * 1001}, BAD),
    ("POST", "/api/v1/products", {"products": [{"id": 1}] * 1001}, BAD),
    ("DELETE", "/api/v1/customers", {"customers": ["C-1"] * 1001}, BAD),
    ("DELETE", "/api/v1/orders", {"orders": ["O-1"] * 1001}, BAD),
    # negative and zero quantities, negative and absurd prices
    (
        "POST",
        "/api/v1/orders",
        {"orders": [{**ORDER, "products": [{"id": 1, "quantity": -3}]}]},
        BAD,
    ),
    (
        "POST",
        "/api/v1/orders",
        {"orders": [{**ORDER, "products": [{"id": 1, "quantity": 0}]}]},
        BAD,
    ),
    (
        "POST",
        "/api/v1/orders",
        {"orders": [{**ORDER, "products": [{"id": 1, "price": -0.01}]}]},
        BAD,
    ),
    (
        "POST",
        "/api/v1/orders",
        {"orders": [{**ORDER, "products": [{"id": 1, "price": 1e99}]}]},
        BAD,
    ),
    ("POST", "/api/v1/products", {"products": [{"id": 1, "price": -1}]}, BAD),
    # 10,000-character strings
    ("POST", "/api/v1/customers", {"customers": [{"id": LONG}]}, BAD),
    ("POST", "/api/v1/customers", {"customers": [{"id": "C-1", "name": LONG}]}, BAD),
    ("POST", "/api/v1/customers", {"customers": [{"id": "C-1", "city": LONG}]}, BAD),
    ("POST", "/api/v1/customers", {"customers": [{"id": "C-1", LONG: 1}]}, BAD),
    ("POST", "/api/v1/orders", {"orders": [{**ORDER, "customer": LONG}]}, BAD),
    ("POST", "/api/v1/products", {"products": [{"id": 1, "name": LONG}]}, BAD),
    ("POST", "/api/v1/products", {"products": [{"id": 1, "url": LONG}]}, BAD),
    ("DELETE", "/api/v1/products", {"products": [LONG]}, BAD),
    # control characters
    ("POST", "/api/v1/customers", {"customers": [{"id": CTRL}]}, BAD),
    ("POST", "/api/v1/customers", {"customers": [{"id": "C-1", "name": CTRL}]}, BAD),
    ("POST", "/api/v1/customers", {"customers": [{"id": "C-1", "city": CTRL}]}, BAD),
    ("POST", "/api/v1/customers", {"customers": [{"id": "C-1", CTRL: "x"}]}, BAD),
    ("POST", "/api/v1/orders", {"orders": [{**ORDER, "id": CTRL}]}, BAD),
    ("POST", "/api/v1/products", {"products": [{"id": 1, "categories": [CTRL]}]}, BAD),
    ("DELETE", "/api/v1/customers", {"customers": [CTRL]}, BAD),
    # one bad item among good ones: nothing of the batch is written
    ("POST", "/api/v1/customers", {"customers": [{"id": "C-1"}, {"id": "C-2", "email": "x"}]}, BAD),
    (
        "POST",
        "/api/v1/orders",
        {"orders": [ORDER, {**ORDER, "id": "O-2", "products": [{"id": 1, "quantity": "many"}]}]},
        BAD,
    ),
    ("POST", "/api/v1/products", {"products": [{"id": 1}, {"id": 2, "price": -2}]}, BAD),
    # methods
    ("PUT", "/api/v1/customers", {"customers": [{"id": "C-1"}]}, "MethodNotAllowed"),
    ("PATCH", "/api/v1/products", {"products": [{"id": 1}]}, "MethodNotAllowed"),
]

# Valid JSON, but values PostgreSQL cannot store (Python's json reads NaN and Infinity;
# "\ud800" is a lone surrogate).
RAW_VALUES = [
    b'{"customers": [{"id": "C-1", "age": NaN}]}',
    b'{"customers": [{"id": "C-1", "age": -Infinity}]}',
    b'{"customers": [{"id": "C-1", "age": 1e400}]}',
    b'{"customers": [{"id": "C-1", "city": "\\ud800"}]}',
    b'{"customers": [{"id": "C-1", "\\udfff": 1}]}',
    b'{"customers": [{"id": "C-1", "name": "\\ud800"}]}',
    b'{"products": [{"id": "\\ud800"}]}',
    b'{"products": [{"id": 1, "price": NaN}]}',
]
MALFORMED = [b"{not json", b"[1, 2, 3]", b'"just a string"', b"\xff\xfe\x00", b"", b"null"]


@pytest.fixture
def keyring(api_key, outlet_api_key, store):
    revoked = api_key_create(store=store, label="revoked")
    api_key_revoke(api_key=revoked.api_key)
    main = api_key
    return {
        "priv": f"Bearer {main.api_key.key}:{main.private_key}",
        "publiconly": f"Bearer {main.api_key.key}",
        "other": f"Bearer {main.api_key.key}:{outlet_api_key.private_key}",
        "revoked": f"Bearer {revoked.api_key.key}:{revoked.private_key}",
        "unknown": "Bearer " + "0" * 32 + ":nope",
        "none": None,
    }


def send(client, method, path, body, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.generic(method, path, data, content_type="application/json", **headers)


def assert_refused(response, error_type, status=None):
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    if status is not None:
        assert response.status_code == status
    body = response.json()
    assert body["status"] == "error" and body["type"] == error_type, body
    assert {"type", "message", "moreInfo", "id"} <= set(body)
    # The message never echoes a long or control-character value back.
    assert LONG not in response.content.decode() and "\\u0000" not in response.content.decode()


def assert_nothing_written(*stores):
    for store in stores:
        connection.set_tenant(store)
        for model in (Customer, Visitor, Order, OrderLine, Product):
            assert not model.objects.exists(), (store.slug, model.__name__)
    connection.set_schema_to_public()


@pytest.mark.parametrize("method, path, body, error_type", CORPUS)
def test_it_refuses_bad_arguments(client, store, keyring, method, path, body, error_type):
    response = send(client, method, path, body, keyring["priv"])
    assert_refused(response, error_type)
    assert_nothing_written(store)


@pytest.mark.parametrize("raw", RAW_VALUES)
def test_it_refuses_values_postgresql_cannot_store(client, store, keyring, raw):
    path = "/api/v1/customers" if b"customers" in raw else "/api/v1/products"
    assert_refused(send(client, "POST", path, raw, keyring["priv"]), BAD, 400)
    assert_nothing_written(store)


@pytest.mark.parametrize("raw", MALFORMED)
@pytest.mark.parametrize("method, path", [(m, p) for m, p, _ in OPERATIONS])
def test_it_refuses_malformed_bodies(client, store, keyring, method, path, raw):
    response = send(client, method, path, raw, keyring["priv"])
    assert_refused(response, response.json().get("type"), 400)
    assert response.json()["type"] in ("InvalidJSON", BAD)
    assert_nothing_written(store)


@pytest.mark.parametrize(
    "mode, status, error_type",
    [
        ("none", 401, "MissingKey"),
        ("unknown", 401, "InvalidKey"),
        ("revoked", 401, "InvalidKey"),
        ("publiconly", 403, "PrivateKeyRequired"),
        ("other", 403, "InvalidPrivateKey"),
    ],
)
@pytest.mark.parametrize("method, path, body", OPERATIONS)
def test_it_needs_the_stores_private_key(
    client, store, outlet, keyring, method, path, body, mode, status, error_type
):
    assert_refused(send(client, method, path, body, keyring[mode]), error_type, status)
    assert_nothing_written(store, outlet)


def test_another_stores_key_pair_writes_only_to_that_store(client, store, outlet, outlet_api_key):
    authorization = f"Bearer {outlet_api_key.api_key.key}:{outlet_api_key.private_key}"
    response = send(
        client, "POST", "/api/v1/customers", {"customers": [{"id": "C-1"}]}, authorization
    )
    assert response.status_code == 200
    assert_nothing_written(store)
    connection.set_tenant(outlet)
    assert Customer.objects.get().customer_ref == "C-1"


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_it_refuses_a_body_over_one_megabyte(client, store, keyring, method):
    body = {"products": [{"id": "x" * 100}] * 11_000} if method == "POST" else None
    body = body or {"products": ["x" * 100] * 11_000}
    response = send(client, method, "/api/v1/products", body, keyring["priv"])
    assert_refused(response, "BodyTooLarge", 413)
    assert_nothing_written(store)


def test_it_rate_limits_per_key(client, store, keyring, settings):
    settings.API_RATE_LIMIT_REQUESTS = 1
    body = {"products": [{"id": 1}]}
    assert send(client, "POST", "/api/v1/products", body, keyring["priv"]).status_code == 200
    response = send(client, "DELETE", "/api/v1/products", {"products": [1]}, keyring["priv"])
    assert_refused(response, "RateLimited", 429)
    assert 1 <= int(response["Retry-After"]) <= settings.API_RATE_LIMIT_WINDOW
    connection.set_tenant(store)
    assert Product.objects.count() == 1  # the refused delete deleted nothing
