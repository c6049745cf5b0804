"""Retention expiry: delete what is past its date, in short transactions, once per store at a time.

What goes (see ``customers/retention/policy.py`` for the dates):

1. raw events (page views, content views, clicks) older than their visitor's
   window, and every event of a visitor past its date, walked in primary-key
   ranges so each transaction is small and the whole pass reads each table
   once, in table order. Each visitor's cut-off is worked out once per run
   from its counters into a narrow temporary table (no WAL, a tenth of the
   visitor table's width), which every range then joins;
2. visitors past their date, in batches walked up the primary key: the visitor
   rows (re-checked as they are deleted, so a visitor who came back meanwhile
   stays), events of theirs written since step 1 (looked for above the ids step
   1 was sure to see, usually none), the link from their orders (orders stay,
   detached);
3. customers that lost their last visitor in step 2 and have no orders.

Dates come from the visitor's own counters in SQL (nothing stores a date that
could go stale), so rows written by any path are covered; events go by the
cut-offs of the run's start. Ingestion is never blocked for long: every
statement touches at most one id range or one batch, and the run rests between
them (RETENTION_PAUSE_RATIO) so live traffic keeps most of the machine.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from customers import jobs
from customers.catalogue import browsing_tables
from customers.locks import LOCK_RETENTION, store_lock
from customers.models import Basket, Customer, Order, Subscriber, Visitor, VisitorLink
from customers.retention import policy
from gdpr_dashboard.models import RetentionRun
from stores import directory
from stores.audit import audit_record
from stores.models import Store

log = logging.getLogger(__name__)

EVENT_MODELS = browsing_tables()  # the personal-data catalogue's browsing tables
# Step 1 joins each id range of an event table with every visitor's cut-off (a hash of the
# cut-off table, built once per range): big ranges and the memory to hash in one go make
# that build a smaller part of each range, while a range stays a short transaction.
EVENT_ID_CHUNK = 250_000
STEP1_WORK_MEM = "64MB"
# The cut-off table lives in the store's schema (unlogged: no WAL), so on Citus it sits on
# the store's worker next to the tables it is joined with; backups leave it out.
CUTOFFS = "expiry_cutoffs"
SETTLE_SECONDS = 30.0
# Small batches commit (and so flush) their own WAL often: live commits then find little
# of expiry's WAL in front of theirs to flush (see README "Retention").
VISITOR_BATCH = 2_000
BATCH_COUNTS = [
    *EVENT_MODELS,
    "orders_detached",
    "customers",
    "baskets",
]  # what step 2 counts besides visitors

Progress = Callable[[str, int, int], None]  # (step, done, total)

V = Visitor._meta.db_table
C = Customer._meta.db_table
O = Order._meta.db_table  # noqa: E741
L = VisitorLink._meta.db_table
B = Basket._meta.db_table
S = Subscriber._meta.db_table


def _expired_visitor_sql(alias: str) -> str:
    # Params: min days, max days, now. `now - last_seen > days` rather than `last_seen + days
    # < now`: the same in UTC, and only IMMUTABLE functions (Citus refuses a STABLE one such
    # as timestamptz + interval over columns in a DELETE or UPDATE).
    return f"make_interval(days => {policy.kept_days_sql(alias)}) < %s - {alias}.last_seen"


@contextmanager
def _cutoffs(bounds: list[int], now: datetime):
    """Per visitor, the time before which its events go: ``<store schema>.expiry_cutoffs``.

    An event goes when ``LEAST(occurred_at, last_seen) < now - window``: past its
    visitor's window, or its visitor has expired (then every event goes: cut-off
    ``infinity``). Worked out once per run instead of per id range, in an unlogged table
    of the store's schema (written without WAL; on Citus on the store's worker, so each
    range's DELETE runs there whole), dropped at the end; one left by a killed run is
    dropped by the next (runs of one store take turns under the retention lock).
    The cut-off is computed on UTC timestamps (`timestamp - interval` is IMMUTABLE, which
    Citus needs in an INSERT ... SELECT; the same as timestamptz arithmetic in UTC).
    """
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {CUTOFFS}")
        cursor.execute(
            f"CREATE UNLOGGED TABLE {CUTOFFS} (visitor_id bigint NOT NULL, "
            "cutoff timestamptz NOT NULL)"
        )
        cursor.execute(
            f"INSERT INTO {CUTOFFS} SELECT id, CASE WHEN last_seen < t THEN 'infinity' ELSE t END "
            f"FROM (SELECT v.id, v.last_seen, ((%s::timestamptz AT TIME ZONE 'UTC') "
            f"- make_interval(days => {policy.kept_days_sql('v')})) AT TIME ZONE 'UTC' AS t "
            f"FROM {V} v) AS w",
            [now, *bounds],
        )
        cursor.execute(f"ANALYZE {CUTOFFS}")
    try:
        yield
    finally:
        if connection.is_usable():  # else the session, and its temporary table, are gone
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {CUTOFFS}")


def retention_expire(
    *,
    store: Store,
    dry_run: bool = False,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> dict:
    """Expire one store's data past its retention date; returns counts per kind.

    Returns ``{"skipped": "locked"}`` without doing anything when another
    caller holds the store's retention lock (two beats, or a beat and the command).
    """
    now = now or timezone.now()
    started = time.monotonic()
    connection.set_schema_to_public()
    with store_lock(job=LOCK_RETENTION, store_id=store.pk) as got:
        if not got:
            log.info("retention expiry of store %s skipped: already running", store.pk)
            return {"skipped": "locked"}
        run = RetentionRun.objects.create(store=store, started_at=now, dry_run=dry_run)
        connection.set_tenant(store)
        try:
            bounds = [store.retention_min_days, store.retention_max_days]
            if dry_run:
                counts = _count_expired(bounds, now)
            else:
                counts = _expire(bounds, now, progress or (lambda *a: None))
        finally:
            connection.set_schema_to_public()
        counts["duration_seconds"] = round(time.monotonic() - started, 3)
        run.counts = counts
        run.finished_at = timezone.now()
        run.save(update_fields=["counts", "finished_at"])
        if not dry_run:
            audit_record(
                action="retention_expired",
                store=store,
                detail={"run": run.pk, **counts},
            )
    log.info("retention expiry of store %s: %s", store.pk, counts)
    if not dry_run:
        jobs.inventory_refresh_soon(store)  # the GDPR dashboard's checks follow (debounced)
    return counts


def _expire(bounds: list[int], now: datetime, progress: Progress) -> dict:
    counts = dict.fromkeys([*BATCH_COUNTS, "visitors", "subscribers"], 0)
    with _one_core():
        settled = _settled_ids(EVENT_MODELS.values())
        started = time.monotonic()
        with _cutoffs(bounds, now):
            _yield_to_ingestion(time.monotonic() - started)
            for kind, model in EVENT_MODELS.items():
                counts[kind] += _expire_old_events(model, progress, kind)
        for model in EVENT_MODELS.values():
            _paced(_vacuum, model)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM {V} v WHERE {_expired_visitor_sql('v')}", [*bounds, now]
            )
            total = cursor.fetchone()[0]
        done = after = 0
        progress("visitors", 0, total)
        while True:
            started = time.monotonic()
            with transaction.atomic(), connection.cursor() as cursor:
                directory.sweep_later(cursor)
                batch, after = _expire_visitor_batch(cursor, bounds, now, after, settled)
            if batch is None:
                break
            for kind, n in batch.items():
                counts[kind] += n
            done += batch["visitors"]
            progress("visitors", min(done, total), total)
            _yield_to_ingestion(time.monotonic() - started)
        _paced(directory.store_sweep, connection.schema_name)
        with transaction.atomic(), connection.cursor() as cursor:
            for kind, sql in _UNLINKED.items():
                cursor.execute(f"DELETE FROM {sql}", [now, bounds[1]])
                counts[kind] += cursor.rowcount
    return counts


# Rows of an e-mail alone, kept for the store's longest retention after their last change:
# baskets without a device, withdrawn newsletter subscriptions.
_UNLINKED = {
    "baskets": f"{B} WHERE visitor_id IS NULL AND updated_at < %s - make_interval(days => %s)",
    "subscribers": f"{S} WHERE NOT subscribed AND changed_at < %s - make_interval(days => %s)",
}


@contextmanager
def _one_core():
    """No parallel workers for this connection while expiry runs: a night job that took
    every core (a parallel count, a parallel index vacuum) would stall live ingestion."""
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")
        cursor.execute("SET max_parallel_maintenance_workers = 0")
    try:
        yield
    finally:
        # Not on a broken connection (or an aborted transaction, which undoes the SETs):
        # the error that broke it is the one to report.
        if connection.is_usable():
            with connection.cursor() as cursor:
                cursor.execute("RESET max_parallel_workers_per_gather")
                cursor.execute("RESET max_parallel_maintenance_workers")


def _paced(step, *args) -> None:
    started = time.monotonic()
    step(*args)
    _yield_to_ingestion(time.monotonic() - started)


def _settled_ids(models) -> dict[str, int]:
    """Per event table, an id up to which every row is committed before step 1 reads it.

    Step 1 deletes every event of an expired visitor that it sees. What it cannot see
    are rows of transactions still open when it passes their id range, and those all
    have ids the table's sequence had handed out by then. So: note the sequences, wait
    for every transaction open at that moment to end (normally milliseconds), and step 1
    sees every row up to those ids; step 2 then need only look above them, by primary
    key, for a visitor's events written since (instead of one index look-up per visitor
    and table). If some transaction stays open longer than SETTLE_SECONDS, step 2
    looks everywhere (0), as exact and slower.
    """
    ids = {}
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            cursor.execute(
                "SELECT COALESCE(pg_sequence_last_value(pg_get_serial_sequence(%s, 'id')), 0)",
                [table],
            )
            ids[table] = cursor.fetchone()[0]
        cursor.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())")
        horizon = cursor.fetchone()[0]
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            cursor.execute(
                "SELECT pg_snapshot_xmin(pg_current_snapshot()) >= %s::text::xid8", [str(horizon)]
            )
            if cursor.fetchone()[0]:
                return ids
            if time.monotonic() > deadline or connection.in_atomic_block:
                return dict.fromkeys(ids, 0)
            time.sleep(0.05)


def _vacuum(model) -> None:
    """Clear what step 1 deleted out of an event table's indexes (well under a second for a
    million rows): look-ups by visitor (step 2 when it could not settle its ids, the
    profiles) do not wade through dead entries, and ingestion reuses the space at once.

    Skipped inside a transaction (VACUUM cannot run there; tests), where autovacuum follows.
    """
    if connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {connection.ops.quote_name(model._meta.db_table)}")


def _yield_to_ingestion(batch_seconds: float) -> None:
    """Pause after a batch for a share of its time, leaving the cores to live traffic."""
    pause = batch_seconds * settings.RETENTION_PAUSE_RATIO
    if pause > 0:
        time.sleep(pause)


def _expire_old_events(model, progress, kind) -> int:
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(id), max(id) FROM {table}")
        low, high = cursor.fetchone()
    if low is None:
        progress(kind, 0, 0)
        return 0
    deleted = 0
    total = high - low + 1
    for start in range(low, high + 1, EVENT_ID_CHUNK):
        chunk_started = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL work_mem = '{STEP1_WORK_MEM}'")
            cursor.execute(
                f"DELETE FROM {table} e USING {CUTOFFS} c WHERE e.visitor_id = c.visitor_id "
                "AND e.id >= %s AND e.id < %s AND e.occurred_at < c.cutoff",
                [start, start + EVENT_ID_CHUNK],
            )
            deleted += cursor.rowcount
        progress(kind, min(start + EVENT_ID_CHUNK - low, total), total)
        _yield_to_ingestion(time.monotonic() - chunk_started)
    return deleted


def _expire_visitor_batch(
    cursor, bounds, now, after: int, settled: dict[str, int]
) -> tuple[dict | None, int]:
    """One batch of expired visitors with ids above ``after``: (counts, last id) or (None, after).

    Two statements, whatever the batch holds (a statement per table cost more in round trips
    and planning than in work, at 2,000 visitors):

    1. read the batch up the primary key (keyset: no batch scans past the rows earlier
       batches deleted) and delete it, re-checking each row's date (a visitor whose visit
       is being written is waited for, then kept if it came back);
    2. in a new snapshot, taken once those visitor rows are locked, so no event of theirs
       can be written by a transaction that has not committed by then: their events written
       since step 1, their links, the link from their orders, and customers left with no
       device and no order.

    Ids travel as array literals joined through ``unnest``, so the planner does not estimate
    thousands of constants one by one.
    """
    expired = _expired_visitor_sql("v")
    cursor.execute(
        f"WITH batch AS MATERIALIZED (SELECT id FROM {V} v WHERE v.id > %s AND {expired} "
        "ORDER BY id LIMIT %s), "
        f"gone AS (DELETE FROM {V} v USING batch b WHERE v.id = b.id AND {expired} "
        "RETURNING v.id, v.customer_id) "
        "SELECT (SELECT max(id) FROM batch), (SELECT array_agg(id) FROM gone), "
        "(SELECT array_agg(DISTINCT customer_id) FROM gone WHERE customer_id IS NOT NULL)",
        [after, *bounds, now, VISITOR_BATCH, *bounds, now],
    )
    last, gone, customer_ids = cursor.fetchone()
    if last is None:
        return None, after
    counts = dict.fromkeys(BATCH_COUNTS, 0)
    counts["visitors"] = len(gone or [])
    if not gone:
        return counts, last
    events = [
        # Step 1 took every event up to settled[table] of these visitors (see _settled_ids).
        f"{kind} AS (DELETE FROM {model._meta.db_table} WHERE id > "
        f"{int(settled.get(model._meta.db_table, 0))} "
        "AND visitor_id IN (SELECT id FROM g) RETURNING 1)"
        for kind, model in EVENT_MODELS.items()
    ]
    cursor.execute(
        "WITH g AS MATERIALIZED (SELECT unnest(%s::bigint[]) AS id), "
        + ", ".join(events)
        # Orders through their visitor index one visitor at a time (LATERAL): a semi-join
        # would read every order of the store for each batch.
        + f", orders_detached AS (UPDATE {O} SET visitor_id = NULL WHERE id IN "
        f"(SELECT o.id FROM g, LATERAL (SELECT id FROM {O} WHERE visitor_id = g.id) o) "
        "RETURNING 1), "
        f"links_gone AS (DELETE FROM {L} WHERE visitor_id IN (SELECT id FROM g) "
        "RETURNING customer_id), "
        f"baskets AS (DELETE FROM {B} WHERE visitor_id IN (SELECT id FROM g) RETURNING 1), "
        # Customers that lost their last device (few) are found first, through the link and
        # visitor indexes; only those are then checked for orders. (The statement sees the
        # links as they were before links_gone: the batch's own links are left out.)
        "lost AS MATERIALIZED (SELECT x.id FROM (SELECT unnest(%s::bigint[]) AS id "
        "UNION SELECT customer_id FROM links_gone) x "
        f"WHERE NOT EXISTS (SELECT 1 FROM {V} v WHERE v.customer_id = x.id) "
        f"AND NOT EXISTS (SELECT 1 FROM {L} l WHERE l.customer_id = x.id "
        "AND l.visitor_id NOT IN (SELECT id FROM g))), "
        f"customers AS (DELETE FROM {C} c USING lost WHERE c.id = lost.id "
        f"AND NOT EXISTS (SELECT 1 FROM {O} o WHERE o.customer_id = c.id) RETURNING 1) "
        "SELECT " + ", ".join(f"(SELECT count(*) FROM {name})" for name in BATCH_COUNTS),
        [_array(gone), _array(customer_ids or [])],
    )
    counts.update(zip(BATCH_COUNTS, cursor.fetchone(), strict=True))
    return counts, last


def _array(ids) -> str:
    """A bigint[] literal: one parameter instead of thousands."""
    return "{" + ",".join(map(str, ids)) + "}"


def _count_expired(bounds: list[int], now: datetime) -> dict:
    """What a real run would delete now (reads, and the same cut-offs; nothing changed)."""
    counts = {}
    with _cutoffs(bounds, now), connection.cursor() as cursor:
        for kind, model in EVENT_MODELS.items():
            cursor.execute(
                f"SELECT count(*) FROM {model._meta.db_table} e JOIN {CUTOFFS} c "
                "ON c.visitor_id = e.visitor_id WHERE e.occurred_at < c.cutoff"
            )
            counts[kind] = cursor.fetchone()[0]
    with connection.cursor() as cursor:
        expired = _expired_visitor_sql("v")
        cursor.execute(f"SELECT count(*) FROM {V} v WHERE {expired}", [*bounds, now])
        counts["visitors"] = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT count(*) FROM {O} o JOIN {V} v ON v.id = o.visitor_id WHERE {expired}",
            [*bounds, now],
        )
        counts["orders_detached"] = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT count(*) FROM {C} c "
            f"WHERE EXISTS (SELECT 1 FROM {V} v WHERE v.customer_id = c.id OR v.id IN "
            f"(SELECT visitor_id FROM {L} WHERE customer_id = c.id)) "
            f"AND NOT EXISTS (SELECT 1 FROM {V} v WHERE (v.customer_id = c.id OR v.id IN "
            f"(SELECT visitor_id FROM {L} WHERE customer_id = c.id)) AND NOT ({expired})) "
            f"AND NOT EXISTS (SELECT 1 FROM {O} WHERE customer_id = c.id)",
            [*bounds, now],
        )
        counts["customers"] = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT count(*) FROM {B} b JOIN {V} v ON v.id = b.visitor_id WHERE {expired}",
            [*bounds, now],
        )
        counts["baskets"] = cursor.fetchone()[0]
        for kind, sql in _UNLINKED.items():
            cursor.execute(f"SELECT count(*) FROM {sql}", [now, bounds[1]])
            counts[kind] = counts.get(kind, 0) + cursor.fetchone()[0]
    return counts
