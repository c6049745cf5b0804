"""Store backups: one ``pg_dump -Fc`` of the store's schema per night, kept 30 days.

A forgotten person stays in the backups taken before the forget until they
expire (DESIGN.md, Forget); the purge deletes file and row on the expiry
date, and a restore replays every forget made since (``customers/retention/restore.py``).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from clerkgdpr.pgtools import pg_env, pg_tool
from customers.locks import LOCK_BACKUP, store_lock
from gdpr_dashboard.models import Backup
from stores.audit import audit_record
from stores.models import Store, User

log = logging.getLogger(__name__)


class BackupError(RuntimeError):
    pass


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "no message"


def backup_create(*, store: Store, actor: User | None = None) -> Backup | None:
    """Dump the store's schema into BACKUP_DIR and record it; None if a backup is running."""
    connection.set_schema_to_public()
    with store_lock(job=LOCK_BACKUP, store_id=store.pk) as got:
        if not got:
            log.info("backup of store %s skipped: already running", store.pk)
            return None
        return _dump(store, actor)


def _dump(store: Store, actor: User | None) -> Backup:
    # The dump is a snapshot taken when pg_dump starts; forgets after this
    # moment are the ones a restore of it must replay.
    started_at = timezone.now()
    folder = Path(settings.BACKUP_DIR) / store.slug
    # Dumps hold shoppers' personal data: readable by this user only.
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = f"{store.schema_name}-{started_at:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}.dump"
    final, partial = folder / name, folder / (name + ".part")
    result = subprocess.run(
        [
            pg_tool("pg_dump"),
            "--format=custom",
            f"--schema={store.schema_name}",
            # Retention expiry's scratch table of cut-offs, while a run is on.
            f"--exclude-table={store.schema_name}.expiry_cutoffs",
            "--no-owner",
            "--no-privileges",
            f"--file={partial}",
        ],
        env=pg_env(),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump of store {store.slug} failed: {_first_line(result.stderr)}")
    partial.chmod(0o600)
    sha256 = file_sha256(partial)
    partial.rename(final)
    with transaction.atomic():
        backup = Backup.objects.create(
            store=store,
            path=str(final),
            size_bytes=final.stat().st_size,
            sha256=sha256,
            created_at=started_at,
            expires_at=started_at + timedelta(days=settings.BACKUP_RETENTION_DAYS),
        )
        audit_record(
            action="backup_created",
            store=store,
            actor=actor,
            detail={"backup": backup.pk, "size_bytes": backup.size_bytes},
        )
    log.info("backup %s of store %s: %s bytes", backup.pk, store.pk, backup.size_bytes)
    return backup


def backup_purge(*, now: datetime | None = None) -> dict:
    """Delete expired backup files and their rows; returns how many went."""
    now = now or timezone.now()
    purged = 0
    for backup in Backup.objects.filter(expires_at__lte=now).select_related("store__account"):
        Path(backup.path).unlink(missing_ok=True)
        with transaction.atomic():
            audit_record(
                action="backup_purged",
                store=backup.store,
                detail={"backup": backup.pk, "created_at": backup.created_at.isoformat()},
            )
            backup.delete()
        purged += 1
    return {"purged": purged}
