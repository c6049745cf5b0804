"""The v1 API: export document, request log, batch events, OpenAPI."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from customers.models import PageView, Visitor
from gdpr_dashboard.models import PrivacyRequest, RequestKind, RequestVia
from tests.factories import ClickFactory, CustomerFactory, OrderLineFactory, VisitorFactory


def bearer(issued):
    return {"HTTP_AUTHORIZATION": f"Bearer {issued.api_key.key}:{issued.private_key}"}


def post(client, url, body, issued):
    return client.post(
        url, data=json.dumps(body), content_type="application/json", **bearer(issued)
    )


def now_s(minutes=0):
    return int((timezone.now() - timedelta(minutes=minutes)).timestamp())


def test_it_ingests_a_batch_of_mixed_events(client, store, api_key):
    events = [
        {"kind": "page", "visitor": "v1", "url": "/", "time": now_s(30)},
        {"kind": "product", "visitor": "v1", "product": 1, "time": now_s(29)},
        {"kind": "click", "visitor": "v1", "product": 1, "n": 0, "time": now_s(28)},
        {"kind": "email", "visitor": "v1", "email": "a@example.com", "time": now_s(27)},
        {"kind": "sale", "visitor": "v1", "sale": "S1", "products": [1], "time": now_s(26)},
    ]
    response = post(client, "/api/v1/events", {"events": events}, api_key)
    assert response.status_code == 200, response.content
    assert response.json()["stored"] == {
        "page_views": 1,
        "content_views": 1,
        "clicks": 1,
        "emails": 1,
        "orders": 1,
    }
    connection.set_tenant(store)
    assert Visitor.objects.get().visit_count == 1


def test_it_rejects_the_whole_batch_naming_each_bad_event(client, store, api_key):
    events = [
        {"kind": "page", "visitor": "v1", "url": "/", "time": now_s()},
        {"kind": "page", "visitor": "v1", "url": "/", "time": "soon"},
        {"kind": "page", "visitor": "v1", "url": "/"},
        {"kind": "nope", "visitor": "v1", "time": now_s()},
    ]
    response = post(client, "/api/v1/events", {"events": events}, api_key)
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "InvalidArgument"
    assert sorted({e["index"] for e in body["errors"]}) == [1, 2, 3]
    connection.set_tenant(store)
    assert not PageView.objects.exists()


@pytest.mark.parametrize("size", [0, 1001])
def test_it_takes_one_to_a_thousand_events(client, api_key, size):
    event = {"kind": "page", "visitor": "v1", "url": "/", "time": now_s()}
    response = post(client, "/api/v1/events", {"events": [event] * size}, api_key)
    assert response.status_code == 400 and response.json()["type"] == "InvalidArgument"


def test_it_exports_a_subject_page_by_page(client, in_store, api_key):
    customer = CustomerFactory(email="ann@example.com", attributes={"age": 30})
    visitor = VisitorFactory(customer=customer)
    for _ in range(3):
        ClickFactory(visitor=visitor)
    OrderLineFactory(order__customer=customer)
    connection.set_schema_to_public()
    response = client.get(
        "/api/v1/privacy/subjects", {"email": "ann@example.com", "page_size": 2}, **bearer(api_key)
    )
    assert response.status_code == 200, response.content
    doc = response.json()
    assert doc["customer"]["attributes"] == {"age": 30}
    assert len(doc["clicks"]) == 2 and doc["pagination"]["sections"]["clicks"]["has_more"]
    assert doc["orders"][0]["lines"][0]["price"] == "19.90"
    page2 = client.get(
        "/api/v1/privacy/subjects",
        {"email": "ann@example.com", "page_size": 2, "page": 2},
        **bearer(api_key),
    ).json()
    assert len(page2["clicks"]) == 1 and not page2["pagination"]["sections"]["clicks"]["has_more"]


def test_it_lists_and_shows_only_the_stores_own_requests(client, store, outlet, api_key):
    own = PrivacyRequest.objects.create(
        store=store, kind=RequestKind.FORGET, via=RequestVia.API, subject_kind="email"
    )
    other = PrivacyRequest.objects.create(
        store=outlet, kind=RequestKind.FORGET, via=RequestVia.UI, subject_kind="visitor"
    )
    listing = client.get("/api/v1/privacy/requests", **bearer(api_key)).json()
    assert [r["id"] for r in listing["requests"]] == [str(own.pk)]
    assert (
        client.get(f"/api/v1/privacy/requests/{own.pk}", **bearer(api_key)).json()["status"]
        == "received"
    )
    response = client.get(f"/api/v1/privacy/requests/{other.pk}", **bearer(api_key))
    assert response.status_code == 404 and response.json()["type"] == "UnknownRequest"


@pytest.mark.parametrize(
    "header, status, error_type",
    [
        (None, 401, "MissingKey"),
        ("Bearer nope:nope", 401, "InvalidKey"),
        ("Bearer KEY", 403, "PrivateKeyRequired"),
        ("Bearer KEY:wrong", 403, "InvalidPrivateKey"),
        ("Basic abc", 401, "InvalidKey"),
    ],
)
def test_it_refuses_bad_credentials(client, api_key, header, status, error_type):
    extra = {"HTTP_AUTHORIZATION": header.replace("KEY", api_key.api_key.key)} if header else {}
    response = client.get("/api/v1/privacy/requests", **extra)
    assert response.status_code == status
    assert response.json()["type"] == error_type


def test_it_publishes_an_openapi_schema_and_docs(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/events", "/api/v1/privacy/forget", "/api/v1/privacy/subjects"} <= set(
        schema["paths"]
    )
    assert client.get("/api/v1/docs").status_code == 200


def test_it_names_the_field_of_a_rejected_event(client, api_key):
    # The event kind pydantic puts in the path is dropped, the field called "email" is not.
    events = [{"kind": "email", "visitor": "v1", "email": "nope", "time": now_s()}]
    response = post(client, "/api/v1/events", {"events": events}, api_key)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "events.0.email", "message": "is not a valid e-mail address", "index": 0}
    ]
