"""Baskets and newsletter subscriptions: collected as allowed, shown, exported, forgotten."""

from __future__ import annotations

import json

from django.db import connection

from customers.models import Basket, Subscriber
from customers.privacy.forget import forget_execute
from customers.privacy.forget_requests import forget_request_create
from tests.conftest import login


def keys(issued):
    return {"key": issued.api_key.key}


def call(client, path, **args):
    response = client.post(path, data=json.dumps(args), content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_basket_is_kept_per_device_and_cleared_when_empty(client, store, api_key):
    call(client, "/v2/log/basket/set", **keys(api_key), visitor="V-B", products=[1, "2"])
    call(client, "/v2/log/basket/set", **keys(api_key), visitor="V-B", products=["3"])
    connection.set_tenant(store)
    assert list(Basket.objects.values_list("visitor__visitor_ref", "products")) == [("V-B", ["3"])]
    connection.set_schema_to_public()
    call(client, "/v2/log/basket/set", **keys(api_key), visitor="V-B", products=[])
    connection.set_tenant(store)
    assert not Basket.objects.exists()


def test_no_email_is_kept_where_the_store_does_not_collect_them(client, outlet, outlet_api_key):
    call(client, "/v2/subscriber/subscribe", **keys(outlet_api_key), email="ann@example.com")
    call(
        client, "/v2/log/basket/set", **keys(outlet_api_key), email="ann@example.com", products=[1]
    )
    connection.set_tenant(outlet)
    assert not Subscriber.objects.exists() and not Basket.objects.exists()


def test_the_profile_and_export_show_them_and_a_forget_removes_them(client, store, api_key, alice):
    call(client, "/v2/subscriber/subscribe", **keys(api_key), email="ann@example.com")
    call(client, "/v2/log/basket/set", **keys(api_key), email="ann@example.com", products=[77])
    call(client, "/v2/subscriber/subscribe", **keys(api_key), email="bo@example.com")
    login(client, alice)
    page = client.get(f"/s/{store.slug}/customer/ann@example.com/").content.decode()
    assert 'id="section-baskets"' in page and "77" in page
    assert 'id="section-subscriptions"' in page and "subscribed" in page
    response = client.get(f"/s/{store.slug}/customer/ann@example.com/download/")
    doc = json.loads(b"".join(response.streaming_content))
    assert [b["products"] for b in doc["baskets"]] == [["77"]]
    assert [(s["email"], s["subscribed"]) for s in doc["subscriptions"]] == [
        ("ann@example.com", True)
    ]
    assert "bo@example.com" not in json.dumps(doc)

    request = forget_request_create(store=store, kind="email", value="ann@example.com", via="ui")
    counts = forget_execute(request=request)
    assert counts["baskets"] == 1 and counts["subscribers"] == 1
    connection.set_tenant(store)
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["bo@example.com"]
    assert not Basket.objects.exists()
    connection.set_schema_to_public()
    # A call after the forget is new activity, the person's new choice: kept.
    client.logout()
    call(client, "/v2/subscriber/unsubscribe", **keys(api_key), email="ann@example.com")
    connection.set_tenant(store)
    assert Subscriber.objects.get(email="ann@example.com").subscribed is False
