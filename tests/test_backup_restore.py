"""Backups with the real pg_dump, restore with the real pg_restore/psql, forgets replayed."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from customers.locks import LOCK_FORGET
from customers.models import Customer, Order, PageView, Visitor
from customers.retention.backup import backup_create, backup_purge, file_sha256
from customers.retention.restore import RestoreError, restore_store
from gdpr_dashboard.models import Backup, PrivacyRequest, RequestKind, RequestStatus, RequestVia
from stores.models import AuditEvent, Store, StoreNotice
from stores.schemas import on_citus
from tests.conftest import BASE_DIR, database_url, wait_for
from tests.directory_helpers import held, listed
from tests.factories import (
    ClickFactory,
    ContentViewFactory,
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    PageViewFactory,
    ProductFactory,
    VisitorFactory,
)
from tests.restore_helpers import (
    OtherSession,
    advisory_waiters,
    in_other_session,
    relation_waiters,
    swap_probe,
)

TABLES = [
    "customers_customer",
    "customers_visitor",
    "customers_pageview",
    "customers_contentview",
    "customers_click",
    "customers_product",
    "customers_order",
    "customers_orderline",
]


@pytest.fixture
def forget_service():
    """The forget service, the same the restore replays through."""
    from customers.privacy.forget import forget_execute

    return forget_execute


@pytest.fixture
def backup_dir(settings, tmp_path):
    settings.BACKUP_DIR = tmp_path / "backups"
    return settings.BACKUP_DIR


def snapshot(store) -> dict[str, list[tuple]]:
    with tenant_context(store), connection.cursor() as cursor:
        result = {}
        for table in TABLES:
            cursor.execute(f"SELECT * FROM {table} ORDER BY id")
            result[table] = cursor.fetchall()
        return result


def fill(store) -> dict:
    with tenant_context(store):
        ProductFactory.create_batch(3)
        person = CustomerFactory(email="forget.me@example.com", attributes={"city": "Aarhus"})
        other = CustomerFactory(email="keep.me@example.com")
        person_visitors = VisitorFactory.create_batch(2, customer=person)
        other_visitor = VisitorFactory(customer=other)
        anonymous = VisitorFactory()
        for v in [*person_visitors, other_visitor, anonymous]:
            PageViewFactory.create_batch(3, visitor=v)
            ContentViewFactory(visitor=v)
            ClickFactory(visitor=v)
        person_order = OrderFactory(
            customer=person, visitor=person_visitors[0], email="forget.me@example.com"
        )
        OrderLineFactory(order=person_order)
        other_order = OrderFactory(customer=other, visitor=other_visitor)
        OrderLineFactory.create_batch(2, order=other_order)
        return {
            "person": person,
            "person_visitors": person_visitors,
            "person_order": person_order,
            "other": other,
            "other_visitor": other_visitor,
        }


def forget_request(store, person, visitors) -> PrivacyRequest:
    return PrivacyRequest.objects.create(
        store=store,
        kind=RequestKind.FORGET,
        via=RequestVia.UI,
        subject_kind="email",
        email_digest=person.email_digest,
        customer_digest=person.customer_digest,
        visitor_digests=[v.visitor_digest for v in visitors],
    )


def schemas_like(prefix: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s ORDER BY 1", [prefix + "%"]
        )
        return [r[0] for r in cursor.fetchall()]


def test_it_backs_up_a_store_with_the_real_pg_dump(committed_store, backup_dir):
    fill(committed_store)
    before = timezone.now()
    backup = backup_create(store=committed_store)
    path = Path(backup.path)
    assert path.parent == backup_dir / committed_store.slug
    assert path.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    assert backup.size_bytes == path.stat().st_size > 0
    assert backup.sha256 == file_sha256(path)
    assert before <= backup.created_at <= timezone.now()
    assert backup.expires_at == backup.created_at + timedelta(days=30)
    assert not list(path.parent.glob("*.part"))
    assert AuditEvent.objects.filter(store=committed_store, action="backup_created").exists()


def test_backup_then_forget_then_restore_keeps_the_person_forgotten(
    committed_store, backup_dir, forget_service, client: Client, committed_user
):
    rows = fill(committed_store)
    backup = backup_create(store=committed_store)
    in_backup = snapshot(committed_store)

    # After the backup: the person is forgotten, and unrelated data changes.
    original = forget_request(committed_store, rows["person"], rows["person_visitors"])
    forget_service(request=original)
    original.refresh_from_db()
    assert original.status == RequestStatus.DONE
    with tenant_context(committed_store):
        assert not Customer.objects.filter(pk=rows["person"].pk).exists()
        VisitorFactory(visitor_ref="after-the-backup")

    result = restore_store(store=committed_store, backup=backup)
    assert result["forgets_replayed"] == 1

    with tenant_context(committed_store):
        # The person is absent: their customer row, visitors and events.
        assert not Customer.objects.filter(email_digest=rows["person"].email_digest).exists()
        person_visitor_ids = [v.pk for v in rows["person_visitors"]]
        assert not Visitor.objects.filter(pk__in=person_visitor_ids).exists()
        assert not PageView.objects.filter(visitor_id__in=person_visitor_ids).exists()
        # Their order stays, anonymous, totals unchanged.
        order = Order.objects.get(pk=rows["person_order"].pk)
        assert order.customer_id is None and order.visitor_id is None and not order.email
        assert order.total == rows["person_order"].total
        # Data written after the backup is gone: the store is as the backup was.
        assert not Visitor.objects.filter(visitor_ref="after-the-backup").exists()
    # Every other row is exactly as in the backup.
    after = snapshot(committed_store)
    person_order_id = rows["person_order"].pk
    assert after["customers_customer"] == [
        r for r in in_backup["customers_customer"] if r[0] != rows["person"].pk
    ]
    assert after["customers_visitor"] == [
        r for r in in_backup["customers_visitor"] if r[0] not in person_visitor_ids
    ]
    for table in ("customers_pageview", "customers_contentview", "customers_click"):
        # visitor_id is the last column of each event table.
        kept = [r for r in in_backup[table] if r[-1] not in person_visitor_ids]
        assert len(kept) == len(in_backup[table]) // 2  # 2 of the 4 visitors were the person's
        assert after[table] == kept, table
    for table in ("customers_product", "customers_orderline"):
        assert after[table] == in_backup[table], table
    assert [r for r in after["customers_order"] if r[0] != person_order_id] == [
        r for r in in_backup["customers_order"] if r[0] != person_order_id
    ]

    # The replay is in the ledger, pointing at the original, with its digests.
    replay = PrivacyRequest.objects.get(store=committed_store, via=RequestVia.REPLAY)
    assert replay.replay_of_id == original.pk
    assert replay.email_digest == original.email_digest
    assert replay.customer_digest == original.customer_digest
    assert set(original.visitor_digests) <= set(replay.visitor_digests)
    assert replay.status == RequestStatus.DONE
    # No scratch or old schema left behind.
    assert schemas_like(committed_store.schema_name) == [committed_store.schema_name]
    # The search's directory lists what the restored store holds, not the forgotten person.
    if not on_citus():
        assert listed(committed_store) == held(committed_store)
        assert bytes.fromhex(rows["person"].email_digest) not in listed(committed_store)

    # Audit and the notice on the store's page.
    event = AuditEvent.objects.get(store=committed_store, action="store_restored")
    assert event.detail["forgets_replayed"] == 1
    notice = StoreNotice.objects.get(store=committed_store)
    assert "1 forget request made since then replayed" in notice.message
    owner = committed_user(committed_store.account, "owner")
    client.force_login(owner)
    page = client.get(f"/s/{committed_store.slug}/").content.decode()
    assert "Restored from backup" in page
    assert "1 forget request made since then replayed" in page


def test_a_forget_from_before_the_backup_is_not_replayed(
    committed_store, backup_dir, forget_service
):
    rows = fill(committed_store)
    earlier = forget_request(committed_store, rows["person"], rows["person_visitors"])
    forget_service(request=earlier)
    backup = backup_create(store=committed_store)
    assert restore_store(store=committed_store, backup=backup)["forgets_replayed"] == 0
    assert not PrivacyRequest.objects.filter(via=RequestVia.REPLAY, store=committed_store).exists()
    assert "0 forget requests made since then replayed" in (
        StoreNotice.objects.get(store=committed_store).message
    )


def person_ids(rows, who: str = "person") -> dict[str, list[int]]:
    visitors = rows[f"{who}_visitors"] if who == "person" else [rows[f"{who}_visitor"]]
    return {"customer_ids": [rows[who].pk], "visitor_ids": [v.pk for v in visitors]}


def test_the_forgotten_person_is_gone_from_the_copy_before_it_goes_live(
    committed_store, backup_dir, forget_service
):
    """Checked by PostgreSQL itself, at the swap, inside the restore's transaction."""
    rows = fill(committed_store)
    backup = backup_create(store=committed_store)
    original = forget_request(committed_store, rows["person"], rows["person_visitors"])
    forget_service(request=original)

    with swap_probe(committed_store, **person_ids(rows)) as probe:
        result = restore_store(store=committed_store, backup=backup)
        at_swap = probe()
    assert result["forgets_replayed"] == 1
    # One swap; what went live held none of the person's rows, and the other customer.
    assert at_swap == [(0, 0, 0, 1)]
    with tenant_context(committed_store):
        assert not Customer.objects.filter(pk=rows["person"].pk).exists()
        assert Customer.objects.filter(pk=rows["other"].pk).exists()


