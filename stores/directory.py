"""Which of a user's stores hold an exact e-mail, customer id or visitor id: one lookup.

``SubjectDigest`` rows are written by triggers in every store schema (``customers``
migration 0010, functions in ``stores`` migration 0009), in the same transaction as the
customer or visitor row, by every path that writes one (tracking calls, batches, CRM,
orders, the console, a forget's deletes, expiry). Entries are keyed by the schema's OID.
A restore loads its rows before the triggers are made and swaps schemas, so the old
schema's entries are taken out and the restored schema's noted around the swap
(``schema_swapped``); a store deleted takes its entries out with its schema. On
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


def stores_holding(query: str, stores: list) -> list:
    """The stores, in the given order, whose schemas hold ``query``'s digest (made with
    each store's own secret) as an e-mail, customer id or visitor id.

    The digests go as one binary ``bytea`` of 32-byte digests, cut apart by the server: a
    thousand stores' three thousand digests as an array literal cost more to send and
    parse than the lookup itself. ``stores`` need ``pk``, ``schema_name`` and ``secret``."""
    secrets = [store.secret for store in stores]
    wanted: dict[bytes, set[str]] = {}
    # Only an e-mail has an "@" (e-mails are checked on the way in).
    for kind in KINDS if "@" in query else ("customer", "visitor"):
        for store, digest in zip(stores, identifier_digests(secrets, kind, query), strict=True):
            wanted.setdefault(digest, set()).add(store.schema_name)
    if not wanted:
        return []
    # Bound on the server, the digests as binary: no 200 kB hex literal to build and parse.
    # One index lookup per digest (the OFFSET 0 keeps the planner from joining the whole
    # directory instead), the schema's name by its OID for the few found. Without JIT:
    # three thousand lookups look costly to the planner, and compiling took 200 ms.
    with transaction.atomic(), connection.prepared_cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(
            "SELECT d.digest, (SELECT n.nspname FROM pg_namespace n WHERE n.oid = d.schema_oid) "
            "FROM generate_series(0, %s - 1) i, LATERAL ("
            f"SELECT digest, schema_oid FROM {TABLE} "
            "WHERE digest = substring(%b FROM i * 32 + 1 FOR 32) OFFSET 0) d",
            [len(wanted), b"".join(sorted(wanted))],  # in index order: neighbouring pages
        )
        holding = {
            schema for digest, schema in cursor.fetchall() if schema in wanted[bytes(digest)]
        }
    return [store for store in stores if store.schema_name in holding]


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

    The entries are read aside first and deleted after the drop: by then no session can
    write the schema's tables, so none of their triggers waits on an entry this
    transaction holds while the drop waits on their tables."""
    if not kept() or not _has_store_tables(schema):
        yield
        return
    old = schema_oid(schema)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE clerk_dropped_digests ON COMMIT DROP AS "
            f"SELECT decode(held.digest, 'hex') AS digest FROM ({_held(schema)}) held "
            "WHERE held.digest <> ''"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {TABLE} d USING clerk_dropped_digests o "
            "WHERE d.digest = o.digest AND d.schema_oid = %s",
            [old],
        )
        cursor.execute("DROP TABLE clerk_dropped_digests")


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
