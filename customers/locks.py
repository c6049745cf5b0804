"""PostgreSQL advisory locks that keep periodic store work from running twice at once.

Session-level (not transaction-level) locks, because the work they guard runs
as many short transactions.  The lock dies with the connection, so a killed
worker never leaves a store locked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

# First key of the two-int lock: which job; the second is the store's id.
LOCK_RETENTION = 6001
LOCK_BACKUP = 6002
LOCK_RESTORE = 6003


@contextmanager
def store_lock(*, job: int, store_id: int) -> Iterator[bool]:
    """Try to take the job's lock for a store; yields whether we got it (never waits)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [job, store_id])
        got = bool(cursor.fetchone()[0])
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [job, store_id])
