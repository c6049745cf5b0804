"""Retention expiry: exactly the expired rows go, orders and fresh data stay, one run at a time."""

import io
import threading
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.utils import timezone
from django_tenants.utils import tenant_context

from customers.inventory import store_counts
from customers.models import (
    Basket,
    Click,
    ContentView,
    Customer,
    Order,
    PageView,
    Subscriber,
    Visitor,
)
from customers.retention.expiry import retention_expire
from customers.tasks import retention_expire_all
from gdpr_dashboard.models import RetentionRun
from stores.models import AuditEvent, Store
from tests.conftest import wait_for
from tests.factories import (
    ClickFactory,
    ContentViewFactory,
    CustomerFactory,
    OrderFactory,
    PageViewFactory,
    VisitorFactory,
)

HOUR = 3600


def make_shoppers(now):
    """A store's worth of cases; returns the rows a test checks by name."""
    ago = lambda days: now - timedelta(days=days)  # noqa: E731
    rows = {}
    # One short visit 40 days ago: past its 30 days; its customer has nothing else.
    lone = CustomerFactory()
    rows["expired"] = VisitorFactory(customer=lone, last_seen=ago(40), first_seen=ago(40))
    for _ in range(3):
        PageViewFactory(visitor=rows["expired"], occurred_at=ago(40))
    ContentViewFactory.create_batch(2, visitor=rows["expired"], occurred_at=ago(40))
    ClickFactory(visitor=rows["expired"], occurred_at=ago(40))
    rows["order_of_expired"] = OrderFactory(visitor=rows["expired"], placed_at=ago(40))
    rows["lone_customer"] = lone
    # Expired visitor of a customer with an order: the customer and order stay.
    buyer = CustomerFactory()
    rows["buyer_visitor"] = VisitorFactory(customer=buyer, last_seen=ago(31))
    PageViewFactory(visitor=rows["buyer_visitor"], occurred_at=ago(31))
    rows["buyer_order"] = OrderFactory(customer=buyer, placed_at=ago(31))
    rows["buyer"] = buyer
    # A customer with one expired and one fresh visitor stays.
    two = CustomerFactory()
    rows["old_of_two"] = VisitorFactory(customer=two, last_seen=ago(35))
    rows["fresh_of_two"] = VisitorFactory(customer=two, last_seen=ago(2))
    rows["two"] = two
    # Fresh visitor with its events.
    rows["fresh"] = VisitorFactory(last_seen=ago(10))
    PageViewFactory.create_batch(2, visitor=rows["fresh"], occurred_at=ago(10))
    ClickFactory(visitor=rows["fresh"], occurred_at=ago(12))
    # A regular (12 days, 1 h: a year), last seen 200 days ago: stays, but
    # events older than a year go.
    rows["regular"] = VisitorFactory(
        visit_count=12, visit_days=12, total_duration_seconds=HOUR, last_seen=ago(200)
    )
    PageViewFactory(visitor=rows["regular"], occurred_at=ago(200))
    PageViewFactory(visitor=rows["regular"], occurred_at=ago(366))
    ContentViewFactory(visitor=rows["regular"], occurred_at=ago(400))
    # One short visit 45 days ago: past its 30 days.
    rows["one_visit_45_days_ago"] = VisitorFactory(last_seen=ago(45))
    ContentViewFactory(visitor=rows["one_visit_45_days_ago"], occurred_at=ago(45))
    # Exactly at 29 days: not yet.
    rows["almost"] = VisitorFactory(last_seen=ago(29))
    # Baskets go with their device; an e-mail's own basket and a withdrawn newsletter
    # subscription after the store's longest retention (365 days); a subscription stays.
    Basket.objects.create(visitor=rows["expired"], products=["1"], updated_at=ago(40))
    Basket.objects.create(visitor=rows["fresh"], products=["2"], updated_at=ago(10))
    Basket.objects.create(
        email="old@example.com", email_digest="o", products=["3"], updated_at=ago(400)
    )
    Basket.objects.create(
        email="new@example.com", email_digest="n", products=["4"], updated_at=ago(30)
    )
    for mail, subscribed, days in (("a@x.example", False, 400), ("b@x.example", True, 400)):
        Subscriber.objects.create(
            email=mail, email_digest=mail, subscribed=subscribed, changed_at=ago(days)
        )
    return rows


EXPECTED = {
    "page_views": 3 + 1 + 1,  # expired, buyer's visitor, the regular's year-old one
    "content_views": 2 + 1 + 1,  # expired, the regular's old one, one visit 45 days ago
    "clicks": 1,
    "visitors": 4,  # expired, buyer's, old of two, one visit 45 days ago
    "customers": 1,  # the lone customer
    "orders_detached": 1,
    "baskets": 2,  # the expired device's, the old e-mail's
    "subscribers": 1,  # the old withdrawal
}