def test_a_forget_done_while_the_restore_runs_is_replayed_before_the_swap(
    committed_store, backup_dir, forget_service, monkeypatch
):
    """A worker forgets someone after the backup is loaded into the scratch schema."""
    from customers.retention import restore

    rows = fill(committed_store)
    backup = backup_create(store=committed_store)
    real_load = restore._load_into
    made = {}

    def load_then_a_forget_runs(*args, **kwargs):
        real_load(*args, **kwargs)

        def forget_other():
            made["request"] = forget_request(
                committed_store, rows["other"], [rows["other_visitor"]]
            )
            return forget_service(request=made["request"])

        assert in_other_session(forget_other)["customers"] == 1  # gone from the live store

    monkeypatch.setattr(restore, "_load_into", load_then_a_forget_runs)
    with swap_probe(committed_store, **person_ids(rows, "other")) as probe:
        result = restore_store(store=committed_store, backup=backup)
        at_swap = probe()
    assert result["forgets_replayed"] == 1
    assert at_swap == [(0, 0, 0, 1)]  # the person of the backup stays; "other" never went live
    replay = PrivacyRequest.objects.get(store=committed_store, via=RequestVia.REPLAY)
    assert replay.replay_of_id == made["request"].pk
    assert replay.status == RequestStatus.DONE
    assert replay.counts["customers"] == 1  # deleted from the restored copy
    with tenant_context(committed_store):
        assert not Customer.objects.filter(pk=rows["other"].pk).exists()
        assert not Visitor.objects.filter(pk=rows["other_visitor"].pk).exists()


