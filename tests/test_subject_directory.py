"""The public directory of identifier digests lists exactly what each store holds.

Every write path reaches it through the store schema's triggers, so the proof is on the
tables: any sequence of inserts, digest changes and deletes (one row or many, in one
statement or in data-modifying CTEs as expiry writes them) leaves a store's entries equal
to the digests its customers and visitors hold. Then the paths people use: a tracking
call, a CRM sync, a forget; and two sessions racing on one e-mail.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from unittest import mock

import psycopg
import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.console.search_exact import search_stores_exact
from customers.models import Customer, Visitor
from customers.privacy.forget import forget_execute
from customers.privacy.forget_requests import forget_request_create
from customers.retention.expiry import retention_expire
from stores import directory
from stores.digests import identifier_digest
from stores.directory import schema_oid
from stores.models import SubjectDigest
from stores.schemas import on_citus
from stores.services import store_create
from tests.conftest import database_url
from tests.directory_helpers import held, listed
from tests.factories import CustomerFactory, VisitorFactory


@pytest.fixture(autouse=True)
def one_server(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        citus = on_citus()
    if citus:
        pytest.skip("no directory on Citus: the search reads every store there")


EMAILS = [None, "ann@example.com", "ANN@example.com ", "bob@example.com"]

VISITOR_REFS = [f"V{i}" for i in range(6)]

operations = st.lists(
    st.one_of(
        st.tuples(st.just("customer"), st.integers(0, 5), st.sampled_from(EMAILS)),
        st.tuples(st.just("email"), st.integers(0, 5), st.sampled_from(EMAILS)),
        st.tuples(st.just("visitor"), st.sampled_from(VISITOR_REFS), st.integers(-1, 5)),
        st.tuples(st.just("delete customers"), st.frozensets(st.integers(0, 5))),
        st.tuples(st.just("delete visitors"), st.frozensets(st.sampled_from(VISITOR_REFS))),
        st.tuples(st.just("expire"), st.frozensets(st.sampled_from(VISITOR_REFS))),
    ),
    max_size=12,
)


def _digest(secret, kind, value):
    return identifier_digest(secret, kind, value) if value else ""


def _apply(op, secret) -> None:
    name = op[0]
    if name == "customer" and not Customer.objects.filter(customer_ref=f"C{op[1]}").exists():
        CustomerFactory(
            customer_ref=f"C{op[1]}",
            email=op[2] or "",
            email_digest=_digest(secret, "email", op[2]),
        )
    elif name == "email":
        customer = Customer.objects.filter(customer_ref=f"C{op[1]}").first()
        if customer:
            customer.email = op[2] or ""
            customer.email_digest = _digest(secret, "email", op[2])
            customer.save(update_fields=["email", "email_digest"])
    elif name == "visitor" and not Visitor.objects.filter(visitor_ref=op[1]).exists():
        owner = Customer.objects.filter(customer_ref=f"C{op[2]}").first()
        VisitorFactory(
            visitor_ref=op[1],
            visitor_digest=identifier_digest(secret, "visitor", op[1]),
            customer=owner,
        )
    elif name == "delete customers":
        refs = [f"C{i}" for i in op[1]]
        Visitor.objects.filter(customer__customer_ref__in=refs).update(customer=None)
        Customer.objects.filter(customer_ref__in=refs).delete()
    elif name == "delete visitors":
        Visitor.objects.filter(visitor_ref__in=list(op[1])).delete()
    elif name == "expire":  # one statement deleting from both tables, as expiry does
        refs = list(op[1])
        with connection.cursor() as cursor:
            cursor.execute(
                "WITH gone AS (DELETE FROM customers_visitor WHERE visitor_ref = ANY(%s) "
                "RETURNING customer_id), lost AS (DELETE FROM customers_customer c "
                "WHERE c.id IN (SELECT customer_id FROM gone) AND NOT EXISTS ("
                "SELECT 1 FROM customers_visitor v WHERE v.customer_id = c.id "
                "AND v.visitor_ref <> ALL(%s)) RETURNING 1) SELECT count(*) FROM lost",
                [refs, refs],
            )


@pytest.mark.slow
def test_it_lists_exactly_the_digests_its_store_holds(store, outlet):
    before_outlet = listed(outlet)

    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(ops=operations)
    def check(ops):
        with transaction.atomic():
            connection.set_tenant(store)
            for op in ops:
                _apply(op, store.secret)
                assert listed(store) == held(store), op
            assert listed(outlet) == before_outlet
            connection.set_schema_to_public()
            transaction.set_rollback(True)

    check()


def test_a_customer_without_e_mail_deleted_notes_no_empty_entry(store, in_store):
    """Customers without an e-mail hold an empty digest, which is never an entry: also when
    a delete notes again the e-mails other customers still hold."""
    for ref in ("no-mail-1", "no-mail-2", "with-mail"):
        CustomerFactory(
            customer_ref=ref,
            customer_digest=identifier_digest(store.secret, "customer", ref),
            email="shared@example.com" if ref == "with-mail" else "",
            email_digest=_digest(
                store.secret, "email", "shared@example.com" if ref == "with-mail" else ""
            ),
        )
    Customer.objects.filter(customer_ref="no-mail-1").delete()
    assert b"" not in listed(in_store)
    assert listed(in_store) == held(in_store)


def test_visitor_ids_differing_by_spaces_are_one_visitor_with_one_entry(client, store, api_key):
    """A visitor's entry is dropped without looking for another holder: that holds because
    the way in strips the id, so two ids that share a digest are one visitor row."""
    for ref in ("twin", " twin ", "\ttwin"):
        response = client.get(
            "/v2/log/click", {"key": api_key.api_key.key, "product": "1", "visitor": ref}
        )
        assert response.status_code == 200, response.content
    connection.set_tenant(store)
    assert list(Visitor.objects.values_list("visitor_ref", flat=True)) == ["twin"]
    digest = bytes.fromhex(identifier_digest(store.secret, "visitor", "twin"))
    assert digest in listed(store) == held(store)
    Visitor.objects.filter(visitor_ref="twin").delete()
    assert digest not in listed(store)
    assert listed(store) == held(store)
    connection.set_schema_to_public()


def test_an_expiry_sweeps_its_entries_once_at_its_end(store, in_store):
    old = timezone.now() - timedelta(days=400)
    owner = CustomerFactory(last_seen=old, first_seen=old)
    gone = [VisitorFactory(last_seen=old, first_seen=old) for _ in range(5)]
    gone.append(VisitorFactory(customer=owner, last_seen=old, first_seen=old))
    fresh = VisitorFactory()
    digests = {bytes.fromhex(v.visitor_digest) for v in gone}
    digests.add(bytes.fromhex(owner.email_digest))
    assert digests <= listed(store)
    with mock.patch.object(directory, "store_sweep", wraps=directory.store_sweep) as sweep:
        counts = retention_expire(store=store)
    assert counts["visitors"] == 6 and counts["customers"] == 1
    assert sweep.call_count == 1
    assert not digests & listed(store)
    assert bytes.fromhex(fresh.visitor_digest) in listed(store) == held(store)


def _deleted_by_a_batch(refs) -> None:
    with transaction.atomic(), connection.cursor() as cursor:  # as an expiry batch does
        directory.sweep_later(cursor)
        Visitor.objects.filter(visitor_ref__in=refs).delete()


def test_a_batch_leaves_its_entries_to_the_sweep(store, in_store):
    VisitorFactory(visitor_ref="back")
    VisitorFactory(visitor_ref="gone-for-good")
    VisitorFactory(visitor_ref="stays")
    _deleted_by_a_batch(["back", "gone-for-good"])
    assert len(listed(store) - held(store)) == 2  # left, not dropped yet
    VisitorFactory(visitor_ref="back")  # the id comes back before the sweep
    assert directory.store_sweep(store.schema_name) == 1
    assert bytes.fromhex(identifier_digest(store.secret, "visitor", "back")) in listed(store)
    assert listed(store) == held(store)
    assert directory.store_sweep(store.schema_name) == 0


def test_the_entries_a_failed_expiry_left_are_swept_by_the_next(store, in_store):
    VisitorFactory(visitor_ref="left-behind")
    _deleted_by_a_batch(["left-behind"])
    # The run ends before its sweep (a worker killed): the next run sweeps them.
    retention_expire(store=store)
    connection.set_tenant(store)
    assert listed(store) == held(store)


def _sweep_in_thread(schema: str) -> None:
    try:
        directory.store_sweep(schema)
    finally:
        connection.close()


def test_a_row_committed_while_the_sweep_runs_keeps_its_entry(committed_store):
    """A visitor id comes back in another session while the sweep deletes: its insert
    locked the stale entry, so the sweep waits for it, and notes the entry again."""
    store = committed_store
    connection.set_tenant(store)
    VisitorFactory(visitor_ref="returning")
    _deleted_by_a_batch(["returning"])
    connection.set_schema_to_public()
    entry = bytes.fromhex(identifier_digest(store.secret, "visitor", "returning"))
    assert entry in listed(store)
    inserting = _session(store)
    try:
        inserting.execute(
            "INSERT INTO customers_visitor (visitor_ref, visitor_digest, first_seen, last_seen, "
            "visit_count, visit_days, total_duration_seconds) "
            "VALUES ('returning', %s, now(), now(), 1, 1, 0)",
            [entry.hex()],
        )
        sweeping = threading.Thread(target=_sweep_in_thread, args=(store.schema_name,))
        sweeping.start()
        time.sleep(0.5)
        assert sweeping.is_alive()  # waits for the entry the insert locked
        inserting.commit()
        sweeping.join(10)
        assert not sweeping.is_alive()
    finally:
        inserting.close()
    assert entry in listed(store)
    assert listed(store) == held(store)


def test_a_tracking_call_a_crm_sync_and_a_forget_keep_it(client, store, api_key):
    secret = store.secret
    visitor = bytes.fromhex(identifier_digest(secret, "visitor", "v-new-device"))
    email = bytes.fromhex(identifier_digest(secret, "email", "Dora@Example.com"))
    assert visitor not in listed(store)
    response = client.get(
        "/v2/log/click",
        {"key": api_key.api_key.key, "product": "1", "visitor": "v-new-device"},
    )
    assert response.status_code == 200, response.content
    body = {
        "key": api_key.api_key.key,
        "private_key": api_key.private_key,
        "customers": [{"id": "C-dora", "email": "dora@example.com"}],
    }
    response = client.post("/v2/customers", json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    assert {visitor, email} <= listed(store) == held(store)
    [hits] = [h for h in search_stores_exact("v-new-device", stores=[store]) if not h.empty]
    assert [v["visitor_ref"] for v in hits.visitors] == ["v-new-device"]

    with mock.patch("customers.privacy.forget_requests.forget_requests_enqueue"):
        request = forget_request_create(
            store=store, kind="email", value="dora@example.com", via="api"
        )
    forget_execute(request=request)
    connection.set_schema_to_public()
    assert email not in listed(store)
    assert listed(store) == held(store)


def test_a_store_deleted_takes_its_entries(store):
    doomed = store_create(account=store.account, slug="doomed", name="Doomed")
    connection.set_tenant(doomed)
    VisitorFactory(visitor_ref="v-of-a-store-that-goes")
    connection.set_schema_to_public()
    assert listed(doomed)
    with connection.cursor() as cursor:  # the visitor's deferred key checks, before the drop
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    oid = schema_oid(doomed.schema_name)
    doomed.delete(force_drop=True)
    assert not SubjectDigest.objects.filter(schema_oid=oid).exists()


# --- two sessions, one e-mail ------------------------------------------------------


def _session(store):
    session = psycopg.connect(database_url(), autocommit=False)
    session.execute(f'SET search_path TO "{store.schema_name}", public')
    return session


def _customer_sql(store, ref: str) -> tuple[str, list]:
    digest = identifier_digest(store.secret, "email", "shared@example.com")
    return (
        "INSERT INTO customers_customer (customer_ref, customer_digest, email, email_digest, "
        "name, attributes, first_seen, last_seen) VALUES (%s, %s, 'shared@example.com', %s, "
        "'', '{}', now(), now())",
        [ref, identifier_digest(store.secret, "customer", ref), digest],
    )


def _in_thread(session, sql, params) -> threading.Thread:
    thread = threading.Thread(target=session.execute, args=(sql, params), daemon=True)
    thread.start()
    time.sleep(0.5)
    return thread


@pytest.mark.parametrize("first", ["delete", "insert"])
def test_a_delete_and_an_insert_of_one_email_at_once_keep_its_entry(committed_store, first):
    """Customer A with the e-mail is deleted while customer B with the same e-mail is
    inserted: whichever commits first, B's e-mail stays listed."""
    store = committed_store
    seed = _session(store)
    seed.execute(*_customer_sql(store, "A"))
    seed.commit()
    seed.close()
    entry = bytes.fromhex(identifier_digest(store.secret, "email", "shared@example.com"))
    deleting, inserting = _session(store), _session(store)
    try:
        delete = ("DELETE FROM customers_customer WHERE customer_ref = 'A'", [])
        insert = _customer_sql(store, "B")
        if first == "delete":
            deleting.execute(*delete)
            waiting = _in_thread(inserting, *insert)
            deleting.commit()
            waiting.join(10)
            inserting.commit()
        else:
            inserting.execute(*insert)
            waiting = _in_thread(deleting, *delete)
            inserting.commit()
            waiting.join(10)
            deleting.commit()
        assert not waiting.is_alive()
    finally:
        deleting.close()
        inserting.close()
    assert entry in listed(store)
    assert listed(store) == held(store)
