"""Hostile input over /v2/* and /api/v1: always a 4xx in the documented shape, nothing written.

A hand-written corpus: malformed JSON, wrong types, missing or two identifiers,
unknown/revoked keys, a public key where the private one is needed, another
store's key, negative quantities and prices, 10,000-character strings,
control characters, invalid e-mails, ``visitor=auto`` where it is not allowed.
"""

import json

import pytest
from django.db import connection

from customers.api.keys import api_key_revoke
from customers.models import (
    Click,
    ContentView,
    Customer,
    Order,
    OrderLine,
    PageView,
    Product,
    Visitor,
)

LONG = "x" * 10_000
CTRL = "bad\x00value\x1b"
TIME = 1_780_000_000  # 2026

# (method, path, arguments, key mode) — key modes: pub, priv, none, unknown,
# revoked, other (another store's private key), publiconly (public key on a private call)
V2_CORPUS = [
    # keys
    ("GET", "/v2/log/click", {"product": 1, "visitor": "v"}, "none"),
    ("GET", "/v2/log/click", {"product": 1, "visitor": "v"}, "unknown"),
    ("GET", "/v2/log/click", {"product": 1, "visitor": "v"}, "revoked"),
    ("GET", "/v2/log/click", {"product": 1, "visitor": "v", "key": LONG}, "raw"),
    # A NUL in the key: PostgreSQL refuses it in text, so it must never reach a query.
    ("GET", "/v2/log/click", {"product": 1, "visitor": "v", "key": "\x00"}, "raw"),
    ("GET", "/v2/privacy/info", {"email": "a@b.example", "key": "\x00"}, "raw"),
    ("POST", "/v2/privacy/forget", {"email": "a@b.example", "key": "k\x00ey"}, "raw"),
    ("GET", "/v2/privacy/info", {"email": "a@b.example", "key": "ключ"}, "raw"),
    # A JSON-encoded argument nested deeper than the parser's recursion limit.
    ("GET", "/v2/log/sale", {"sale": "S", "products": "[" * 5000 + "]" * 5000}, "pub"),
    ("GET", "/v2/privacy/info", {"email": "a@b.example"}, "publiconly"),
    ("GET", "/v2/privacy/info", {"email": "a@b.example"}, "other"),
    ("POST", "/v2/privacy/forget", {"email": "a@b.example"}, "publiconly"),
    ("POST", "/v2/customers", {"customers": [{"id": 1}]}, "publiconly"),
    ("POST", "/v2/orders", {"orders": []}, "other"),
    ("POST", "/v2/products", {"products": [{"id": 1}]}, "revoked"),
    # identifiers
    ("GET", "/v2/privacy/info", {}, "priv"),
    ("GET", "/v2/privacy/info", {"email": "a@b.example", "customer": "C1"}, "priv"),
    ("GET", "/v2/privacy/info", {"email": "no-at-sign"}, "priv"),
    ("GET", "/v2/privacy/info", {"visitor": LONG}, "priv"),
    ("GET", "/v2/privacy/info", {"customer": CTRL}, "priv"),
    ("POST", "/v2/privacy/info", {"email": ["a@b.example"]}, "priv"),
    ("POST", "/v2/privacy/forget", {}, "priv"),
    ("POST", "/v2/privacy/forget", {"visitor": "v", "customer": "c"}, "priv"),
    ("POST", "/v2/privacy/forget", {"email": {"$ne": 1}}, "priv"),
    # tracking: missing, wrong types, long, control characters
    ("GET", "/v2/log/click", {"visitor": "v"}, "pub"),
    ("GET", "/v2/log/click", {"product": 1}, "pub"),
    ("GET", "/v2/log/click", {"product": LONG, "visitor": "v"}, "pub"),
    ("GET", "/v2/log/click", {"product": 1, "visitor": CTRL}, "pub"),
    ("GET", "/v2/log/click", {"product": 1, "visitor": "v", "n": "-1"}, "pub"),
    ("GET", "/v2/log/click", {"product": 1, "visitor": "v", "n": "first"}, "pub"),
    ("GET", "/v2/log/click", {"product": 1, "visitor": "v", "labels": "not json"}, "pub"),
    ("GET", "/v2/log/click", {"product": 1, "visitor": "v", "labels": '{"a": 1}'}, "pub"),
    ("GET", "/v2/log/click", {"product": 1, "visitor": "v", "external": "maybe"}, "pub"),
    ("GET", "/v2/log/click", {"product": 1, "visitor": "v", "api": LONG}, "pub"),
    ("POST", "/v2/log/product", {"product": True, "visitor": "v"}, "pub"),
    ("POST", "/v2/log/product", {"product": None, "visitor": "v"}, "pub"),
    ("POST", "/v2/log/product", {"product": 1, "visitor": ["v"]}, "pub"),
    ("POST", "/v2/log/product", {"product": 1.5, "visitor": "v"}, "pub"),
    ("GET", "/v2/log/category", {"category": "", "visitor": "v"}, "pub"),
    ("GET", "/v2/log/category", {"category": CTRL, "visitor": "v"}, "pub"),
    ("GET", "/v2/log/email", {"email": "not-an-email", "visitor": "v"}, "pub"),
    ("GET", "/v2/log/email", {"email": "a@b.example"}, "pub"),
    ("GET", "/v2/log/email", {"email": LONG + "@b.example", "visitor": "v"}, "pub"),
    ("GET", "/v2/log/sale", {"sale": "S", "products": "[]"}, "pub"),
    ("GET", "/v2/log/sale", {"sale": "S", "products": '[{"id": 1, "quantity": -1}]'}, "pub"),
    ("GET", "/v2/log/sale", {"sale": "S", "products": '[{"id": 1, "price": -0.01}]'}, "pub"),
    ("GET", "/v2/log/sale", {"sale": "S", "products": '[{"id": 1, "price": "1e99"}]'}, "pub"),
    ("GET", "/v2/log/sale", {"products": "[1]"}, "pub"),
    ("GET", "/v2/log/sale", {"sale": "S", "products": "[1]", "email": "nope"}, "pub"),
    ("POST", "/v2/log/sale", {"sale": "S", "products": [{"id": {"x": 1}}]}, "pub"),
    # sync
    ("POST", "/v2/customers", {}, "priv"),
    ("POST", "/v2/customers", {"customers": "C1"}, "priv"),
    ("POST", "/v2/customers", {"customers": [{"name": "no id"}]}, "priv"),
    ("POST", "/v2/customers", {"customers": [{"id": "C1", "email": "bad"}]}, "priv"),
    ("POST", "/v2/customers", {"customers": [{"id": "C1", "city": LONG}]}, "priv"),
    ("POST", "/v2/customers", {"customers": [{"id": "C1", "city": {"nested": 1}}]}, "priv"),
    ("POST", "/v2/customers", {"customers": [{"id": "C1", "name": CTRL}]}, "priv"),
    # JSON that PostgreSQL's jsonb refuses (json.dumps writes NaN, json.loads reads it back)
    ("POST", "/v2/customers", {"customers": [{"id": "C1", "age": float("nan")}]}, "priv"),
    ("POST", "/v2/customers", {"customers": [{"id": "C1", "age": float("inf")}]}, "priv"),
    ("POST", "/v2/customers", {"customers": [{"id": "C1", "city": "\ud800"}]}, "priv"),
    ("POST", "/v2/customers", {"customers": [{"id": "C1", "\udfff": 1}]}, "priv"),
    (
        "POST",
        "/v2/customers",
        {"customers": [{"id": "C1"}, {"id": "C2", "email": "x"}]},
        "priv",
    ),
    ("PATCH", "/v2/customers", {"customers": [{"id": None}]}, "priv"),
    ("DELETE", "/v2/customers", {"customers": "C1"}, "priv"),
    ("DELETE", "/v2/customers", {"customers": []}, "priv"),
    ("POST", "/v2/orders", {"orders": [{"id": "O", "products": [], "time": "x"}]}, "priv"),
    (
        "POST",
        "/v2/orders",
        {"orders": [{"id": "O", "products": [{"id": 1, "quantity": -3}], "time": TIME}]},
        "priv",
    ),
    (
        "POST",
        "/v2/orders",
        {"orders": [{"id": "O", "products": [{"id": 1, "price": -5}], "time": TIME}]},
        "priv",
    ),
    (
        "POST",
        "/v2/orders",
        {"orders": [{"id": "O", "products": [1], "time": TIME, "email": "x@"}]},
        "priv",
    ),
    ("POST", "/v2/products", {"products": [{"id": 1, "price": -1}]}, "priv"),
    ("POST", "/v2/products", {"products": [{"id": 1, "categories": "shoes"}]}, "priv"),
    ("POST", "/v2/products", {"products": [{"id": 1, "name": LONG}]}, "priv"),
    ("POST", "/v2/products", {"products": [{"id": CTRL}]}, "priv"),
    # methods
    ("PUT", "/v2/customers", {"customers": [{"id": 1}]}, "priv"),
    ("DELETE", "/v2/log/click", {"product": 1, "visitor": "v"}, "pub"),
]

