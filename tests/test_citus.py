"""On a Citus cluster (`make test-citus`): each store's schema is a distributed schema whose
tables live on a worker, and the statements of the hot paths are routed whole to it.

Skipped on a plain PostgreSQL (no `citus` extension in the test database).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context
from pydantic import TypeAdapter

from customers.ingest.events import events_ingest
from customers.ingest.schemas import Event
from customers.inventory import inventory_refresh
from customers.models import Customer, Visitor
from customers.privacy.forget import forget_execute
from customers.retention.backup import backup_create
from customers.retention.expiry import retention_expire
from customers.retention.restore import restore_store
from gdpr_dashboard.models import RequestStatus
from stores.models import Store
from tests.test_backup_restore import fill, forget_request


def _citus() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'citus'")
        return cursor.fetchone() is not None


@pytest.fixture
def citus(django_db_setup, django_db_blocker):
    """Skip unless on Citus. Needs no test transaction: the committed-store tests have none."""
    with django_db_blocker.unblock():
        if not _citus():
            pytest.skip("the test database has no Citus (run `make test-citus`)")
        yield


def placement(schema: str) -> dict[str, list[int]]:
    """Per table of the schema: the ports of the nodes holding its shards."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name::text, array_agg(nodeport ORDER BY nodeport) FROM citus_shards "
            "WHERE table_name::text LIKE %s GROUP BY 1",
            [schema + ".%"],
        )
        return dict(cursor.fetchall())


def coordinator_port() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nodeport FROM pg_dist_node WHERE groupid = 0")
        return cursor.fetchone()[0]


def local_tables(schema: str) -> list[str]:
    """Tables of the schema that Citus does not distribute (they would stay on the coordinator)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND NOT EXISTS "
            "(SELECT 1 FROM pg_dist_partition p WHERE p.logicalrelid = c.oid)",
            [schema],
        )
        return [name for (name,) in cursor.fetchall()]


def assert_on_one_worker(schema: str) -> int:
    """Every table of the store's schema is distributed, with its one shard on one worker."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM citus_schemas WHERE schema_name::text = %s", [schema])
        assert cursor.fetchone(), f"{schema} is not a distributed schema"
    where = placement(schema)
    assert f"{schema}.customers_visitor" in where
    assert local_tables(schema) == []
    ports = {port for ports in where.values() for port in ports}
    assert len(ports) == 1 and all(len(p) == 1 for p in where.values()), where
    (port,) = ports
    assert port != coordinator_port()
    return port


def test_every_session_store_lives_on_a_worker(citus, db):
    for store in Store.objects.all():
        assert_on_one_worker(store.schema_name)