def test_a_forget_that_starts_during_the_swap_waits_and_runs_on_the_restored_store(
    committed_store, backup_dir, forget_service, monkeypatch
):
    """The restore has read the forgets to replay; a new one must not run on the old schema
    (its effect would be swapped away): it waits for the swap, then runs on the restored one."""
    from customers.retention import restore

    rows = fill(committed_store)
    backup = backup_create(store=committed_store)
    original = forget_request(committed_store, rows["person"], rows["person_visitors"])
    forget_service(request=original)
    real_forgets_since = restore.forgets_since
    made = {}

    def forget_other():
        made["request"] = forget_request(committed_store, rows["other"], [rows["other_visitor"]])
        return forget_service(request=made["request"])

    late = OtherSession(forget_other)

    def read_then_a_forget_starts(**kwargs):
        originals = list(real_forgets_since(**kwargs))
        late.start()
        # Its ledger row is written, then it waits for the store's forget lock.
        wait_for(lambda: advisory_waiters(key1=LOCK_FORGET, key2=committed_store.pk) == 1)
        assert late.is_alive()
        return originals

    monkeypatch.setattr(restore, "forgets_since", read_then_a_forget_starts)
    result = restore_store(store=committed_store, backup=backup)
    counts = late.outcome()
    assert result["forgets_replayed"] == 1  # the person's; the late one was not done yet
    assert counts["customers"] == 1  # it found "other" in the restored store and deleted them
    made["request"].refresh_from_db()
    assert made["request"].status == RequestStatus.DONE
    assert made["request"].done_at > StoreNotice.objects.get(store=committed_store).created_at
    with tenant_context(committed_store):
        assert not Customer.objects.filter(pk=rows["other"].pk).exists()
        assert not Customer.objects.filter(pk=rows["person"].pk).exists()


