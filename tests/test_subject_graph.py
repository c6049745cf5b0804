"""Exactly this person: shared devices, orders and links through the public API and the console."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from customers.models import Customer, Order, PageView, Visitor, VisitorLink
from customers.privacy.forget import forget_execute
from customers.privacy.forget_requests import forget_request_create
from tests.conftest import login

T0 = 1_770_000_000


def keys(issued, private=False):
    args = {"key": issued.api_key.key}
    if private:
        args["private_key"] = issued.private_key
    return args


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def sale(client, api_key, *, order, visitor, customer, email, at):
    body = {
        **keys(api_key),
        "sale": order,
        "visitor": visitor,
        "customer": customer,
        "email": email,
        "products": [{"id": 1, "quantity": 1, "price": 10}],
        "time": at,
    }
    response = post(client, "/v2/log/sale", body)
    assert response.status_code == 200, response.content


def browse(client, api_key, *, visitor, url):
    body = {**keys(api_key), "visitor": visitor, "category": url}
    assert post(client, "/v2/log/category", body).status_code == 200


def info(client, api_key, **subject):
    response = client.get("/v2/privacy/info", {**keys(api_key, True), **subject})
    assert response.status_code == 200
    return json.loads(b"".join(response.streaming_content))


@pytest.fixture
def family_computer(client, store, api_key):
    """Mia and Oskar both buy on the family computer V-FAM; Mia also buys on her phone."""
    browse(client, api_key, visitor="V-FAM", url="tents")
    sale(client, api_key, order="O-MIA-1", visitor="V-FAM", customer="C-MIA",
         email="mia@example.com", at=T0 + 10)  # fmt: skip
    sale(client, api_key, order="O-OSKAR", visitor="V-FAM", customer="C-OSKAR",
         email="oskar@example.com", at=T0 + 20)  # fmt: skip
    sale(client, api_key, order="O-MIA-2", visitor="V-FAM", customer="C-MIA",
         email="mia@example.com", at=T0 + 30)  # fmt: skip
    browse(client, api_key, visitor="V-MIA-PHONE", url="boots")
    sale(client, api_key, order="O-MIA-3", visitor="V-MIA-PHONE", customer="C-MIA",
         email="mia@example.com", at=T0 + 40)  # fmt: skip
    connection.set_schema_to_public()


def test_an_access_request_returns_this_persons_orders_only(client, api_key, family_computer):
    mia = info(client, api_key, customer="C-MIA")
    assert sorted(mia["orders"]) == ["O-MIA-1", "O-MIA-2", "O-MIA-3"]
    text = json.dumps(mia)
    assert "oskar" not in text.lower()
    # Her own phone's browsing is hers; the shared computer's is nobody's in particular.
    assert {a["visitor"] for a in mia["activity"]} == {"V-MIA-PHONE"}
    assert info(client, api_key, customer="C-OSKAR")["orders"] == ["O-OSKAR"]


def test_the_profile_and_download_show_no_one_else(client, store, alice, family_computer):
    login(client, alice)
    page = client.get(f"/s/{store.slug}/customer/C-MIA/").content.decode()
    assert "O-MIA-1" in page and "O-MIA-2" in page
    assert "O-OSKAR" not in page and "oskar@example.com" not in page
    assert "V-FAM" in page  # listed as a shared device, without its browsing
    response = client.get(f"/s/{store.slug}/customer/C-MIA/download/")
    doc = json.loads(b"".join(response.streaming_content))
    text = json.dumps(doc).lower()
    assert "oskar" not in text
    assert doc["shared_devices"] == ["V-FAM"]
    assert {o["order_id"] for o in doc["orders"]} == {"O-MIA-1", "O-MIA-2", "O-MIA-3"}
    assert {v["visitor_id"] for v in doc["visitors"]} == {"V-MIA-PHONE"}


def test_forgetting_one_person_leaves_the_other_whole(client, store, api_key, family_computer):
    before = info(client, api_key, customer="C-OSKAR")
    request = forget_request_create(store=store, kind="customer", value="C-MIA", via="ui")
    counts = forget_execute(request=request)
    assert counts["customers"] == 1 and counts["shared_devices"] == 1
    assert counts["visitors"] == 1  # her phone; the family computer stays
    after = info(client, api_key, customer="C-OSKAR")
    assert after["orders"] == before["orders"] == ["O-OSKAR"]
    connection.set_tenant(store)
    oskar = Customer.objects.get(customer_ref="C-OSKAR")
    family = Visitor.objects.get(visitor_ref="V-FAM")
    assert family.customer == oskar  # the device passes to the customer still linked to it
    assert list(VisitorLink.objects.filter(visitor=family).values_list("customer", flat=True)) == [
        oskar.pk
    ]
    assert Order.objects.get(order_ref="O-OSKAR").customer == oskar
    assert Order.objects.get(order_ref="O-OSKAR").email == "oskar@example.com"
    assert Order.objects.get(order_ref="O-OSKAR").visitor == family
    mia_orders = Order.objects.filter(order_ref__in=["O-MIA-1", "O-MIA-2", "O-MIA-3"])
    assert {(o.customer_id, o.visitor_id, o.email) for o in mia_orders} == {(None, None, None)}
    assert not PageView.objects.filter(visitor=family).exists()  # the documented rule
    assert not Visitor.objects.filter(visitor_ref="V-MIA-PHONE").exists()


def test_the_confirmation_page_counts_shared_devices(client, store, alice, family_computer):
    login(client, alice)
    page = client.get(f"/s/{store.slug}/customer/C-MIA/forget/").content.decode()
    assert "1 device is shared with other customers: V-FAM" in page


def test_forgetting_a_device_keeps_the_customers_orders(client, store, api_key, family_computer):
    request = forget_request_create(store=store, kind="visitor", value="V-FAM", via="ui")
    forget_execute(request=request)
    assert sorted(info(client, api_key, customer="C-MIA")["orders"]) == [
        "O-MIA-1",
        "O-MIA-2",
        "O-MIA-3",
    ]
    assert info(client, api_key, customer="C-OSKAR")["orders"] == ["O-OSKAR"]
    connection.set_tenant(store)
    assert Customer.objects.filter(customer_ref__in=["C-MIA", "C-OSKAR"]).count() == 2


def test_a_forgotten_device_stays_forgotten(client, store, api_key):
    browse(client, api_key, visitor="V-GONE", url="tents")
    request = forget_request_create(store=store, kind="visitor", value="V-GONE", via="ui")
    forget_execute(request=request)
    # The shop's cookie outlives the forget: later tracking with it is dropped.
    response = post(
        client, "/v2/log/category", {**keys(api_key), "visitor": "V-GONE", "category": "x"}
    )
    assert response.status_code == 200
    connection.set_tenant(store)
    assert not Visitor.objects.filter(visitor_ref="V-GONE").exists()
    assert not PageView.objects.exists()


def test_the_public_key_cannot_move_a_device(client, store, api_key):
    browse(client, api_key, visitor="V-ALICE", url="secret-hobby")
    sale(client, api_key, order="O-A", visitor="V-ALICE", customer="C-ALICE",
         email="alice@example.com", at=T0)  # fmt: skip
    sale(client, api_key, order="O-X", visitor="V-ALICE", customer="ATTACKER",
         email="attacker@example.com", at=T0 + 5)  # fmt: skip
    post(client, "/v2/log/email", {**keys(api_key), "visitor": "V-ALICE",
                                    "email": "attacker@example.com"})  # fmt: skip
    attacker = info(client, api_key, customer="ATTACKER")
    assert "secret-hobby" not in json.dumps(attacker)
    assert info(client, api_key, email="attacker@example.com")["activity"] == []
    alice = info(client, api_key, customer="C-ALICE")
    assert alice["activity"] == []  # the device is shared now: nobody's in particular
    connection.set_tenant(store)
    assert Visitor.objects.get(visitor_ref="V-ALICE").customer.customer_ref == "C-ALICE"
    # An order id already stored is not taken over by a tracking call either.
    sale(client, api_key, order="O-X", visitor="V-OTHER", customer="C-ALICE",
         email="alice@example.com", at=T0 + 9)  # fmt: skip
    connection.set_tenant(store)
    assert Order.objects.get(order_ref="O-X").customer.customer_ref == "ATTACKER"


def test_an_email_call_never_writes_onto_an_existing_customer(client, store, api_key):
    sale(client, api_key, order="O-A", visitor="V-ALICE", customer="C-ALICE", email=None, at=T0)
    post(client, "/v2/log/email", {**keys(api_key), "visitor": "V-ALICE",
                                    "email": "attacker@example.com"})  # fmt: skip
    connection.set_tenant(store)
    assert Customer.objects.get(customer_ref="C-ALICE").email in (None, "")


def test_a_synced_order_links_its_device_and_counts_agree(client, store, api_key, alice):
    browse(client, api_key, visitor="V-SYNC", url="x")
    response = post(
        client,
        "/v2/orders",
        {
            **keys(api_key, True),
            "orders": [
                {
                    "id": "S-1",
                    "customer": "C-SYNC",
                    "visitor": "V-SYNC",
                    "time": T0,
                    "products": [{"id": 1, "quantity": 1, "price": 5}],
                },  # fmt: skip
            ],
        },
    )
    assert response.status_code == 200, response.content
    connection.set_schema_to_public()
    login(client, alice)
    profile = client.get(f"/s/{store.slug}/customer/C-SYNC/").content.decode()
    assert "V-SYNC" in profile
    listing = client.get(f"/s/{store.slug}/customers/").content.decode()
    row = listing.split("C-SYNC", 1)[1].split("</tr>", 1)[0]
    assert ">1<" in row.replace(" ", "")