RAW_BODIES = [
    b"{not json",
    b"[1, 2, 3]",
    b'"just a string"',
    b"\xff\xfe\x00",
    b"",
    b"null",
    # Nested 5,000 deep, no key: the parser's recursion limit is bad input, not a 500.
    b"[" * 5000 + b"]" * 5000,
    b'{"a":' * 5000 + b"1" + b"}" * 5000,
]


@pytest.fixture
def keyring(api_key, outlet_api_key, store):
    from customers.api.keys import api_key_create

    revoked = api_key_create(store=store, label="revoked")
    api_key_revoke(api_key=revoked.api_key)
    return {"main": api_key, "outlet": outlet_api_key, "revoked": revoked}


def with_keys(args: dict, mode: str, keyring) -> dict:
    main = keyring["main"]
    extra = {
        "pub": {"key": main.api_key.key},
        "priv": {"key": main.api_key.key, "private_key": main.private_key},
        "publiconly": {"key": main.api_key.key},
        "none": {},
        "raw": {},
        "unknown": {"key": "0" * 32, "private_key": "nope"},
        "revoked": {
            "key": keyring["revoked"].api_key.key,
            "private_key": keyring["revoked"].private_key,
        },
        "other": {"key": main.api_key.key, "private_key": keyring["outlet"].private_key},
    }[mode]
    return {**args, **extra}


