"""The v1 sync endpoints: /api/v1/customers, /api/v1/orders, /api/v1/products (POST, DELETE).

They validate with the schemas and write through the services of the v2 sync
calls, so the answers are the same; the store's collection settings and
suppression apply. The refusals are in tests/test_api_v1_sync_hostile.py.
"""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from customers.models import Click, Customer, Order, OrderLine, Product, Visitor
from customers.privacy.forget import forget_execute
from customers.privacy.forget_requests import forget_request_create
from gdpr_dashboard.models import PrivacyRequest, Suppression
from stores.digests import identifier_digest
from tests.factories import ClickFactory, VisitorFactory


def bearer(issued):
    return {"HTTP_AUTHORIZATION": f"Bearer {issued.api_key.key}:{issued.private_key}"}


def call(client, method, url, body, issued):
    return client.generic(
        method, url, json.dumps(body), content_type="application/json", **bearer(issued)
    )


def ok(response) -> dict:
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    return body


def nonzero(counts: dict) -> dict:
    # customers_sync reports attributes_not_collected even when it is 0.
    return {k: v for k, v in counts.items() if v}


def now_s(minutes=0):
    return int((timezone.now() + timedelta(minutes=minutes)).timestamp())


def forget(store, kind, value):
    forget_execute(request=forget_request_create(store=store, kind=kind, value=value, via="api"))


def test_it_syncs_customers_into_the_stores_schema_keeping_only_listed_fields(
    client, store, outlet, api_key
):
    record = {
        "id": "C-1",
        "name": "Ann Lee",
        "email": "Ann@Example.com",
        "age": 31,
        "city": "Aarhus",
        "gender": "f",  # not on Acme Main's CRM list (age, city)
    }
    body = ok(call(client, "POST", "/api/v1/customers", {"customers": [record]}, api_key))
    assert body["stored"] == {"customers": 1}
    assert body["dropped"] == {"attributes_not_collected": 1}
    connection.set_tenant(store)
    customer = Customer.objects.get()
    assert (customer.customer_ref, customer.name, customer.email) == (
        "C-1",
        "Ann Lee",
        "ann@example.com",
    )
    assert customer.attributes == {"age": 31, "city": "Aarhus"}
    assert customer.customer_digest == identifier_digest(store.secret, "customer", "C-1")
    connection.set_tenant(outlet)
    assert not Customer.objects.exists()


def test_it_drops_emails_and_attributes_the_store_does_not_collect(client, outlet, outlet_api_key):
    # Acme Outlet collects no e-mails and no CRM fields.
    customers = [{"id": "C-1", "email": "ann@example.com", "age": 31, "city": "Aarhus"}]
    body = ok(call(client, "POST", "/api/v1/customers", {"customers": customers}, outlet_api_key))
    assert body["stored"] == {"customers": 1}
    assert body["dropped"] == {"emails_not_collected": 1, "attributes_not_collected": 2}
    order = {"id": "O-1", "email": "ann@example.com", "products": [1], "time": now_s(-5)}
    body = ok(call(client, "POST", "/api/v1/orders", {"orders": [order]}, outlet_api_key))
    assert body["dropped"] == {"emails_not_collected": 1}
    connection.set_tenant(outlet)
    customer = Customer.objects.get()
    assert (customer.email, customer.email_digest, customer.attributes) == (None, "", {})
    assert Order.objects.get().email is None


def test_it_syncs_products_and_orders_with_lines_at_catalogue_prices(client, store, api_key):
    products = [{"id": 5, "name": "Mug", "price": "4.50", "categories": ["kitchen"]}, {"id": 6}]
    assert ok(call(client, "POST", "/api/v1/products", {"products": products}, api_key)) == {
        "status": "ok",
        "stored": {"products": 2},
        "dropped": {},
    }
    connection.set_tenant(store)
    VisitorFactory(visitor_ref="v-1")
    connection.set_schema_to_public()
    order = {
        "id": "O-1",
        "customer": "C-1",
        "visitor": "v-1",
        "email": "ann@example.com",
        "products": [{"id": 5, "quantity": 2}, {"id": 6, "quantity": 1, "price": 10}],
        "time": now_s(-5),
    }
    body = ok(call(client, "POST", "/api/v1/orders", {"orders": [order]}, api_key))
    assert body["stored"] == {"orders": 1, "order_lines": 2}
    connection.set_tenant(store)
    placed = Order.objects.select_related("customer", "visitor").get()
    assert placed.total == 19 and placed.email == "ann@example.com"
    assert placed.customer.customer_ref == "C-1"  # made on demand, as a sale makes it
    assert placed.visitor.visitor_ref == "v-1"
    assert Product.objects.get(product_ref="5").categories == ["kitchen"]