def test_it_deletes_exactly_the_expired_rows(store, in_store):
    now = timezone.now()
    rows = make_shoppers(now)
    before = store_counts()
    counts = retention_expire(store=store, now=now)
    connection.set_tenant(store)
    after = store_counts()

    assert {k: v for k, v in counts.items() if k != "duration_seconds"} == EXPECTED
    assert before["visitors"] - after["visitors"] == EXPECTED["visitors"]
    assert before["page_views"] - after["page_views"] == EXPECTED["page_views"]
    assert before["content_views"] - after["content_views"] == EXPECTED["content_views"]
    assert before["clicks"] - after["clicks"] == EXPECTED["clicks"]
    assert before["customers"] - after["customers"] == 1
    assert after["orders"] == before["orders"] == 2

    gone = ["expired", "buyer_visitor", "old_of_two", "one_visit_45_days_ago"]
    assert not Visitor.objects.filter(pk__in=[rows[k].pk for k in gone]).exists()
    stay = ["fresh", "fresh_of_two", "regular", "almost"]
    assert Visitor.objects.filter(pk__in=[rows[k].pk for k in stay]).count() == 4
    assert not Customer.objects.filter(pk=rows["lone_customer"].pk).exists()
    assert Customer.objects.filter(pk__in=[rows["buyer"].pk, rows["two"].pk]).count() == 2
    detached = Order.objects.get(pk=rows["order_of_expired"].pk)
    assert detached.visitor_id is None and detached.total == rows["order_of_expired"].total
    assert Order.objects.get(pk=rows["buyer_order"].pk).customer_id == rows["buyer"].pk
    assert PageView.objects.filter(visitor=rows["fresh"]).count() == 2
    assert Click.objects.filter(visitor=rows["fresh"]).count() == 1
    assert PageView.objects.filter(visitor=rows["regular"]).count() == 1
    assert not ContentView.objects.filter(visitor=rows["regular"]).exists()

    connection.set_schema_to_public()
    run = RetentionRun.objects.get(store=store)
    assert run.counts["visitors"] == 4 and run.finished_at is not None
    assert run.counts["duration_seconds"] >= 0
    assert AuditEvent.objects.filter(store=store, action="retention_expired").count() == 1


def test_a_second_run_finds_nothing(store, in_store):
    now = timezone.now()
    make_shoppers(now)
    retention_expire(store=store, now=now)
    again = retention_expire(store=store, now=now)
    assert {k: v for k, v in again.items() if k != "duration_seconds"} == dict.fromkeys(EXPECTED, 0)


def test_the_dry_run_counts_the_same_and_deletes_nothing(store, in_store):
    now = timezone.now()
    make_shoppers(now)
    before = store_counts()
    counts = retention_expire(store=store, now=now, dry_run=True)
    connection.set_tenant(store)
    assert store_counts() == before
    assert {k: v for k, v in counts.items() if k != "duration_seconds"} == EXPECTED
    connection.set_schema_to_public()
    assert RetentionRun.objects.get(store=store).dry_run is True


def test_the_store_bounds_decide(store, in_store):
    now = timezone.now()
    make_shoppers(now)
    store.retention_min_days = 60
    store.save(update_fields=["retention_min_days"])
    counts = retention_expire(store=store, now=now)
    assert counts["visitors"] == 0  # nothing short is older than 60 days
    assert counts["page_views"] == 1 and counts["content_views"] == 1  # the regular's old ones


def test_the_command_reports_counts(store, in_store):
    make_shoppers(timezone.now())
    out, err = io.StringIO(), io.StringIO()
    call_command("expire_retention", "--store", store.slug, "--dry-run", stdout=out, stderr=err)
    assert "acme-main: would delete page_views 5, content_views 4, clicks 1, visitors 4" in (
        out.getvalue()
    )
    call_command("expire_retention", "--store", store.slug, stdout=out, stderr=err)
    assert "acme-main: deleted page_views 5" in out.getvalue()
    assert "visitors" in err.getvalue() and "100.0%" in err.getvalue()  # the progress bar


def test_it_runs_once_under_two_concurrent_callers(committed_store):
    """The first caller is held inside its run until the second has returned."""
    now = timezone.now()
    with tenant_context(committed_store):
        make_shoppers(now)
    second_done = threading.Event()
    results = {}

    def first_progress(step, done, total):
        second_done.wait(timeout=30)

    def call(name, progress):
        try:
            results[name] = retention_expire(store=committed_store, now=now, progress=progress)
        finally:
            connections.close_all()

    first = threading.Thread(target=call, args=("first", first_progress))
    first.start()
    # The first caller holds the lock once its run row exists.
    wait_for(lambda: RetentionRun.objects.filter(store=committed_store).exists())
    second = threading.Thread(target=call, args=("second", None))
    second.start()
    second.join(timeout=30)
    second_done.set()
    first.join(timeout=60)

    assert results["second"] == {"skipped": "locked"}
    assert results["first"]["visitors"] == EXPECTED["visitors"]
    assert RetentionRun.objects.filter(store=committed_store).count() == 1
    with tenant_context(committed_store):
        assert Visitor.objects.count() == 4