def test_the_run_refuses_joins_of_store_and_public_tables(citus, db):
    """`make test-citus` sets this, so a statement mixing both sides fails a test instead of
    quietly shipping rows between the nodes."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW citus.local_table_join_policy")
        assert cursor.fetchone()[0] == "never"


def test_public_tables_stay_on_the_coordinator(citus, db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_dist_partition p JOIN pg_class c ON c.oid = p.logicalrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
        )
        assert cursor.fetchone()[0] == 0


def test_a_tracking_call_is_one_statement_routed_to_the_store_worker(citus, store):
    """The visitor upsert (ON CONFLICT DO UPDATE) runs on the worker, twice for one visitor."""
    now = timezone.now()
    for minutes in (0, 40):  # the second batch is a new visit
        events_ingest(
            store=store,
            events=[
                TypeAdapter(Event).validate_python(
                    {
                        "kind": "product",
                        "visitor": "citus-v1",
                        "product": "P-1",
                        "time": now - timedelta(minutes=60 - minutes),
                    }
                )
            ],
        )
    with tenant_context(store):
        visitor = Visitor.objects.get(visitor_ref="citus-v1")
        assert visitor.visit_count == 2
        with connection.cursor() as cursor:
            cursor.execute(
                "EXPLAIN (COSTS OFF) SELECT * FROM customers_visitor WHERE visitor_ref = %s",
                ["citus-v1"],
            )
            plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Task Count: 1" in plan
    assert f"port={assert_on_one_worker(store.schema_name)}" in plan


def test_a_new_store_lands_on_a_worker(citus, committed_store):
    assert_on_one_worker(committed_store.schema_name)


def distributed_schemas_like(prefix: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT schema_name::text FROM citus_schemas WHERE schema_name::text LIKE %s "
            "ORDER BY 1",
            [prefix + "%"],
        )
        return [name for (name,) in cursor.fetchall()]


def test_backup_forget_restore_leave_the_store_whole_on_a_worker(
    citus, committed_store, settings, tmp_path
):
    """pg_dump through the coordinator, the load into a scratch schema (itself distributed),
    the forget replay, the swap of distributed schemas: afterwards the store's tables are on
    a worker, nothing of it stays on the coordinator and no scratch or old schema is left."""
    settings.BACKUP_DIR = tmp_path / "backups"
    rows = fill(committed_store)
    backup = backup_create(store=committed_store)
    original = forget_request(committed_store, rows["person"], rows["person_visitors"])
    forget_execute(request=original)
    retention_expire(store=committed_store)  # nothing is old enough: runs, deletes nothing

    result = restore_store(store=committed_store, backup=backup)

    assert result["forgets_replayed"] == 1
    assert_on_one_worker(committed_store.schema_name)
    assert distributed_schemas_like(committed_store.schema_name) == [committed_store.schema_name]
    with tenant_context(committed_store):
        assert not Customer.objects.filter(pk=rows["person"].pk).exists()
        assert Customer.objects.filter(pk=rows["other"].pk).exists()
        assert Visitor.objects.count() == 2  # the other customer's and the anonymous one
    counts = inventory_refresh(store=committed_store)
    assert counts["customers"] == 1 and counts["visitors"] == 2
    assert counts["page_views"] == 6  # 3 for each remaining visitor


def test_a_store_moved_to_the_other_worker_keeps_working(citus, committed_store):
    """citus_schema_move (what the rebalancer does per store): the data moves whole, and
    tracking, forget and expiry run on the new worker."""
    rows = fill(committed_store)
    source = assert_on_one_worker(committed_store.schema_name)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nodename, nodeport FROM pg_dist_node WHERE groupid <> 0 AND nodeport <> %s "
            "ORDER BY nodeport LIMIT 1",
            [source],
        )
        host, port = cursor.fetchone()
        cursor.execute(
            "SELECT citus_schema_move(%s, %s, %s, shard_transfer_mode => 'block_writes')",
            [committed_store.schema_name, host, port],
        )
    assert assert_on_one_worker(committed_store.schema_name) == port
    events_ingest(
        store=committed_store,
        events=[
            TypeAdapter(Event).validate_python(
                {"kind": "click", "visitor": "moved-v", "product": "P", "time": timezone.now()}
            )
        ],
    )
    request = forget_request(committed_store, rows["person"], rows["person_visitors"])
    forget_execute(request=request)
    request.refresh_from_db()
    assert request.status == RequestStatus.DONE
    assert request.counts["customers"] == 1
    retention_expire(store=committed_store)
    with tenant_context(committed_store):
        assert Visitor.objects.filter(visitor_ref="moved-v").exists()
        assert not Customer.objects.filter(pk=rows["person"].pk).exists()


def test_no_foreign_key_leaves_a_store_schema(store):
    """Citus refuses a foreign key from a distributed schema's table to `public` (checked on
    any PostgreSQL, so a migration adding one fails here before it reaches a cluster)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conname FROM pg_constraint c "
            "JOIN pg_class s ON s.oid = c.conrelid "
            "JOIN pg_namespace sn ON sn.oid = s.relnamespace "
            "JOIN pg_class t ON t.oid = c.confrelid "
            "JOIN pg_namespace tn ON tn.oid = t.relnamespace "
            "WHERE c.contype = 'f' AND sn.nspname = %s AND tn.nspname <> sn.nspname",
            [store.schema_name],
        )
        assert cursor.fetchall() == []