@pytest.mark.parametrize(
    "collection, record, deleted",
    [
        ("customers", {"id": "C-1", "name": "Ann"}, "customers_deleted"),
        ("orders", {"id": "O-1", "products": [1], "time": now_s(-5)}, "orders_deleted"),
        ("products", {"id": "P-1", "name": "Mug"}, "products_deleted"),
    ],
)
def test_it_deletes_by_id_and_answers_as_v2_does(
    client, store, api_key, collection, record, deleted
):
    url = f"/api/v1/{collection}"
    ids = [record["id"], "never-synced"]
    synced = ok(call(client, "POST", url, {collection: [record]}, api_key))
    removed = ok(call(client, "DELETE", url, {collection: ids}, api_key))
    assert removed == {"status": "ok", "stored": {deleted: 1}, "dropped": {}}
    connection.set_tenant(store)
    model = {"customers": Customer, "orders": Order, "products": Product}[collection]
    assert not model.objects.exists() and not OrderLine.objects.exists()
    connection.set_schema_to_public()
    # The v2 calls with the same records answer the same: one validation, one write path.
    keys = {"key": api_key.api_key.key, "private_key": api_key.private_key}
    for method, args, v1_answer in (("post", [record], synced), ("delete", ids, removed)):
        v2 = getattr(client, method)(
            f"/v2/{collection}",
            json.dumps({**keys, collection: args}),
            content_type="application/json",
        )
        assert v2.json() == v1_answer, method


def test_it_takes_a_batch_of_a_thousand_all_or_nothing(client, store, api_key):
    products = [{"id": n, "name": f"Product {n}"} for n in range(1000)]
    assert ok(call(client, "POST", "/api/v1/products", {"products": products}, api_key))[
        "stored"
    ] == {"products": 1000}
    body = ok(call(client, "DELETE", "/api/v1/products", {"products": list(range(1000))}, api_key))
    assert body["stored"] == {"products_deleted": 1000}


def test_it_names_every_rejected_item_by_index_and_field(client, store, api_key):
    customers = [
        {"id": "C-1"},
        {"id": "C-2", "email": "not an address"},
        {"id": "C-3"},
        {"name": "no id"},
    ]
    response = call(client, "POST", "/api/v1/customers", {"customers": customers}, api_key)
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "InvalidArgument"
    assert [(e["index"], e["field"]) for e in body["errors"]] == [
        (1, "customers.1.email"),
        (3, "customers.3.id"),
    ]
    assert "not an address" not in json.dumps(body)  # messages never echo values
    connection.set_tenant(store)
    assert not Customer.objects.exists()


# --- suppression and the forget rules ----------------------------------------------------


def test_it_drops_a_forgotten_customers_old_record_and_links(client, store, api_key):
    record = {"id": "C-1", "name": "Ann", "email": "ann@example.com", "age": 31}
    ok(call(client, "POST", "/api/v1/customers", {"customers": [record]}, api_key))
    forget(store, "customer", "C-1")

    body = ok(call(client, "POST", "/api/v1/customers", {"customers": [record]}, api_key))
    assert body["stored"] == {"customers": 0} and nonzero(body["dropped"]) == {"suppressed": 1}
    old_order = {"id": "O-1", "customer": "C-1", "products": [1], "time": now_s(-60)}
    body = ok(call(client, "POST", "/api/v1/orders", {"orders": [old_order]}, api_key))
    assert body["stored"]["orders"] == 1 and body["dropped"] == {"suppressed_links": 1}
    connection.set_tenant(store)
    assert not Customer.objects.exists()
    assert Order.objects.get().customer_id is None  # kept, anonymous, as a forget leaves it
    connection.set_schema_to_public()

    # A record changed after the forget is new data: it passes.
    body = ok(
        call(
            client,
            "POST",
            "/api/v1/customers",
            {"customers": [{**record, "time": now_s(1)}]},
            api_key,
        )
    )
    assert body["stored"] == {"customers": 1}


def test_a_delete_is_not_a_forget(client, store, api_key):
    record = {"id": "C-1", "name": "Ann", "email": "ann@example.com"}
    ok(call(client, "POST", "/api/v1/customers", {"customers": [record]}, api_key))
    ok(call(client, "DELETE", "/api/v1/customers", {"customers": ["C-1"]}, api_key))
    assert not PrivacyRequest.objects.filter(store=store).exists()
    assert not Suppression.objects.filter(store=store).exists()
    # The shop may sync the customer again.
    body = ok(call(client, "POST", "/api/v1/customers", {"customers": [record]}, api_key))
    assert body["stored"] == {"customers": 1}


