"""Which of a user's stores hold an exact e-mail, customer id or visitor id: one lookup.

``SubjectDigest`` rows are written by triggers in every store schema (``customers``
migration 0010, functions in ``stores`` migration 0009), in the same transaction as the
customer or visitor row, by every path that writes one (tracking calls, batches, CRM,
orders, the console, a forget's deletes, expiry). Entries are keyed by the schema's OID.
A restore loads its rows before the triggers are made and swaps schemas, so the old
schema's entries are taken out and the restored schema's noted around the swap
(``schema_swapped``); a store deleted takes its entries out with its schema. An expiry's
batches leave their rows' entries for one sweep of the store at the end of the run
(``sweep_later``, ``store_sweep``). On
Citus no entries are kept (``kept()`` is false) and the search reads every store.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager

from django.db import connection, transaction

from stores import schemas
from stores.digests import identifier_digests
from stores.schemas import on_citus

KINDS = ("email", "customer", "visitor")
TABLE = "public.stores_subjectdigest"  # stores.models.SubjectDigest (which this module serves)


# The migration that makes a store schema's triggers: a schema without it has no entries.
TRIGGERS_MIGRATION = ("customers", "0010_subject_directory_triggers")


def kept() -> bool:
    return not on_citus()


def split_covered(stores: list) -> tuple[list, list]:
    """(stores the directory lists what they hold of, the others), each in the given order.

    Listed: entries are kept (one server) and the schema has the triggers (its noted
    migration state includes them; a store a deploy has not migrated yet, or whose
    migration failed, has not)."""
    if not kept():
        return [], list(stores)
    listed, unlisted = [], []
    for store in stores:
        (listed if _state_has_triggers(store.schema_state) else unlisted).append(store)
    return listed, unlisted


@functools.cache
def _state_has_triggers(state: str) -> bool:
    current, nodes = schemas.migration_state()
    if state == current:
        return TRIGGERS_MIGRATION in nodes
    known = schemas.template_migrations(state) if state else None
    return known is not None and TRIGGERS_MIGRATION in known


def kinds_held(query: str, stores: list) -> dict:
    """{store: the kinds ("email", "customer", "visitor") under which its schema holds
    ``query``'s digest (made with each store's own secret)}, for the stores holding any.

    The digests go as one binary ``bytea`` of 32-byte digests, cut apart by the server: a
    thousand stores' three thousand digests as an array literal cost more to send and
    parse than the lookup itself. ``stores`` need ``schema_name`` and ``secret``."""
    if not stores:
        return {}
    secrets = [store.secret for store in stores]
    # Only an e-mail has an "@" (e-mails are checked on the way in).
    kinds = KINDS if "@" in query else ("customer", "visitor")
    per_kind = identifier_digests(secrets, kinds, query)
    blob = b"".join(digest for digests in zip(*per_kind, strict=True) for digest in digests)
    width = len(kinds)
    wanted = ", ".join(
        f"substring(%(blob)s FROM ((s.i::int - 1) * {width} + {k}) * 32 + 1 FOR 32)"
        for k in range(width)
    )
    # One probe per store on the (schema OID, digest) key, its schema found by name (the
    # LATERAL keeps the planner from joining the whole directory instead). Without JIT: a
    # thousand probes look costly to the planner, and compiling took 200 ms.
    with transaction.atomic(), connection.prepared_cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(
            "SELECT s.i, hit.digest FROM unnest(%(names)s::text[]) WITH ORDINALITY s(name, i), "
            "LATERAL (SELECT d.digest FROM pg_namespace n "
            f"JOIN {TABLE} d ON d.schema_oid = n.oid::bigint "
            f"WHERE n.nspname = s.name AND d.digest = ANY (ARRAY[{wanted}])) hit",
            {"names": [store.schema_name for store in stores], "blob": blob},
        )
        found = cursor.fetchall()
    held: dict = {}
    for position, digest in found:
        i = position - 1
        for kind, digests in zip(kinds, per_kind, strict=True):
            if digests[i] == bytes(digest):
                held.setdefault(stores[i], set()).add(kind)
    return held


def sweep_later(cursor) -> None:
    """In a transaction deleting many customers and visitors (an expiry batch): their
    entries are left for ``store_sweep`` at the end of the run, not dropped row by row."""
    if kept():
        cursor.execute("SET LOCAL clerkgdpr.directory_swept_later = on")


def store_sweep(schema: str) -> int:
    """Drop the schema's entries that none of its customers and visitors holds (left by
    ``sweep_later``, or by a run that died before its sweep); returns how many.

    One pass over the schema's range of the directory, anti-joined with what the tables
    hold. Then, in a statement of its own (a new snapshot), the dropped digests that a row
    holds now are noted again: a row committed while the sweep ran, whose trigger found the
    entry still there (it locks it, so the sweep waited for that row's commit, but the
    sweep's anti-join still read the tables as they were). A row whose trigger comes after
    the sweep's delete waits for the sweep's commit and then inserts its entry itself."""
    oid = schema_oid(schema) if kept() else None
    if oid is None:
        return 0
    qn = connection.ops.quote_name(schema)
    customers, visitors = f"{qn}.customers_customer", f"{qn}.customers_visitor"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE clerk_swept_digests ON COMMIT DROP AS "
            f"WITH swept AS (DELETE FROM {TABLE} d WHERE d.schema_oid = %s "
            f"AND NOT EXISTS (SELECT 1 FROM {visitors} v "
            "WHERE v.visitor_digest = encode(d.digest, 'hex')) "
            f"AND NOT EXISTS (SELECT 1 FROM {customers} c "
            "WHERE c.email_digest = encode(d.digest, 'hex')) "
            f"AND NOT EXISTS (SELECT 1 FROM {customers} c "
            "WHERE c.customer_digest = encode(d.digest, 'hex')) RETURNING d.digest) "
            "SELECT digest FROM swept",
            [oid],
        )
        swept = cursor.rowcount
        if swept:
            cursor.execute(
                f"INSERT INTO {TABLE} (schema_oid, digest) SELECT %s, g.digest "
                f"FROM clerk_swept_digests g WHERE encode(g.digest, 'hex') IN ({_held(schema)}) "
                "ORDER BY 2 ON CONFLICT DO NOTHING",
                [oid],
            )
        cursor.execute("DROP TABLE clerk_swept_digests")
    return swept


def _held(schema: str) -> str:
    qn = connection.ops.quote_name(schema)
    return (
        f"SELECT email_digest AS digest FROM {qn}.customers_customer "
        f"UNION SELECT customer_digest FROM {qn}.customers_customer "
        f"UNION SELECT visitor_digest FROM {qn}.customers_visitor"
    )


def schema_note(schema: str) -> None:
    """The schema's rows noted."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (digest, schema_oid) "
            "SELECT decode(held.digest, 'hex'), to_regnamespace(quote_ident(%s))::oid "
            f"FROM ({_held(schema)}) held WHERE held.digest <> '' ON CONFLICT DO NOTHING",
            [schema],
        )


@contextmanager
def schema_dropped(schema: str):
    """Around dropping a store schema, in the same transaction: its entries taken out
    once it is gone (nothing for a schema without a store's tables).

    Deleted after the drop (the schema's range of the key): by then no session can write
    the schema's tables, so none of their triggers waits on an entry this transaction
    holds while the drop waits on their tables."""
    if not kept() or not _has_store_tables(schema):
        yield
        return
    old = schema_oid(schema)
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE schema_oid = %s", [old])


@contextmanager
def schema_swapped(schema: str):
    """Around replacing the schema named ``schema`` by another (a restore's swap, the old
    one dropped, in one transaction): the old one's entries out, the new one's noted."""
    with schema_dropped(schema):
        yield
    if kept():
        schema_note(schema)


def _has_store_tables(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_regclass(format('%%I.customers_customer', %s::text)) IS NOT NULL "
            "AND to_regclass(format('%%I.customers_visitor', %s::text)) IS NOT NULL",
            [schema, schema],
        )
        return cursor.fetchone()[0]


def schema_oid(schema: str) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regnamespace(quote_ident(%s))::oid", [schema])
        return cursor.fetchone()[0]