@pytest.mark.slow
def test_a_restore_killed_before_its_swap_commits_changes_nothing(
    committed_store, backup_dir, forget_service, tmp_path
):
    """SIGKILL ``manage.py restore_store`` inside its swap transaction (replays done, schemas
    renamed, the old one's drop waiting for a reader): the live store and the ledger are as
    before; the scratch schema it leaves is dropped by the next restore."""
    rows = fill(committed_store)
    backup = backup_create(store=committed_store)
    original = forget_request(committed_store, rows["person"], rows["person_visitors"])
    forget_service(request=original)
    live = snapshot(committed_store)
    schema = committed_store.schema_name
    reader = psycopg.connect(database_url())  # a transaction reading the live store
    proc = None
    log = open(tmp_path / "restore.log", "w")  # noqa: SIM115 - the child writes it
    try:
        (oid,) = reader.execute(
            "SELECT %s::regclass::oid", [f'"{schema}".customers_customer']
        ).fetchone()
        reader.execute(f'SELECT count(*) FROM "{schema}".customers_customer').fetchone()
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "restore_store", committed_store.slug, str(backup.pk)],
            cwd=BASE_DIR,
            env={**os.environ, "DATABASE_URL": database_url()},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        # The swap's DROP of the old schema waits for the reader's lock on its table.
        pids = wait_for(lambda: relation_waiters(oid), timeout=90)
        proc.kill()
        proc.wait(timeout=15)
    finally:
        reader.close()  # the waiting backend goes on, then finds its client gone
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=15)
        log.close()

    def backend_gone():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [pids])
            return cursor.fetchone()[0] == 0

    wait_for(backend_gone, timeout=30)
    assert snapshot(committed_store) == live
    assert not PrivacyRequest.objects.filter(store=committed_store, via=RequestVia.REPLAY).exists()
    assert not StoreNotice.objects.filter(store=committed_store).exists()
    assert not AuditEvent.objects.filter(store=committed_store, action="store_restored").exists()
    leftover = [s for s in schemas_like(schema) if s != schema]
    assert len(leftover) == 1 and "_restore_" in leftover[0]

    assert restore_store(store=committed_store, backup=backup)["forgets_replayed"] == 1
    assert schemas_like(schema) == [schema]
    with tenant_context(committed_store):
        assert not Customer.objects.filter(pk=rows["person"].pk).exists()


def test_the_nightly_purge_drops_schemas_left_by_killed_restores(committed_store):
    """They hold a backup's data (forgotten people too): gone by the next night, unless a
    restore of that store is running right now."""
    from customers.locks import LOCK_RESTORE
    from customers.retention.restore import _scratch_prefix
    from customers.tasks import backup_purge

    leftover = f"{_scratch_prefix(committed_store)}0badf00d"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{leftover}"')
        cursor.execute(f'CREATE TABLE "{leftover}".customers_customer (email text)')
    restoring = psycopg.connect(database_url(), autocommit=True)
    try:
        restoring.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_RESTORE, committed_store.pk])
        backup_purge.run()
        assert leftover in schemas_like(leftover)  # that restore may still need it
    finally:
        restoring.close()
    assert backup_purge.run()["restore_leftovers"] >= 1
    assert schemas_like(leftover) == []
    assert schemas_like(committed_store.schema_name) == [committed_store.schema_name]


