"""Collection services: visitors on demand, statistics, settings and suppression honoured."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from customers.ingest.crm import customers_sync
from customers.ingest.events import events_ingest
from customers.ingest.orders import orders_sync
from customers.ingest.products import products_sync
from customers.ingest.schemas import CustomerIn, Event, OrderIn, ProductIn
from customers.models import Click, ContentView, Customer, Order, PageView, Product, Visitor
from gdpr_dashboard.models import Suppression
from stores.digests import identifier_digest

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
events_adapter = TypeAdapter(list[Event])


def events(*raw):
    return events_adapter.validate_python(list(raw))


def at(minutes: float) -> int:
    return int((T0 + timedelta(minutes=minutes)).timestamp())


def suppress(store, kind, value, when):
    Suppression.objects.create(
        store=store,
        identifier_kind=kind,
        digest=identifier_digest(store.secret, kind, value),
        forgotten_at=when,
    )


def test_it_creates_visitors_on_demand_and_counts_visits(store):
    result = events_ingest(
        store=store,
        events=events(
            {"kind": "page", "visitor": "v1", "url": "/a", "time": at(0)},
            {"kind": "product", "visitor": "v1", "product": 1001, "time": at(5)},
            {"kind": "click", "visitor": "v1", "product": "1002", "n": 3, "time": at(10)},
            # 40 minutes later: a second visit, same day
            {"kind": "category", "visitor": "v1", "category": "boots", "time": at(50)},
            # next day: a third visit on a second day
            {"kind": "page", "visitor": "v1", "url": "/b", "time": at(24 * 60)},
        ),
    )
    assert result.stored == {"page_views": 3, "content_views": 1, "clicks": 1}
    connection.set_tenant(store)
    v = Visitor.objects.get(visitor_ref="v1")
    assert (v.visit_count, v.visit_days, v.total_duration_seconds) == (3, 2, 600)
    assert v.first_seen == T0 and v.last_seen == T0 + timedelta(days=1)
    assert v.visitor_digest == identifier_digest(store.secret, "visitor", "v1")
    assert Click.objects.get().position == 3
    assert ContentView.objects.get().product_ref == "1001"


def test_it_continues_a_visit_across_batches(store):
    events_ingest(
        store=store, events=events({"kind": "page", "visitor": "v2", "url": "/", "time": at(0)})
    )
    events_ingest(
        store=store, events=events({"kind": "page", "visitor": "v2", "url": "/", "time": at(20)})
    )
    events_ingest(
        store=store, events=events({"kind": "page", "visitor": "v2", "url": "/", "time": at(60)})
    )
    connection.set_tenant(store)
    v = Visitor.objects.get(visitor_ref="v2")
    assert (v.visit_count, v.visit_days, v.total_duration_seconds) == (2, 1, 1200)


def test_it_links_a_logged_in_visitor_and_an_email(store):
    """With the private key (a shop's server) the e-mail goes to the device's customer."""
    events_ingest(
        store=store,
        events=events(
            {"kind": "page", "visitor": "v3", "url": "/", "customer": "C-1", "time": at(0)},
            {"kind": "email", "visitor": "v3", "email": "Ann@Example.com", "time": at(1)},
        ),
        trusted=True,
    )
    connection.set_tenant(store)
    customer = Customer.objects.get(customer_ref="C-1")
    assert customer.email == "ann@example.com"
    assert customer.email_digest == identifier_digest(store.secret, "email", "ann@example.com")
    assert Visitor.objects.get(visitor_ref="v3").customer == customer


def test_it_stores_no_email_where_the_store_does_not_collect_them(outlet):
    result = events_ingest(
        store=outlet,
        events=events({"kind": "email", "visitor": "v4", "email": "a@b.example", "time": at(0)}),
    )
    assert result.dropped == {"not_collected": 1}
    connection.set_tenant(outlet)
    assert not Visitor.objects.exists() and not Customer.objects.exists()


def test_it_keeps_no_browsing_when_tracking_is_off(store):
    store.track_browsing = False
    result = events_ingest(
        store=store,
        events=events(
            {"kind": "page", "visitor": "v5", "url": "/", "time": at(0)},
            {"kind": "sale", "visitor": "v5", "sale": "S1", "products": [1], "time": at(1)},
        ),
    )
    assert result.stored == {"orders": 1} and result.dropped == {"not_collected": 1}
    connection.set_tenant(store)
    assert not Visitor.objects.exists() and not PageView.objects.exists()
    assert Order.objects.get(order_ref="S1").visitor is None


def test_it_drops_suppressed_activity_from_before_the_forget_only(store):
    suppress(store, "customer", "C-gone", T0 + timedelta(minutes=30))
    result = events_ingest(
        store=store,
        events=events(
            {"kind": "page", "visitor": "v", "customer": "C-gone", "url": "/old", "time": at(10)},
            {"kind": "page", "visitor": "v", "customer": "C-gone", "url": "/new", "time": at(40)},
        ),
    )
    assert result.dropped == {"suppressed": 1} and result.stored == {"page_views": 1}
    connection.set_tenant(store)
    assert list(PageView.objects.values_list("url", flat=True)) == ["/new"]
    connection.set_schema_to_public()
    assert Suppression.objects.get().blocked_count == 1


def test_a_forgotten_visitor_id_stays_forgotten(store):
    suppress(store, "visitor", "gone", T0 + timedelta(minutes=30))
    result = events_ingest(
        store=store,
        events=events(
            {"kind": "page", "visitor": "gone", "url": "/old", "time": at(10)},
            {"kind": "page", "visitor": "gone", "url": "/new", "time": at(40)},
            {
                "kind": "sale",
                "visitor": "gone",
                "customer": "C-9",
                "sale": "S-9",
                "products": [1],
                "time": at(41),
            },  # fmt: skip
        ),
    )
    assert result.dropped == {"suppressed": 3} and result.stored == {"orders": 1}
    connection.set_tenant(store)
    assert not PageView.objects.exists() and not Visitor.objects.exists()
    order = Order.objects.get(order_ref="S-9")
    assert order.customer.customer_ref == "C-9" and order.visitor is None


def test_it_blocks_resync_of_a_forgotten_customer(store):
    suppress(store, "email", "old@example.com", T0)
    result = customers_sync(
        store=store,
        customers=[
            CustomerIn(id="C-9", email="old@example.com", name="Old"),
            CustomerIn(id="C-10", email="new@example.com", name="New", age=30, shoe_size=44),
        ],
    )
    assert result.dropped["suppressed"] == 1
    assert result.dropped["attributes_not_collected"] == 1
    connection.set_tenant(store)
    assert list(Customer.objects.values_list("customer_ref", "attributes")) == [
        ("C-10", {"age": 30})
    ]


def test_it_drops_emails_and_attributes_the_outlet_does_not_collect(outlet):
    customers_sync(
        store=outlet, customers=[CustomerIn(id="C-1", email="x@example.com", city="Aarhus")]
    )
    connection.set_tenant(outlet)
    customer = Customer.objects.get()
    assert customer.email is None and customer.email_digest == ""
    assert customer.attributes == {}


def test_it_patches_customers_by_merging_attributes(store):
    customers_sync(store=store, customers=[CustomerIn(id="C-1", name="Ann", age=30)])
    customers_sync(store=store, customers=[CustomerIn(id="C-1", city="Berlin")], partial=True)
    connection.set_tenant(store)
    c = Customer.objects.get()
    assert (c.name, c.attributes) == ("Ann", {"age": 30, "city": "Berlin"})


def test_it_syncs_orders_with_lines_and_catalogue_prices(store):
    products_sync(store=store, products=[ProductIn(id=7, name="Mug", price="9.50")])
    orders_sync(
        store=store,
        orders=[
            OrderIn(
                id="O-1",
                customer="C-1",
                email="Ann@example.com",
                products=[{"id": 7, "quantity": 2}, {"id": 8, "quantity": 1, "price": "1.00"}],
                time=at(0),
            )
        ],
    )
    # re-sync replaces the lines instead of adding to them
    orders_sync(store=store, orders=[OrderIn(id="O-1", customer="C-1", products=[7], time=at(0))])
    connection.set_tenant(store)
    order = Order.objects.get()
    assert order.total == 9.5 and order.lines.count() == 1
    assert order.customer.customer_ref == "C-1"
    assert Product.objects.get().name == "Mug"


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "page", "visitor": "v", "url": "/", "time": "yesterday"},
        {"kind": "page", "visitor": "", "url": "/", "time": 0},
        {"kind": "page", "visitor": "auto", "url": "/", "time": at(0)},
        {"kind": "page", "visitor": "v\x00", "url": "/", "time": at(0)},
        {"kind": "page", "visitor": "v", "url": "x" * 10_000, "time": at(0)},
        {"kind": "click", "visitor": "v", "product": True, "time": at(0)},
        {"kind": "click", "visitor": "v", "product": "1", "n": -1, "time": at(0)},
        {"kind": "email", "visitor": "v", "email": "not-an-email", "time": at(0)},
        {"kind": "sale", "sale": "1", "products": [{"id": 1, "quantity": -2}], "time": at(0)},
        {"kind": "sale", "sale": "1", "products": [{"id": 1, "price": -1}], "time": at(0)},
        {"kind": "teleport", "visitor": "v", "time": at(0)},
        {"kind": "page", "visitor": "v", "url": "/", "time": 4_000_000_000},
    ],
)
def test_it_refuses_invalid_events(bad):
    with pytest.raises(ValidationError):
        events(bad)


def test_it_adds_no_visit_for_a_batch_older_than_the_last_activity(store):
    events_ingest(
        store=store, events=events({"kind": "page", "visitor": "v6", "url": "/", "time": at(600)})
    )
    events_ingest(
        store=store,
        events=events(
            {"kind": "page", "visitor": "v6", "url": "/", "time": at(0)},
            {"kind": "page", "visitor": "v6", "url": "/", "time": at(100)},
        ),
    )
    connection.set_tenant(store)
    v = Visitor.objects.get(visitor_ref="v6")
    assert (v.visit_count, v.first_seen, v.last_seen) == (1, T0, T0 + timedelta(minutes=600))
    assert PageView.objects.count() == 3  # the events themselves are kept


def test_a_lone_page_view_counts_its_duration(store):
    events_ingest(
        store=store,
        events=events(
            {"kind": "page", "visitor": "v-long", "url": "/", "duration": 240, "time": at(0)}
        ),
    )
    connection.set_tenant(store)
    v = Visitor.objects.get(visitor_ref="v-long")
    assert (v.visit_count, v.total_duration_seconds) == (1, 240)
    assert v.active_until == T0 + timedelta(seconds=240)


def _time_on_site(spans: list[tuple[int, int]]) -> tuple[int, int]:
    """(visits, seconds): a visit runs from its first event to the end of its last
    activity and ends after 30 minutes without any."""
    visits, seconds, until = 0, 0, None
    for start, end in sorted(spans):
        if until is None or start - until > 30 * 60:
            visits, seconds = visits + 1, seconds + end - start
        else:
            seconds += max(0, end - until)
        until = end if until is None else max(until, end)
    return visits, seconds


_page = st.tuples(st.integers(0, 3 * 3600), st.integers(0, 45 * 60))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pages=st.lists(_page, min_size=1, max_size=8))
def test_time_on_site_is_the_same_whether_sent_one_by_one_or_at_once(store, pages):
    """Page views with durations, overlapping, back to back or hours apart: each call alone
    (as the storefront sends them, in order) and all in one batch count the same visits and
    seconds, and neither counts an overlap twice."""
    refs = {"one-by-one": f"v-{uuid.uuid4().hex}", "at-once": f"v-{uuid.uuid4().hex}"}
    raw = [
        {"kind": "page", "url": "/", "duration": d, "time": int(T0.timestamp()) + s}
        for s, d in sorted(pages)
    ]
    for event in raw:
        events_ingest(store=store, events=events({**event, "visitor": refs["one-by-one"]}))
    events_ingest(store=store, events=events(*({**e, "visitor": refs["at-once"]} for e in raw)))
    connection.set_tenant(store)
    expected = _time_on_site([(s, s + d) for s, d in pages])
    for ref in refs.values():
        v = Visitor.objects.get(visitor_ref=ref)
        assert (v.visit_count, v.total_duration_seconds) == expected
    connection.set_schema_to_public()
