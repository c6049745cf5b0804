"""Events and orders point at their visitor without a database foreign key (see
EVENT_TABLES_WITHOUT_FOREIGN_KEYS in customers/models.py): every write path must keep
the link exact. Nothing may be left pointing at a visitor that is gone."""

from __future__ import annotations

import threading
from datetime import timedelta

from django.db import connection, connections
from django.utils import timezone
from django_tenants.utils import tenant_context

from customers.ingest.events import events_ingest
from customers.ingest.schemas import ClickEvent, PageEvent, SaleEvent
from customers.models import Click, ContentView, Order, PageView, Visitor
from customers.privacy.forget import forget_execute
from customers.privacy.forget_requests import forget_request_create
from customers.retention.expiry import retention_expire
from tests.factories import ClickFactory, PageViewFactory, VisitorFactory

LINKED = (PageView, ContentView, Click, Order)


def dangling(store) -> dict[str, int]:
    """Rows per table whose visitor_id names no visitor (0 everywhere when all is well)."""
    counts = {}
    with tenant_context(store), connection.cursor() as cursor:
        for model in LINKED:
            cursor.execute(
                f"SELECT count(*) FROM {model._meta.db_table} e WHERE e.visitor_id IS NOT NULL "
                f"AND NOT EXISTS (SELECT 1 FROM {Visitor._meta.db_table} v "
                "WHERE v.id = e.visitor_id)"
            )
            counts[model.__name__] = cursor.fetchone()[0]
    return counts


NONE_DANGLING = {"PageView": 0, "ContentView": 0, "Click": 0, "Order": 0}


def test_the_checker_finds_an_event_without_its_visitor(store):
    with tenant_context(store):
        visitor = VisitorFactory()
        ClickFactory(visitor=visitor)
        with connection.cursor() as cursor:  # what a buggy path could do: no key to stop it
            cursor.execute("DELETE FROM customers_visitor WHERE id = %s", [visitor.pk])
    assert dangling(store)["Click"] == 1


def test_deleting_a_visitor_through_the_orm_takes_its_events_and_detaches_orders(store):
    with tenant_context(store):
        visitor = VisitorFactory()
        PageViewFactory(visitor=visitor)
        ClickFactory(visitor=visitor)
        order = Order.objects.create(order_ref="o-1", visitor=visitor, placed_at=timezone.now())
        visitor.delete()
        order.refresh_from_db()
        assert order.visitor_id is None and not Click.objects.exists()
    assert dangling(store) == NONE_DANGLING


def test_forget_and_expiry_leave_nothing_pointing_nowhere(store):
    now = timezone.now()
    old = now - timedelta(days=400)
    events = [
        PageEvent(kind="page", visitor="v-old", url="/a", time=old),
        ClickEvent(kind="click", visitor="v-old", product="p1", time=old),
        PageEvent(kind="page", visitor="v-new", url="/b", time=now, customer="c-1"),
        SaleEvent(
            kind="sale",
            visitor="v-new",
            customer="c-1",
            sale="s-1",
            products=[{"id": "p1", "quantity": 1, "price": 10}],
            time=now,
        ),
    ]
    events_ingest(store=store, events=events)
    request = forget_request_create(store=store, kind="customer", value="c-1", via="cli")
    forget_execute(request=request)
    retention_expire(store=store, now=now)
    with tenant_context(store):
        assert not Visitor.objects.exists()
        assert Order.objects.get(order_ref="s-1").visitor_id is None
    assert dangling(store) == NONE_DANGLING


def test_ingestion_racing_a_forget_of_the_same_visitor_leaves_no_dangling_event(
    committed_store,
):
    """Clicks for one visitor keep arriving while that visitor is forgotten: each either
    went with the visitor or belongs to a new visitor row made after the forget."""
    store = committed_store
    events_ingest(
        store=store,
        events=[ClickEvent(kind="click", visitor="v-race", product="p", time=timezone.now())],
    )
    stop = threading.Event()
    errors: list[BaseException] = []

    def keep_clicking():
        try:
            while not stop.is_set():
                events_ingest(
                    store=store,
                    events=[
                        ClickEvent(kind="click", visitor="v-race", product="p", time=timezone.now())
                    ],
                )
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connections.close_all()

    clicker = threading.Thread(target=keep_clicking)
    clicker.start()
    try:
        for _ in range(5):
            request = forget_request_create(store=store, kind="visitor", value="v-race", via="cli")
            forget_execute(request=request)
    finally:
        stop.set()
        clicker.join(timeout=30)
    connection.set_schema_to_public()
    assert not errors
    assert dangling(store) == NONE_DANGLING


def test_an_old_event_synced_between_the_expiry_steps_goes_with_its_visitor(committed_store):
    """Step 2 looks for a visitor's events only above the ids step 1 was sure to see
    (customers.retention.expiry._settled_ids): one written in between must still go."""
    store = committed_store
    now = timezone.now()
    old = now - timedelta(days=400)
    events_ingest(
        store=store, events=[ClickEvent(kind="click", visitor="v-late", product="p", time=old)]
    )
    late = []

    def progress(step, done, total):
        if step == "visitors" and not late:  # step 1 is over, step 2 not begun
            late.append(
                events_ingest(
                    store=store,
                    events=[
                        PageEvent(
                            kind="page", visitor="v-late", url="/x", time=old + timedelta(minutes=1)
                        )
                    ],
                )
            )

    counts = retention_expire(store=store, now=now, progress=progress)
    connection.set_schema_to_public()
    assert late and late[0].stored["page_views"] == 1
    assert counts["visitors"] == 1 and counts["page_views"] == 1 and counts["clicks"] == 1
    with tenant_context(store):
        assert not Visitor.objects.exists() and not PageView.objects.exists()
    assert dangling(store) == NONE_DANGLING