def _damage(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 64):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["missing", "checksum", "unreadable"])
def test_a_bad_backup_file_leaves_the_live_store_untouched(committed_store, backup_dir, how):
    fill(committed_store)
    backup = backup_create(store=committed_store)
    with tenant_context(committed_store):
        VisitorFactory(visitor_ref="only-in-the-live-store")
    live = snapshot(committed_store)
    path = Path(backup.path)
    if how == "missing":
        path.unlink()
        message = "is missing"
    elif how == "checksum":
        _damage(path)
        message = "checksum mismatch"
    else:
        # Damaged, but recorded as if it were fine: pg_restore itself must refuse it.
        path.write_bytes(b"PGDMP" + b"\x00" * 200)
        Backup.objects.filter(pk=backup.pk).update(sha256=file_sha256(path))
        backup.refresh_from_db()
        message = "pg_restore could not read the backup"

    with pytest.raises(RestoreError, match=message):
        restore_store(store=committed_store, backup=backup)
    assert snapshot(committed_store) == live
    assert schemas_like(committed_store.schema_name) == [committed_store.schema_name]
    assert not StoreNotice.objects.filter(store=committed_store).exists()

    err = io.StringIO()
    with pytest.raises(CommandError, match="Restore failed, the live store is unchanged"):
        call_command("restore_store", committed_store.slug, str(backup.pk), stderr=err)


def test_a_replay_that_fails_stops_the_restore_before_the_swap(
    committed_store, backup_dir, monkeypatch
):
    """The forgotten person must never go live: no swap unless every replay succeeded."""
    from customers.retention import restore

    rows = fill(committed_store)
    backup = backup_create(store=committed_store)
    later = forget_request(committed_store, rows["person"], rows["person_visitors"])
    PrivacyRequest.objects.filter(pk=later.pk).update(
        status=RequestStatus.DONE, done_at=timezone.now()
    )
    with tenant_context(committed_store):
        VisitorFactory(visitor_ref="only-in-the-live-store")
    live = snapshot(committed_store)

    def broken(*, request, schema):
        raise RuntimeError("worker lost")

    monkeypatch.setattr(restore, "forget_execute", broken)
    with pytest.raises(RestoreError, match=rf"replaying forget request {later.pk} failed"):
        restore_store(store=committed_store, backup=backup)
    assert snapshot(committed_store) == live
    assert schemas_like(committed_store.schema_name) == [committed_store.schema_name]
    # Nothing of the restore was recorded: it did not happen.
    assert not PrivacyRequest.objects.filter(store=committed_store, via=RequestVia.REPLAY).exists()
    assert not StoreNotice.objects.filter(store=committed_store).exists()
    assert not AuditEvent.objects.filter(store=committed_store, action="store_restored").exists()


def test_a_backup_older_than_a_migration_is_migrated_before_it_goes_live(
    committed_store, backup_dir
):

    schema = committed_store.schema_name
    # The newest stores migration (nothing depends on it, so its row can go alone).
    latest = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes("stores")[0]
    with connection.cursor() as cursor:
        # As if the backup had been taken before this migration existed.
        cursor.execute(
            f'DELETE FROM "{schema}".django_migrations WHERE app = %s AND name = %s', latest
        )
    backup = backup_create(store=committed_store)
    restore_store(store=committed_store, backup=backup)
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT count(*) FROM "{schema}".django_migrations WHERE app = %s AND name = %s',
            latest,
        )
        assert cursor.fetchone()[0] == 1


