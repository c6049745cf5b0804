"""A settled database before a measurement: vacuumed, no autovacuum at work, a checkpoint
behind."""

from __future__ import annotations

import time

from django.db import connection

from stores.schemas import on_citus

# The tables autovacuum would pick next (its default thresholds): dead rows, rows inserted
# since the last vacuum, rows changed since the last analyze.
DUE = (
    "SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables "
    "WHERE n_dead_tup > 50 + 0.2 * n_live_tup "
    "OR n_ins_since_vacuum > 1000 + 0.2 * n_live_tup "
    "OR n_mod_since_analyze > 50 + 0.1 * n_live_tup"
)


def settle_database(timeout: float = 120) -> None:
    """A settled database before a load: the earlier measurements' writes vacuumed and
    analysed (else autovacuum takes a core in the middle of a step: it wakes once a minute,
    so one that has not started yet is no sign of none to come), no autovacuum at work, and
    a checkpoint behind (else every page's first change after it writes a full page image
    to the WAL)."""
    with connection.cursor() as cursor:
        cursor.execute(DUE)
        for (table,) in cursor.fetchall():
            cursor.execute(f"VACUUM (ANALYZE) {table}")
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
