"""Restore a store's schema from a backup, with every forget made since it was taken.

A person forgotten after the backup is never visible in the live store: the
forgets are replayed into the restored copy before it goes live.

1. the file must exist and match the recorded SHA-256;
2. the dump is restored into a new scratch schema: ``pg_restore`` turns the
   custom-format dump into SQL, the schema name is rewritten in the DDL lines
   only (never inside ``COPY`` data, so shoppers' data is byte for byte as
   dumped), and ``psql --single-transaction`` loads it;
3. the scratch schema is migrated if the backup predates migrations;
4. one transaction, holding the store's forget lock from its start to its
   commit: it reads the forgets of the store done since the backup started,
   replays each into the scratch schema (a ledger row ``via=replay``,
   ``replay_of`` the original, digests copied, run by the forget service,
   which works from the digests alone), swaps the schemas (live → old,
   scratch → live, drop old), and writes the audit event and the store
   notice with the number of replays.

Forgets running at the same time: one that finished before step 4 took the
lock is in the list it reads and is replayed; one that starts later waits
for the lock (forgets of a store run one at a time) and, once the swap has
committed, runs on the restored schema. None is lost.

If anything fails, or the process dies, before step 4 commits, the live
store and the ledger are as they were (no replay rows, suppressions, audit
or notice: they commit with the swap). The scratch schema is dropped on an
error; one left by a killed process is dropped by the next restore of the
store (it holds the backup's data, forgotten people included).
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import subprocess
import tempfile
from pathlib import Path

from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from clerkgdpr.pgtools import dump_rewrite, pg_env, pg_tool
from customers import jobs
from customers.locks import LOCK_FORGET, LOCK_RESTORE, store_lock, store_xact_lock
from customers.privacy.forget import forget_execute
from customers.privacy.forget_requests import replay_row_create
from customers.retention.backup import _first_line, file_sha256
from gdpr_dashboard.models import (
    Backup,
    PrivacyRequest,
    RequestKind,
    RequestStatus,
)
from stores import directory
from stores.audit import audit_record
from stores.models import Store, StoreNotice, User

log = logging.getLogger(__name__)


class RestoreError(RuntimeError):
    """The restore stopped before the swap; the live store is untouched."""


def schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [name])
        return cursor.fetchone() is not None


def restore_store(*, store: Store, backup: Backup, actor: User | None = None) -> dict:
    """Replace the store's schema with the backup's, later forgets replayed; returns a summary."""
    if backup.store_id != store.pk:
        raise RestoreError(f"backup {backup.pk} is not a backup of store {store.slug}")
    connection.set_schema_to_public()
    path = Path(backup.path)
    if not path.is_file():
        raise RestoreError(f"backup {backup.pk}: file {path} is missing")
    if file_sha256(path) != backup.sha256:
        raise RestoreError(f"backup {backup.pk}: checksum mismatch, the file is damaged")
    with store_lock(job=LOCK_RESTORE, store_id=store.pk) as got:
        if not got:
            raise RestoreError(f"a restore of store {store.slug} is already running")
        _drop_leftover_scratch(store)
        scratch = scratch_schema_name(store)
        try:
            _load_into(path, source_schema=store.schema_name, target_schema=scratch)
            # A backup up to 30 days old may predate migrations the code (and the replays) expect.
            _migrate_if_behind(scratch)
            summary = _replay_and_swap(
                store=store,
                backup=backup,
                scratch=scratch,
                actor=actor,
            )
        except DatabaseError as exc:
            _abandon(scratch)
            # The class name only: a database error's text can quote row values.
            name = type(exc.__cause__ or exc).__name__
            raise RestoreError(f"the database stopped the restore ({name})") from exc
        except BaseException:
            _abandon(scratch)
            raise
    log.info(
        "store %s restored from backup %s, %s forgets replayed",
        store.pk,
        backup.pk,
        summary["forgets_replayed"],
    )
    jobs.inventory_refresh_soon(store)  # the restored data is what the dashboard must show
    return summary


def scratch_schema_name(store: Store) -> str:
    """A new scratch schema's name: the store's schema, its id and a random suffix (≤ 63)."""
    return f"{_scratch_prefix(store)}{secrets.token_hex(4)}"


def _scratch_prefix(store: Store) -> str:
    return f"{store.schema_name[:32]}_restore_{store.pk}_"


def _drop_leftover_scratch(store: Store) -> int:
    """Drop scratch schemas of this store left by a killed restore (none runs: we hold its lock)."""
    prefix = _scratch_prefix(store)
    leftover = re.compile(re.escape(prefix) + r"[0-9a-f]{8}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", [prefix])
        names = [name for (name,) in cursor.fetchall() if leftover.fullmatch(name)]
    for name in names:
        _drop_schema(name)
    if names:
        log.info(
            "store %s: dropped %d schema(s) left by an interrupted restore", store.pk, len(names)
        )
    return len(names)


def leftover_scratch_purge() -> int:
    """Nightly: drop scratch schemas left by killed restores of any store; returns how many.

    They hold a backup's data, forgotten people included, so they must not wait for the
    store's next restore. A store whose restore is running (its lock is taken) is skipped.
    """
    dropped = 0
    connection.set_schema_to_public()
    for store in Store.objects.only("pk", "schema_name"):
        with store_lock(job=LOCK_RESTORE, store_id=store.pk) as got:
            if got:
                dropped += _drop_leftover_scratch(store)
    return dropped


def _abandon(scratch: str) -> None:
    """After a failure before the swap committed: back to public, scratch schema dropped."""
    connection.set_schema_to_public()
    _drop_schema(scratch)


def _drop_schema(name: str) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    except Exception:  # e.g. the connection is gone; the original error matters more
        # The next restore of the store drops it.
        log.warning("restore: could not drop scratch schema %s", name, exc_info=True)


def _load_into(path: Path, *, source_schema: str, target_schema: str) -> None:
    env = pg_env()
    pattern = re.compile(rb"(?<![\w$])" + re.escape(source_schema.encode()) + rb"(?![\w$])")
    with tempfile.TemporaryFile() as restore_err, tempfile.TemporaryFile() as psql_err:
        dump = subprocess.Popen(
            [pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--file=-", str(path)],
            stdout=subprocess.PIPE,
            stderr=restore_err,
            env=env,
        )
        load = subprocess.Popen(
            [
                pg_tool("psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "--single-transaction",
                "-f",
                "-",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=psql_err,
            env=env,
        )
        try:
            dump_rewrite(dump.stdout, load.stdin, pattern, target_schema.encode())
        except BrokenPipeError:
            pass  # psql stopped on an error; its exit code and message say which
        finally:
            with contextlib.suppress(BrokenPipeError):
                load.stdin.close()
            dump.stdout.close()
        dump_rc, load_rc = dump.wait(), load.wait()
        if dump_rc != 0:
            load.kill()
            restore_err.seek(0)
            raise RestoreError(
                f"pg_restore could not read the backup: "
                f"{_first_line(restore_err.read().decode(errors='replace'))}"
            )
        if load_rc != 0:
            psql_err.seek(0)
            message = _first_line(psql_err.read().decode(errors="replace"))
            raise RestoreError(f"loading the backup failed: {message}")
    if not schema_exists(target_schema):
        raise RestoreError("the backup holds no schema of this store")


def _replay_and_swap(*, store: Store, backup: Backup, scratch: str, actor: User | None) -> dict:
    """Replay the forgets into the scratch schema and swap it in: one transaction.

    The store's forget lock is held from before the ledger is read until the
    commit, so no forget can finish between the read and the swap: it is
    either in the list (done before) or runs on the restored schema (after).
    """
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Wait a while for a running forget or queries on the live schema, not forever.
            cursor.execute("SET LOCAL lock_timeout = '30s'")
        store_xact_lock(job=LOCK_FORGET, store_id=store.pk)
        originals = list(forgets_since(store=store, backup=backup))
        replays = [_replay(original=original, scratch=scratch) for original in originals]
        # The backup's rows were loaded before its triggers were made: the search's
        # directory takes the old schema's entries out and notes the restored one's.
        with directory.schema_swapped(store.schema_name):
            _swap_schemas(live=store.schema_name, scratch=scratch)
        return _record(store=store, backup=backup, replays=replays, actor=actor)


def _replay(*, original: PrivacyRequest, scratch: str) -> PrivacyRequest:
    """A replay ledger row for the original, run in the scratch schema (same transaction)."""
    replay = replay_row_create(original=original)
    try:
        forget_execute(request=replay, schema=scratch)
    except Exception as exc:
        raise RestoreError(
            f"replaying forget request {original.pk} failed ({type(exc).__name__}); "
            "nothing was swapped in"
        ) from exc
    return replay


def _swap_schemas(*, live: str, scratch: str) -> None:
    old = f"{live[:40]}_old_{secrets.token_hex(4)}"
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER SCHEMA "{live}" RENAME TO "{old}"')
        cursor.execute(f'ALTER SCHEMA "{scratch}" RENAME TO "{live}"')
        # Waits (lock_timeout) for queries still running on the old schema's tables.
        cursor.execute(f'DROP SCHEMA "{old}" CASCADE')


def _record(
    *, store: Store, backup: Backup, replays: list[PrivacyRequest], actor: User | None
) -> dict:
    """The store notice and audit event of a restore (in the swap's transaction)."""
    done = len(replays)
    message = (
        f"Restored from the backup of {backup.created_at:%Y-%m-%d %H:%M} UTC on "
        f"{timezone.now():%Y-%m-%d %H:%M} UTC; {done} forget request"
        f"{'' if done == 1 else 's'} made since then replayed."
    )
    detail = {"backup": backup.pk, "replayed": [r.pk for r in replays]}
    StoreNotice.objects.create(
        store=store, kind=StoreNotice.Kind.RESTORE, message=message, detail=detail
    )
    audit_record(
        action="store_restored",
        store=store,
        actor=actor,
        detail={**detail, "forgets_replayed": done},
    )
    return {"backup": backup.pk, "forgets_replayed": done, "message": message}


def _migrate_if_behind(schema: str) -> None:
    """Bring the scratch schema up to the code's migrations before anything runs in it."""
    from django.core.management import call_command
    from django.db.migrations.loader import MigrationLoader

    with connection.cursor() as cursor:
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')
        applied = set(cursor.fetchall())
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    if known - applied:
        log.info("restore: scratch schema %s is behind, migrating", schema)
        # In a transaction: outside one, django-tenants closes the connection after
        # migrating, which would end the session's restore lock.
        with transaction.atomic():
            call_command("migrate_schemas", schema_name=schema, interactive=False, verbosity=0)
        connection.set_schema_to_public()


def forgets_since(*, store: Store, backup: Backup):
    """Original forget requests done after the backup's snapshot (those it may still hold)."""
    return (
        PrivacyRequest.objects.filter(
            store=store,
            kind=RequestKind.FORGET,
            status=RequestStatus.DONE,
            replay_of__isnull=True,
        )
        .filter(Q(received_at__gte=backup.created_at) | Q(done_at__gte=backup.created_at))
        .order_by("received_at", "pk")
    )