def call(client, method, path, args):
    if method == "GET":
        query = {k: (v if isinstance(v, str) else json.dumps(v)) for k, v in args.items()}
        return client.get(path, query)
    return client.generic(method, path, json.dumps(args), content_type="application/json")


def assert_error_shape(response, *, allowed=range(400, 500)):
    assert response.status_code in allowed, (response.status_code, response.content[:300])
    body = response.json()
    assert body["status"] == "error"
    assert {"type", "message", "moreInfo", "id"} <= set(body)
    assert body["type"] and body["type"].isidentifier()
    # The message never echoes a long or control-character value back.
    assert LONG not in body["message"] and "\x00" not in json.dumps(body)


def assert_nothing_written(store):
    connection.set_tenant(store)
    for model in (Visitor, Customer, Order, OrderLine, PageView, ContentView, Click, Product):
        assert not model.objects.exists(), model.__name__
    connection.set_schema_to_public()


@pytest.mark.parametrize("method, path, args, mode", V2_CORPUS)
def test_it_refuses_hostile_v2_calls(client, store, keyring, method, path, args, mode):
    response = call(client, method, path, with_keys(args, mode, keyring))
    assert_error_shape(response)
    assert_nothing_written(store)


@pytest.mark.parametrize("body", RAW_BODIES)
@pytest.mark.parametrize("path", ["/v2/customers", "/v2/log/click", "/v2/privacy/forget"])
def test_it_refuses_malformed_v2_bodies(client, store, keyring, path, body):
    response = client.generic("POST", path, body, content_type="application/json")
    assert_error_shape(response)
    assert_nothing_written(store)


def bearer(keyring, mode="priv"):
    main = keyring["main"]
    return {
        "priv": f"Bearer {main.api_key.key}:{main.private_key}",
        "publiconly": f"Bearer {main.api_key.key}",
        "other": f"Bearer {main.api_key.key}:{keyring['outlet'].private_key}",
        "revoked": (f"Bearer {keyring['revoked'].api_key.key}:{keyring['revoked'].private_key}"),
        "garbage": "Bearer " + LONG,
        "control": "Bearer a\x01:b",
        "nul": "Bearer \x00:x",
        "nul_private": f"Bearer {main.api_key.key}:\x00",
    }[mode]