def test_a_visitor_who_comes_back_while_its_batch_is_deleted_stays(committed_store):
    """Step 2 reads a batch without locking it; the delete re-checks each row's date. A
    visit being written when the delete reaches the row is waited for, and then keeps it."""
    import psycopg

    from tests.conftest import database_url

    now = timezone.now()
    with tenant_context(committed_store):
        rows = make_shoppers(now)
    returning = rows["one_visit_45_days_ago"]
    schema = committed_store.schema_name
    with psycopg.connect(database_url()) as visit, psycopg.connect(database_url()) as watch:
        watch.autocommit = True

        def progress(step, done, total):
            if step == "visitors" and done == 0:  # step 2 is about to read its first batch
                visit.execute(
                    f'UPDATE "{schema}".customers_visitor SET last_seen = now(), '
                    "visit_count = visit_count + 1 WHERE id = %s",
                    [returning.pk],
                )  # not committed: the row stays locked, its new date invisible
                threading.Thread(target=commit_once_expiry_waits, daemon=True).start()

        def commit_once_expiry_waits():
            try:
                wait_for(
                    lambda: watch.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND query LIKE '%%DELETE FROM customers_visitor%%'"
                    ).fetchone()[0],
                    interval=0.02,
                )
            finally:
                visit.commit()  # never leave expiry waiting for ever

        counts = retention_expire(store=committed_store, now=now, progress=progress)
    connection.set_schema_to_public()
    assert counts["visitors"] == EXPECTED["visitors"] - 1
    with tenant_context(committed_store):
        assert Visitor.objects.filter(pk=returning.pk).exists()
        assert Visitor.objects.count() == 5


def test_a_failing_run_reports_its_own_error_and_leaves_the_connection_clean(
    committed_store, monkeypatch
):
    """A statement failing mid-run: that error reaches the caller, and the worker's connection
    keeps neither the cut-off table nor the no-parallel settings for its next task."""
    from django.db import DataError, transaction

    import customers.retention.expiry

    def failing_step(model, progress, kind):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")

    with tenant_context(committed_store):
        make_shoppers(timezone.now())
    monkeypatch.setattr(customers.retention.expiry, "_expire_old_events", failing_step)
    with pytest.raises(DataError, match="division by zero"):
        retention_expire(store=committed_store)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f"{committed_store.schema_name}.expiry_cutoffs"])
        assert cursor.fetchone()[0] is None
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] != "0"
    with tenant_context(committed_store):
        assert Visitor.objects.count() == 8  # nothing deleted


@pytest.mark.worker
def test_the_nightly_task_runs_in_each_store_on_a_worker(committed_store, celery_worker_process):
    with tenant_context(committed_store):
        make_shoppers(timezone.now())
    connection.set_schema_to_public()
    start = timezone.now()
    try:
        retention_expire_all.delay()
        # One run per store: wait for all, so none is written after the clean-up below.
        stores = Store.objects.exclude(schema_name="public").count()
        wait_for(
            lambda: (
                RetentionRun.objects.filter(
                    started_at__gte=start, finished_at__isnull=False
                ).count()
                == stores
            ),
            timeout=90,
        )
        run = RetentionRun.objects.get(store=committed_store)
        assert run.counts["visitors"] == EXPECTED["visitors"]
        with tenant_context(committed_store):
            assert Visitor.objects.count() == 4
    finally:
        # The session's stores ran too, committed: leave no trace for other tests.
        RetentionRun.objects.filter(started_at__gte=start).delete()
        AuditEvent.objects.filter(created_at__gte=start, action="retention_expired").delete()


@pytest.mark.parametrize("command", ["expire_retention", "backup_stores"])
def test_the_commands_name_an_unknown_store(db, command):
    with pytest.raises(CommandError, match="No store 'nope'"):
        call_command(command, "--store", "nope")


def test_the_command_says_when_another_run_holds_the_store(store, in_store):
    import psycopg

    from customers.locks import LOCK_RETENTION
    from tests.conftest import database_url

    with psycopg.connect(database_url(), autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_RETENTION, store.pk])
        out = io.StringIO()
        call_command("expire_retention", "--store", store.slug, stdout=out, stderr=io.StringIO())
    assert "acme-main: skipped, an expiry of this store is running" in out.getvalue()
    connection.set_schema_to_public()
    assert not RetentionRun.objects.filter(store=store).exists()
