"""Restore a store's schema from a backup, then replay every forget made since it was taken.

Steps, each of which leaves the live store as it was if it fails:

1. the file must exist and match the recorded SHA-256;
2. the dump is restored into a new scratch schema: ``pg_restore`` turns the
   custom-format dump into SQL, the schema name is rewritten in the DDL lines
   only (never inside ``COPY`` data, so shoppers' data is byte for byte as
   dumped), and ``psql --single-transaction`` loads it;
3. one transaction swaps the schemas (live → old, scratch → live, drop old);
4. each forget of the store done after the backup started gets a replay ledger
   row (``via=replay``, ``replay_of`` the original, digests copied) and runs
   through the forget service, which works from the digests alone;
5. an audit event and a notice on the store say that a restore happened and
   how many forgets were replayed.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import subprocess
import tempfile
from pathlib import Path

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from customers.backup import _first_line, file_sha256
from customers.locks import LOCK_RESTORE, store_lock
from customers.pgtools import pg_env, pg_tool
from gdpr_dashboard.audit import audit_record
from gdpr_dashboard.models import (
    Backup,
    PrivacyRequest,
    RequestKind,
    RequestStatus,
    RequestVia,
)
from stores.models import Store, StoreNotice, User

log = logging.getLogger(__name__)


class RestoreError(RuntimeError):
    """The restore stopped before the swap; the live store is untouched."""


def schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [name])
        return cursor.fetchone() is not None


def restore_store(*, store: Store, backup: Backup, actor: User | None = None) -> dict:
    """Replace the store's schema with the backup's and replay later forgets; returns a summary."""
    if backup.store_id != store.pk:
        raise RestoreError(f"backup {backup.pk} is not a backup of store {store.slug}")
    connection.set_schema_to_public()
    path = Path(backup.path)
    if not path.is_file():
        raise RestoreError(f"backup {backup.pk}: file {path} is missing")
    if file_sha256(path) != backup.sha256:
        raise RestoreError(f"backup {backup.pk}: checksum mismatch, the file is damaged")
    forget_execute = _forget_service()
    with store_lock(job=LOCK_RESTORE, store_id=store.pk) as got:
        if not got:
            raise RestoreError(f"a restore of store {store.slug} is already running")
        scratch = f"{store.schema_name[:40]}_restore_{secrets.token_hex(4)}"
        try:
            _load_into(path, source_schema=store.schema_name, target_schema=scratch)
            replays = _swap(
                store=store, backup=backup, scratch=scratch, can_replay=forget_execute is not None
            )
        except Exception:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP SCHEMA IF EXISTS "{scratch}" CASCADE')
            raise
        # A backup up to 30 days old may predate migrations the code now expects.
        _migrate_if_behind(store)
        failed = _run_replays(replays, forget_execute)
    done = len(replays) - len(failed)
    with transaction.atomic():
        message = (
            f"Restored from the backup of {backup.created_at:%Y-%m-%d %H:%M} UTC on "
            f"{timezone.now():%Y-%m-%d %H:%M} UTC; {done} forget request"
            f"{'' if done == 1 else 's'} made since then replayed."
        )
        if failed:
            message += f" {len(failed)} more could not run yet and are retried."
        detail = {"backup": backup.pk, "replayed": [r.pk for r in replays], "failed": failed}
        StoreNotice.objects.create(
            store=store, kind=StoreNotice.Kind.RESTORE, message=message, detail=detail
        )
        audit_record(
            action="store_restored",
            store=store,
            actor=actor,
            detail={**detail, "forgets_replayed": done},
        )
    log.info("store %s restored from backup %s, %s forgets replayed", store.pk, backup.pk, done)
    from customers.tasks import inventory_refresh_soon  # tasks imports this module

    inventory_refresh_soon(store)  # the restored data is what the dashboard must show
    return {"backup": backup.pk, "forgets_replayed": done, "failed": failed, "message": message}


def _forget_service():
    """``customers.forget.forget_execute`` (the forget pipeline), or None where it is missing."""
    try:
        from customers.forget import forget_execute
    except ImportError:
        return None
    return forget_execute


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
            _rewrite(dump.stdout, load.stdin, pattern, target_schema.encode())
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


def _rewrite(source, sink, pattern: re.Pattern, target: bytes) -> None:
    """Copy pg_restore's SQL, renaming the schema in statements but never in COPY data."""
    in_copy = False
    for line in source:
        if in_copy:
            if line == b"\\.\n":
                in_copy = False
            sink.write(line)
            continue
        if line.startswith(b"COPY ") and line.rstrip().endswith(b"FROM stdin;"):
            in_copy = True
        sink.write(pattern.sub(target, line))


def _swap(*, store: Store, backup: Backup, scratch: str, can_replay: bool) -> list[PrivacyRequest]:
    """Swap the schemas and write the replay ledger rows in one transaction.

    The replay rows commit with the swap: if the process dies right after,
    they are open forget requests that the forget sweeper runs, so a
    forgotten person never stays back for good.
    """
    live = store.schema_name
    old = f"{live[:40]}_old_{secrets.token_hex(4)}"
    with transaction.atomic(), connection.cursor() as cursor:
        # Wait a while for running queries on the live schema, not forever.
        cursor.execute("SET LOCAL lock_timeout = '30s'")
        cursor.execute(f'ALTER SCHEMA "{live}" RENAME TO "{old}"')
        cursor.execute(f'ALTER SCHEMA "{scratch}" RENAME TO "{live}"')
        # Waits for a forget still running on the old schema; read the ledger after it.
        cursor.execute(f'DROP SCHEMA "{old}" CASCADE')
        originals = list(forgets_since(store=store, backup=backup))
        if originals and not can_replay:
            raise RestoreError(
                f"{len(originals)} forget requests must be replayed, but the forget "
                "service (customers.forget) is not installed"
            )
        return [
            PrivacyRequest.objects.create(
                store=store,
                kind=RequestKind.FORGET,
                via=RequestVia.REPLAY,
                subject_kind=original.subject_kind,
                email_digest=original.email_digest,
                customer_digest=original.customer_digest,
                visitor_digests=list(original.visitor_digests),
                replay_of=original,
            )
            for original in originals
        ]


def _migrate_if_behind(store: Store) -> None:
    from django.core.management import call_command
    from django.db.migrations.loader import MigrationLoader

    with connection.cursor() as cursor:
        cursor.execute(f'SELECT app, name FROM "{store.schema_name}".django_migrations')
        applied = set(cursor.fetchall())
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    if known - applied:
        log.info("store %s: restored schema is behind, migrating", store.pk)
        call_command(
            "migrate_schemas", schema_name=store.schema_name, interactive=False, verbosity=0
        )
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


def _run_replays(replays: list[PrivacyRequest], forget_execute) -> list[int]:
    """Run each replay through the forget service; ids of those that failed (left open)."""
    failed = []
    for replay in replays:
        try:
            forget_execute(request=replay)
        except Exception:
            log.exception("replay %s of forget %s failed", replay.pk, replay.replay_of_id)
            failed.append(replay.pk)
        finally:
            connection.set_schema_to_public()
    return failed
