"""A settled database before a measurement: no autovacuum at work, a checkpoint behind."""

from __future__ import annotations

import time

from django.db import connection

from stores.schemas import on_citus


def settle_database(timeout: float = 120) -> None:
    """A settled database before a load: the earlier measurements' deletes vacuumed (else
    autovacuum takes a core in the middle of a step) and a checkpoint behind (else every
    page's first change after it writes a full page image to the WAL)."""
    busy = (
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker' "
        "AND datname = current_database()"
    )
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(busy)
            working = cursor.fetchone()[0]
            if on_citus():  # the store's tables live on the workers
                cursor.execute("SELECT result FROM run_command_on_workers(%s)", [busy])
                working += sum(int(result) for (result,) in cursor.fetchall())
            if not working:
                break
            time.sleep(1)
        cursor.execute("CHECKPOINT")
        if on_citus():
            cursor.execute("SELECT success FROM run_command_on_workers('CHECKPOINT')")
