"""PostgreSQL advisory locks that keep store work from running twice at once.

``store_lock``: session-level (not transaction-level), because the periodic
work it guards runs as many short transactions.  The lock dies with the
connection, so a killed worker never leaves a store locked.

``store_xact_lock``: transaction-level, for work done in one transaction
(each forget; a restore's replay-and-swap).  It ends with the transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

# First key of the two-int lock: which job; the second is the store's id.
LOCK_RETENTION = 6001
LOCK_BACKUP = 6002
LOCK_RESTORE = 6003
# Forgets of one store run one at a time (customers.privacy.forget); a restore holds the same lock
# from reading the forgets it replays until its swap commits (customers.retention.restore).
LOCK_FORGET = 0x46_47  # "FG"


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


def store_xact_lock(*, job: int, store_id: int) -> None:
    """Wait for the job's lock for a store; held until the current transaction ends.

    Waits as long as the transaction's ``lock_timeout`` allows (forever by default).
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [job, store_id])