EVENT = {"kind": "page", "visitor": "v", "url": "/", "time": TIME}
V1_CORPUS = [
    ("POST", "/api/v1/events", {"events": [EVENT]}, "publiconly"),
    ("POST", "/api/v1/events", {"events": [EVENT]}, "other"),
    ("POST", "/api/v1/events", {"events": [EVENT]}, "revoked"),
    ("POST", "/api/v1/events", {"events": [EVENT]}, "garbage"),
    ("POST", "/api/v1/events", {"events": [EVENT]}, "nul"),
    ("POST", "/api/v1/events", {"events": [EVENT]}, "nul_private"),
    ("GET", "/api/v1/privacy/requests", {}, "nul"),
    ("POST", "/api/v1/events", {}, "priv"),
    ("POST", "/api/v1/events", {"events": "many"}, "priv"),
    ("POST", "/api/v1/events", {"events": [EVENT, {**EVENT, "time": -1}]}, "priv"),
    ("POST", "/api/v1/events", {"events": [{**EVENT, "visitor": "auto"}]}, "priv"),
    ("POST", "/api/v1/events", {"events": [{**EVENT, "url": LONG}]}, "priv"),
    ("POST", "/api/v1/events", {"events": [{**EVENT, "title": CTRL}]}, "priv"),
    ("POST", "/api/v1/events", {"events": [{**EVENT, "duration": -5}]}, "priv"),
    ("POST", "/api/v1/events", {"events": [{**EVENT, "kind": None}]}, "priv"),
    (
        "POST",
        "/api/v1/events",
        {"events": [{"kind": "email", "visitor": "v", "email": "@"}]},
        "priv",
    ),
    (
        "POST",
        "/api/v1/events",
        {"events": [{"kind": "sale", "sale": "S", "products": [{"id": 1, "quantity": 0}]}]},
        "priv",
    ),
    ("POST", "/api/v1/events", {"events": [EVENT] * 1001}, "priv"),
    ("POST", "/api/v1/privacy/forget", {"subjects": []}, "priv"),
    ("POST", "/api/v1/privacy/forget", {"subjects": [{}]}, "priv"),
    ("POST", "/api/v1/privacy/forget", {"subjects": [{"email": "a@b.c", "visitor": "v"}]}, "priv"),
    ("POST", "/api/v1/privacy/forget", {"subjects": [{"email": "a@b.c"}] * 1001}, "priv"),
    ("POST", "/api/v1/privacy/forget", {"subjects": [{"visitor": CTRL}]}, "priv"),
    ("GET", "/api/v1/privacy/subjects", {}, "priv"),
    ("GET", "/api/v1/privacy/subjects", {"email": "a@b.c", "visitor": "v"}, "priv"),
    ("GET", "/api/v1/privacy/subjects", {"email": LONG}, "priv"),
    ("GET", "/api/v1/privacy/subjects", {"visitor": "v", "page": "0"}, "priv"),
    ("GET", "/api/v1/privacy/subjects", {"visitor": "v", "page_size": "100000"}, "priv"),
    ("GET", "/api/v1/privacy/subjects", {"visitor": "v"}, "publiconly"),
    ("GET", "/api/v1/privacy/requests/abc", {}, "priv"),
    ("GET", "/api/v1/privacy/requests/99999999", {}, "priv"),
    ("GET", "/api/v1/privacy/requests", {"page": "-1"}, "priv"),
    ("GET", "/api/v1/privacy/requests", {"status": "bogus"}, "priv"),
    ("GET", "/api/v1/privacy/requests", {}, "control"),
    ("PUT", "/api/v1/events", {"events": [EVENT]}, "priv"),
    ("GET", "/api/v1/nothing-here", {}, "priv"),
]


@pytest.mark.parametrize("method, path, args, mode", V1_CORPUS)
def test_it_refuses_hostile_v1_calls(client, store, keyring, method, path, args, mode):
    headers = {"HTTP_AUTHORIZATION": bearer(keyring, mode)}
    if method == "GET":
        response = client.get(path, args, **headers)
    else:
        response = client.generic(
            method, path, json.dumps(args), content_type="application/json", **headers
        )
    assert_error_shape(response)
    assert_nothing_written(store)


@pytest.mark.parametrize("body", RAW_BODIES)
def test_it_refuses_malformed_v1_bodies(client, store, keyring, body):
    response = client.generic(
        "POST",
        "/api/v1/events",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=bearer(keyring),
    )
    assert_error_shape(response)
    assert_nothing_written(store)


def test_it_refuses_a_v1_body_over_one_megabyte(client, keyring):
    body = json.dumps({"events": [{**EVENT, "url": "x" * 1900}] * 600})
    response = client.generic(
        "POST",
        "/api/v1/events",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=bearer(keyring),
    )
    assert_error_shape(response, allowed=[413])
