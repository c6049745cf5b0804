"""The v2 compatible endpoints: the published calls, answered the same way."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from customers.api.keys import api_key_revoke
from customers.models import Click, ContentView, Customer, Order, PageView, Product, Visitor
from tests.factories import ClickFactory, CustomerFactory, OrderFactory, VisitorFactory


def keys(issued, private=False):
    args = {"key": issued.api_key.key}
    if private:
        args["private_key"] = issued.private_key
    return args


def post(client, url, body, method="post"):
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


def test_it_logs_a_click_from_query_parameters(client, store, api_key):
    response = client.get(
        "/v2/log/click",
        {
            **keys(api_key),
            "product": "1001",
            "visitor": "v-1",
            "api": "search/search",
            "n": "2",
            "external": "true",
            "labels": json.dumps(["Bestsellers"]),
        },
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok"}
    connection.set_tenant(store)
    click = Click.objects.get()
    assert (click.product_ref, click.position, click.external, click.labels) == (
        "1001",
        2,
        True,
        ["Bestsellers"],
    )
    assert click.visitor.visitor_ref == "v-1"


def test_it_makes_an_anonymous_visitor_for_auto(client, store, api_key):
    response = client.get("/v2/log/product", {**keys(api_key), "product": 7, "visitor": "auto"})
    visitor = response.json()["visitor"]
    assert visitor.startswith("auto-")
    connection.set_tenant(store)
    assert ContentView.objects.get().visitor.visitor_ref == visitor


def test_it_logs_a_category_and_a_sale_by_post(client, store, api_key):
    post(client, "/v2/log/category", {**keys(api_key), "category": "boots", "visitor": "v-2"})
    response = post(
        client,
        "/v2/log/sale",
        {
            **keys(api_key),
            "sale": "S-1",
            "visitor": "v-2",
            "customer": "C-1",
            "email": "ann@example.com",
            "products": [{"id": 1, "quantity": 2, "price": 3.5}, 2],
        },
    )
    assert response.status_code == 200, response.content
    connection.set_tenant(store)
    assert PageView.objects.get().category == "boots"
    order = Order.objects.get()
    assert order.lines.count() == 2 and order.total == 7
    assert order.email == "ann@example.com" and order.visitor.visitor_ref == "v-2"


def test_it_links_an_email_only_where_the_store_collects_them(
    client, store, outlet, api_key, outlet_api_key
):
    for issued in (api_key, outlet_api_key):
        response = client.get(
            "/v2/log/email", {**keys(issued), "email": "Ann@Example.com", "visitor": "v-3"}
        )
        assert response.json() == {"status": "ok"}
    connection.set_tenant(store)
    assert Visitor.objects.get(visitor_ref="v-3").customer.email == "ann@example.com"
    connection.set_tenant(outlet)
    assert not Customer.objects.exists() and not Visitor.objects.exists()


def test_it_syncs_customers_orders_and_products(client, store, api_key):
    auth = keys(api_key, private=True)
    r = post(
        client,
        "/v2/customers",
        {**auth, "customers": [{"id": "C-1", "name": "Ann", "age": 31, "gender": "f"}]},
    )
    assert r.json()["stored"] == {"customers": 1}
    assert r.json()["dropped"] == {"attributes_not_collected": 1}
    post(client, "/v2/customers", {**auth, "customers": [{"id": "C-1", "city": "Aarhus"}]}, "patch")
    post(client, "/v2/products", {**auth, "products": [{"id": 5, "name": "Mug", "price": 4}]})
    r = post(
        client,
        "/v2/orders",
        {
            **auth,
            "orders": [
                {"id": "O-1", "customer": "C-1", "products": [{"id": 5, "quantity": 3}], "time": 1}
            ],
        },
    )
    assert r.status_code == 400  # 1970 is not a time we take
    now = int(timezone.now().timestamp())
    r = post(
        client,
        "/v2/orders",
        {
            **auth,
            "orders": [
                {
                    "id": "O-1",
                    "customer": "C-1",
                    "products": [{"id": 5, "quantity": 3}],
                    "time": now,
                }
            ],
        },
    )
    assert r.json()["stored"] == {"orders": 1, "order_lines": 1}
    connection.set_tenant(store)
    assert Customer.objects.get().attributes == {"age": 31, "city": "Aarhus"}
    assert Order.objects.get().total == 12
    connection.set_schema_to_public()
    post(client, "/v2/products", {**auth, "products": ["5"]}, "delete")
    post(client, "/v2/orders", {**auth, "orders": ["O-1"]}, "delete")
    post(client, "/v2/customers", {**auth, "customers": ["C-1"]}, "delete")
    connection.set_tenant(store)
    assert not Product.objects.exists() and not Order.objects.exists()
    assert not Customer.objects.exists()


def test_it_answers_info_with_orders_and_activity(client, in_store, api_key):
    customer = CustomerFactory(email="ann@example.com")
    visitor = VisitorFactory(customer=customer, visitor_ref="v-9")
    t = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    ClickFactory(visitor=visitor, product_ref="77", occurred_at=t)
    OrderFactory(order_ref="O-9", customer=customer)
    connection.set_schema_to_public()
    response = client.get("/v2/privacy/info", {**keys(api_key, True), "email": "ann@example.com"})
    assert response.status_code == 200
    doc = json.loads(b"".join(response.streaming_content))
    assert doc == {
        "status": "ok",
        "orders": ["O-9"],
        "activity": [
            {
                "visitor": "v-9",
                "type": "click",
                "description": "Clicked product 77",
                "time": int(t.timestamp()),
            }
        ],
    }


def test_it_answers_info_about_nobody_with_empty_lists(client, store, api_key):
    response = client.get("/v2/privacy/info", {**keys(api_key, True), "visitor": "nobody"})
    assert json.loads(b"".join(response.streaming_content)) == {
        "status": "ok",
        "orders": [],
        "activity": [],
    }


@pytest.mark.parametrize(
    "args, status, error_type",
    [
        ({}, 401, "MissingKey"),
        ({"key": "unknown"}, 401, "InvalidKey"),
        ({"key": "K"}, 403, "PrivateKeyRequired"),
        ({"key": "K", "private_key": "wrong"}, 403, "InvalidPrivateKey"),
        ({"key": "K", "private_key": "P"}, 400, "InvalidSubject"),
        ({"key": "K", "private_key": "P", "email": "a@b.c", "visitor": "v"}, 400, "InvalidSubject"),
        ({"key": "K", "private_key": "P", "email": "a\x01@b.c"}, 400, "InvalidSubject"),
    ],
)
def test_it_refuses_bad_privacy_calls(client, api_key, args, status, error_type):
    args = {
        k: {"K": api_key.api_key.key, "P": api_key.private_key}.get(v, v) for k, v in args.items()
    }
    response = client.get("/v2/privacy/info", args)
    assert response.status_code == status
    body = response.json()
    assert body["status"] == "error" and body["type"] == error_type
    assert set(body) == {"status", "type", "message", "moreInfo", "id"}


def test_it_refuses_a_revoked_key(client, api_key):
    api_key_revoke(api_key=api_key.api_key)
    response = client.get("/v2/log/product", {**keys(api_key), "product": 1, "visitor": "v"})
    assert response.status_code == 401 and response.json()["type"] == "InvalidKey"


def test_it_refuses_another_stores_private_key(client, api_key, outlet_api_key):
    response = client.get(
        "/v2/privacy/info",
        {"key": api_key.api_key.key, "private_key": outlet_api_key.private_key, "visitor": "v"},
    )
    assert response.status_code == 403 and response.json()["type"] == "InvalidPrivateKey"


def test_it_records_last_use_at_most_once_a_minute(client, api_key, django_assert_max_num_queries):
    args = {**keys(api_key), "product": 1, "visitor": "v"}
    client.get("/v2/log/product", args)
    api_key.api_key.refresh_from_db()
    first = api_key.api_key.last_used_at
    assert first is not None
    client.get("/v2/log/product", args)
    api_key.api_key.refresh_from_db()
    assert api_key.api_key.last_used_at == first


def test_it_refuses_a_body_over_one_megabyte(client, api_key):
    body = {**keys(api_key, True), "products": [{"id": "x" * 100}] * 11_000}
    response = post(client, "/v2/products", body)
    assert response.status_code == 413 and response.json()["type"] == "BodyTooLarge"


def test_it_rate_limits_per_key(client, api_key, settings):
    settings.API_RATE_LIMIT_REQUESTS = 2
    args = {**keys(api_key), "product": 1, "visitor": "v"}
    assert client.get("/v2/log/product", args).status_code == 200
    assert client.get("/v2/log/product", args).status_code == 200
    response = client.get("/v2/log/product", args)
    assert response.status_code == 429 and response.json()["type"] == "RateLimited"
    assert 1 <= int(response["Retry-After"]) <= settings.API_RATE_LIMIT_WINDOW


def test_it_fails_open_when_redis_is_down(
    client, store, api_key, settings, monkeypatch, shared_cache_down
):
    from customers.api import auth

    monkeypatch.setattr(auth, "_down_until", 0.0)
    settings.API_RATE_LIMIT_REQUESTS = 1
    args = {**keys(api_key), "product": 1, "visitor": "v"}
    assert client.get("/v2/log/product", args).status_code == 200
    assert client.get("/v2/log/product", args).status_code == 200


def test_it_answers_unknown_endpoints_with_the_error_shape(client):
    response = client.get("/v2/log/teleport")
    assert response.status_code == 404 and response.json()["type"] == "NotFound"


def test_it_refuses_a_key_revoked_after_it_was_used(client, api_key):
    args = {**keys(api_key), "product": 1, "visitor": "v"}
    assert client.get("/v2/log/product", args).status_code == 200
    api_key_revoke(api_key=api_key.api_key)
    response = client.get("/v2/log/product", args)
    assert response.status_code == 401 and response.json()["type"] == "InvalidKey"


def test_it_applies_a_settings_change_to_the_next_call(client, store, api_key):
    args = {**keys(api_key), "email": "ann@example.com", "visitor": "v-5"}
    client.get("/v2/log/email", args)
    type(store).objects.filter(pk=store.pk).update(collect_emails=False)
    client.get("/v2/log/email", {**args, "email": "bob@example.com", "visitor": "v-6"})
    connection.set_tenant(store)
    assert list(Customer.objects.values_list("email", flat=True)) == ["ann@example.com"]


def test_it_names_the_rejected_argument(client, api_key):
    response = client.get("/v2/log/click", {**keys(api_key), "visitor": "v"})
    assert response.status_code == 400 and response.json()["message"].startswith("product: ")
    body = {**keys(api_key, True), "customers": [{"id": "C-1", "email": "nope"}]}
    response = post(client, "/v2/customers", body)
    assert response.json()["message"].startswith("customers.0.email: ")