def test_deleting_a_forgotten_customer_keeps_the_suppression(client, store, api_key):
    record = {"id": "C-1", "name": "Ann"}
    ok(call(client, "POST", "/api/v1/customers", {"customers": [record]}, api_key))
    forget(store, "customer", "C-1")
    body = ok(call(client, "DELETE", "/api/v1/customers", {"customers": ["C-1"]}, api_key))
    assert body["stored"] == {"customers_deleted": 0}
    assert Suppression.objects.get(store=store, identifier_kind="customer").lifted_at is None
    body = ok(call(client, "POST", "/api/v1/customers", {"customers": [record]}, api_key))
    assert nonzero(body["dropped"]) == {"suppressed": 1}


def test_deleting_a_customer_keeps_their_orders_as_a_forget_does(client, store, api_key):
    ok(call(client, "POST", "/api/v1/customers", {"customers": [{"id": "C-1"}]}, api_key))
    order = {"id": "O-1", "customer": "C-1", "products": [{"id": 1, "price": 5}], "time": now_s(-5)}
    ok(call(client, "POST", "/api/v1/orders", {"orders": [order]}, api_key))
    ok(call(client, "DELETE", "/api/v1/customers", {"customers": ["C-1"]}, api_key))
    connection.set_tenant(store)
    kept = Order.objects.get()
    assert (kept.order_ref, kept.total, kept.lines.count()) == ("O-1", 5, 1)


def browsing_customer(client, store, api_key) -> Visitor:
    """C-1 with a CRM record and e-mail, a visitor with clicks, and an order."""
    record = {"id": "C-1", "name": "Ann", "email": "ann@example.com", "age": 31}
    ok(call(client, "POST", "/api/v1/customers", {"customers": [record]}, api_key))
    order = {"id": "O-1", "customer": "C-1", "products": [1], "time": now_s(-5)}
    ok(call(client, "POST", "/api/v1/orders", {"orders": [order]}, api_key))
    connection.set_tenant(store)
    visitor = VisitorFactory(visitor_ref="v-1", customer=Customer.objects.get(customer_ref="C-1"))
    ClickFactory.create_batch(2, visitor=visitor)
    connection.set_schema_to_public()
    return visitor


def test_deleting_a_customer_others_point_at_keeps_a_bare_id(client, store, api_key):
    browsing_customer(client, store, api_key)
    body = ok(call(client, "DELETE", "/api/v1/customers", {"customers": ["C-1"]}, api_key))
    assert body["stored"] == {"customers_deleted": 1}
    connection.set_tenant(store)
    bare = Customer.objects.get()
    # The CRM record is gone; the id and its digests stay, still linked.
    assert (bare.customer_ref, bare.name, bare.email, bare.attributes) == ("C-1", "", None, {})
    assert bare.customer_digest == identifier_digest(store.secret, "customer", "C-1")
    assert bare.visitors.get().visitor_ref == "v-1" and bare.orders.get().order_ref == "O-1"
    connection.set_schema_to_public()
    body = ok(call(client, "DELETE", "/api/v1/customers", {"customers": ["C-1"]}, api_key))
    assert body["stored"] == {"customers_deleted": 0}  # no CRM record left to remove


@pytest.mark.parametrize("kind, value", [("customer", "C-1"), ("email", "ann@example.com")])
def test_a_forget_after_a_delete_still_erases_the_customers_visitors(
    client, store, api_key, kind, value
):
    # The shop closes the account (sync delete), then asks to forget the person: the
    # forget must still reach the visitors the customer browsed as, and their order.
    browsing_customer(client, store, api_key)
    ok(call(client, "DELETE", "/api/v1/customers", {"customers": ["C-1"]}, api_key))
    forget(store, kind, value)
    connection.set_tenant(store)
    assert not Customer.objects.exists()
    assert not Visitor.objects.exists() and not Click.objects.exists()
    order = Order.objects.get()
    assert (order.customer_id, order.visitor_id, order.email) == (None, None, None)


def test_the_sync_calls_are_documented_in_the_openapi_schema(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for collection in ("customers", "orders", "products"):
        operations = paths[f"/api/v1/{collection}"]
        assert set(operations) == {"post", "delete"}
        for operation in operations.values():
            assert operation["summary"] and "requestBody" in operation
            assert set(operation["responses"]) == {"200"}