def test_a_failed_load_drops_the_scratch_schema(committed_store, backup_dir, monkeypatch):
    """psql fails half-way (here: a table that cannot be created): nothing is left over."""
    from customers.retention import restore

    fill(committed_store)
    backup = backup_create(store=committed_store)
    live = snapshot(committed_store)
    real_rewrite = restore.dump_rewrite

    def breaking_rewrite(source, sink, pattern, target):
        sink.write(b"SELECT 1/0;\n")
        real_rewrite(source, sink, pattern, target)

    monkeypatch.setattr(restore, "dump_rewrite", breaking_rewrite)
    with pytest.raises(RestoreError, match="loading the backup failed: .*division by zero"):
        restore_store(store=committed_store, backup=backup)
    assert snapshot(committed_store) == live
    assert schemas_like(committed_store.schema_name) == [committed_store.schema_name]


def test_the_commands_back_up_and_restore(committed_store, backup_dir, forget_service):
    fill(committed_store)
    out = io.StringIO()
    call_command("backup_stores", "--store", committed_store.slug, stdout=out)
    backup = Backup.objects.get(store=committed_store)
    assert f"{committed_store.slug}: backup {backup.pk}," in out.getvalue()
    call_command("restore_store", committed_store.slug, str(backup.pk), stdout=out)
    assert "0 forget requests made since then replayed" in out.getvalue()
    with pytest.raises(CommandError, match="No backup 0 of store"):
        call_command("restore_store", committed_store.slug, "0")


def test_the_purge_deletes_expired_files_and_rows(store, backup_dir):
    backup_dir.mkdir(parents=True)
    now = timezone.now()
    made = {}
    for name, age in [("old", 31), ("young", 5)]:
        path = backup_dir / f"{name}.dump"
        path.write_bytes(b"PGDMP")
        made[name] = Backup.objects.create(
            store=store,
            path=str(path),
            size_bytes=5,
            sha256=file_sha256(path),
            created_at=now - timedelta(days=age),
            expires_at=now - timedelta(days=age) + timedelta(days=30),
        )
    assert backup_purge(now=now) == {"purged": 1}
    assert not (backup_dir / "old.dump").exists()
    assert (backup_dir / "young.dump").exists()
    assert list(Backup.objects.filter(store=store)) == [made["young"]]
    assert AuditEvent.objects.filter(store=store, action="backup_purged").count() == 1


@pytest.fixture
def worker_backup_dir(tmp_path, monkeypatch, settings):
    """BACKUP_DIR for this process and for a worker started after it (from the environment)."""
    path = tmp_path / "worker-backups"
    monkeypatch.setenv("BACKUP_DIR", str(path))
    settings.BACKUP_DIR = path
    return path


@pytest.mark.worker
def test_the_nightly_backup_and_purge_run_on_a_worker(
    worker_backup_dir, committed_store, celery_worker_process
):
    from customers.tasks import backup_all, backup_purge
    from tests.conftest import wait_for

    fill(committed_store)
    connection.set_schema_to_public()
    start = timezone.now()
    try:
        backup_all.delay()
        # One backup per store: wait for all, so none is written after the clean-up below.
        stores = Store.objects.exclude(schema_name="public").count()
        wait_for(lambda: Backup.objects.filter(created_at__gte=start).count() == stores, timeout=90)
        backup = Backup.objects.get(store=committed_store)
        path = Path(backup.path)
        assert path.parent == worker_backup_dir / committed_store.slug
        assert file_sha256(path) == backup.sha256
        Backup.objects.filter(pk=backup.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        backup_purge.delay()
        wait_for(lambda: not Backup.objects.filter(pk=backup.pk).exists(), timeout=60)
        assert not path.exists()
    finally:
        # The session's stores were backed up too, committed: leave no trace for other tests.
        Backup.objects.filter(created_at__gte=start).delete()
        AuditEvent.objects.filter(
            created_at__gte=start, action__in=["backup_created", "backup_purged"]
        ).delete()
