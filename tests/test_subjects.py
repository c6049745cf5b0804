from decimal import Decimal

import pytest

from customers.privacy.export import document
from customers.privacy.subjects import InvalidIdentifier, resolve_subject
from tests.factories import (
    ClickFactory,
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    PageViewFactory,
    VisitorFactory,
)


def test_it_finds_a_customer_by_email_in_any_case_with_visitors_and_orders(in_store):
    customer = CustomerFactory(email="Jane.Doe+shop@Example.com", customer_ref="C-1")
    visitor = VisitorFactory(customer=customer, visitor_ref="v-jane")
    OrderFactory(customer=customer)
    OrderFactory(visitor=visitor)
    OrderFactory(email="jane.doe+shop@example.com")
    OrderFactory()  # someone else
    subject = resolve_subject(kind="email", value="  jane.doe+SHOP@example.com ")
    assert subject.customer == customer
    assert subject.visitor_refs == ["v-jane"]
    assert subject.orders().count() == 3


def test_a_visitor_subject_is_that_visitor_only(in_store):
    customer = CustomerFactory()
    VisitorFactory(customer=customer, visitor_ref="v-a")
    VisitorFactory(customer=customer, visitor_ref="v-b")
    subject = resolve_subject(kind="visitor", value="v-a")
    assert subject.customer is None
    assert subject.visitor_refs == ["v-a"]


def test_an_unknown_subject_does_not_exist(in_store):
    assert not resolve_subject(kind="customer", value="nobody").exists


@pytest.mark.parametrize(
    "kind,value",
    [
        ("email", ""),
        ("email", "no-at-sign"),
        ("visitor", "a\x00b"),
        ("customer", "x" * 300),
        ("phone", "123"),
    ],
)
def test_it_rejects_identifiers_that_cannot_name_anybody(in_store, kind, value):
    with pytest.raises(InvalidIdentifier):
        resolve_subject(kind=kind, value=value)


def test_the_export_document_holds_everything_newest_first(in_store):
    customer = CustomerFactory(
        customer_ref="C-9", email="nine@example.com", attributes={"city": "Aarhus"}
    )
    visitor = VisitorFactory(customer=customer, visitor_ref="v-nine")
    old = PageViewFactory(visitor=visitor, url="/old")
    new = PageViewFactory(visitor=visitor, url="/new")
    ClickFactory(visitor=visitor, product_ref="77", position=3)
    line = OrderLineFactory(
        order=OrderFactory(customer=customer, order_ref="O-9"), quantity=2, price=Decimal("5.00")
    )
    doc = document(
        resolve_subject(kind="customer", value="C-9"),
        store_slug="acme-main",
        generated_at=new.occurred_at,
    )
    assert doc["customer"]["email"] == "nine@example.com"
    assert doc["customer"]["attributes"] == {"city": "Aarhus"}
    assert [v["visitor_id"] for v in doc["visitors"]] == ["v-nine"]
    assert [p["url"] for p in doc["page_views"]] == ["/new", "/old"]
    assert doc["clicks"][0]["product"] == "77" and doc["clicks"][0]["position"] == 3
    assert doc["orders"][0]["order_id"] == "O-9"
    assert doc["orders"][0]["lines"] == [
        {"product": line.product_ref, "quantity": 2, "price": "5.00"}
    ]
    del old
