"""The database backend sends ``SET search_path`` only when the session lacks that path."""

from __future__ import annotations

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from customers.models import Visitor
from tests.factories import VisitorFactory


def _sets(queries) -> int:
    return sum(q["sql"].startswith("SET search_path") for q in queries.captured_queries)


def test_selecting_the_same_store_again_sends_no_second_set(store):
    connection.set_tenant(store)
    Visitor.objects.count()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            connection.set_schema_to_public()  # as every request starts
            connection.set_tenant(store)
            Visitor.objects.count()
    assert _sets(queries) == 0
    connection.set_schema_to_public()
    with CaptureQueriesContext(connection) as queries:
        list(type(store).objects.filter(pk=store.pk))
    assert _sets(queries) == 1


def test_a_rolled_back_savepoint_takes_its_path_along(store, outlet):
    connection.set_tenant(store)
    VisitorFactory(visitor_ref="main-only")
    connection.set_tenant(outlet)
    Visitor.objects.count()  # the session is on the outlet's schema
    try:
        with transaction.atomic():  # a savepoint inside the test's transaction
            connection.set_tenant(store)
            assert Visitor.objects.filter(visitor_ref="main-only").exists()
            raise RuntimeError
    except RuntimeError:
        pass
    # PostgreSQL undid the SET with the savepoint (the session went back to the outlet's
    # schema) while the main store stays selected: its next query must still read it.
    connection.set_tenant(store)
    assert Visitor.objects.filter(visitor_ref="main-only").exists()
    connection.set_tenant(outlet)
    assert not Visitor.objects.filter(visitor_ref="main-only").exists()
    connection.set_tenant(store)
    assert Visitor.objects.filter(visitor_ref="main-only").exists()
    connection.set_schema_to_public()
