"""Helpers for the restore tests: watch what goes live at the swap, act from another session."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

from django.db import connection

from stores.models import Store

PROBE_TABLE = "public.test_restore_swap_probe"


def _bigints(ids: list[int]) -> str:
    return (
        "ARRAY[" + ",".join(str(int(i)) for i in ids) + "]::bigint[]" if ids else "'{}'::bigint[]"
    )


@contextlib.contextmanager
def swap_probe(
    store: Store, *, customer_ids: list[int], visitor_ids: list[int]
) -> Iterator[Callable[[], list[tuple]]]:
    """Watch the moment the swap's renames are done: what is about to go live.

    A PostgreSQL event trigger runs inside the restore's own transaction when it
    starts dropping the old schema, right after ``ALTER SCHEMA <live> RENAME TO
    <old>`` and ``ALTER SCHEMA <scratch> RENAME TO <live>``, and counts in the live
    schema the rows of the given customers and visitors (and the visitors' events)
    plus all customers. What it counts is exactly what goes live when the
    transaction commits. (At the drop, not right after the rename: on Citus a rename
    reaches the worker only once its statement is done.) Yields a function returning
    the rows recorded ``(customers, visitors, events, all_customers)``, one per swap.
    """
    live = store.schema_name
    customers, visitors = _bigints(customer_ids), _bigints(visitor_ids)
    events = " + ".join(
        f"(SELECT count(*) FROM {live}.{table} WHERE visitor_id = ANY({visitors}))"
        for table in ("customers_pageview", "customers_contentview", "customers_click")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {PROBE_TABLE} (customers int, visitors int, events int, "
            "all_customers int)"
        )
        cursor.execute(
            f"""
            CREATE FUNCTION public.test_restore_swap_probe() RETURNS event_trigger
            LANGUAGE plpgsql AS $probe$
            BEGIN
              IF current_query() LIKE 'DROP SCHEMA "{live[:40]}\\_old\\_%' THEN
                INSERT INTO {PROBE_TABLE} SELECT
                  (SELECT count(*) FROM {live}.customers_customer WHERE id = ANY({customers})),
                  (SELECT count(*) FROM {live}.customers_visitor WHERE id = ANY({visitors})),
                  {events},
                  (SELECT count(*) FROM {live}.customers_customer);
              END IF;
            END $probe$
            """
        )
        cursor.execute(
            "CREATE EVENT TRIGGER test_restore_swap_probe ON ddl_command_start "
            "WHEN TAG IN ('DROP SCHEMA') EXECUTE FUNCTION public.test_restore_swap_probe()"
        )

    def recorded() -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {PROBE_TABLE}")
            return cursor.fetchall()

    try:
        yield recorded
    finally:
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute("DROP EVENT TRIGGER IF EXISTS test_restore_swap_probe")
            cursor.execute("DROP FUNCTION IF EXISTS public.test_restore_swap_probe()")
            cursor.execute(f"DROP TABLE IF EXISTS {PROBE_TABLE}")


class OtherSession(threading.Thread):
    """Run ``work`` in a thread with its own database session, as a worker process would."""

    def __init__(self, work: Callable[[], object]):
        super().__init__(daemon=True)
        self.work = work
        self.result: object = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.work()
        except BaseException as exc:  # handed to the test by outcome()
            self.error = exc
        finally:
            connection.close()

    def outcome(self, timeout: float = 60.0) -> object:
        self.join(timeout)
        assert not self.is_alive(), "the other session did not finish"
        if self.error is not None:
            raise self.error
        return self.result


def in_other_session(work: Callable[[], object]) -> object:
    """``work()`` in another database session, waited for; its result."""
    session = OtherSession(work)
    session.start()
    return session.outcome()


def advisory_waiters(*, key1: int, key2: int) -> int:
    """Sessions waiting for the two-key advisory lock (key1, key2)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND classid = %s AND objid = %s AND objsubid = 2",
            [key1, key2],
        )
        return cursor.fetchone()[0]


def relation_waiters(oid: int) -> list[int]:
    """Backends waiting for a lock on the relation."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'relation' AND NOT granted "
            "AND relation = %s",
            [oid],
        )
        return [pid for (pid,) in cursor.fetchall()]
