"""The top search's exact part across many stores: an e-mail, customer id or visitor id
found by its keyed digest.

On one server the directory of digests in ``public`` (``stores/directory.py``) names the
stores that hold the identifier, and under which kinds, in one indexed lookup; only those
stores are read, and only the tables of the kinds found, in one statement that returns
the rows as the page shows them. Without it (on Citus, or a store not yet migrated to the
directory's triggers) every such store is read: each store digests an identifier with its
own secret, so the digests are made here per store and every store's lookup is one branch
of a UNION ALL on its digest indexes (``customer_email_digest_idx``,
``customer_digest_idx``, ``visitor_digest_idx``) that returns row ids only; the few rows
found are then read in one more statement. Substrings, prefixes and names are searched in
the current store only (``customers/console/search.py``): across a thousand stores they
would cost a thousand trigram lookups. On Citus each statement reads one store (a store's
schema lives on one node).
"""

from __future__ import annotations

import functools
from contextlib import contextmanager

from django.db import DatabaseError, connection

from customers.console.search import HITS_PER_KIND, StoreHits
from customers.models import Customer, Visitor
from stores import directory
from stores.digests import identifier_digest
from stores.models import Store
from stores.schemas import on_citus

STORES_PER_STATEMENT = 200


def search_stores_exact(query: str, *, stores: list[Store]) -> list[StoreHits]:
    """Customers and visitors whose e-mail, customer id or visitor id is exactly ``query``,
    per store in the given order. ``stores`` need ``pk``, ``schema_name``, ``secret`` and
    ``schema_state``."""
    hits = {store.pk: StoreHits(store=store) for store in stores}
    if not query:
        return list(hits.values())
    listed, unlisted = directory.split_covered(stores)
    # Stores the directory lists are read when it names them, only the tables of the kinds
    # it found; the others (on Citus, or during a deploy before their schema has the
    # directory's triggers) every time.
    for store_id, kind, row in _named_rows(query, directory.kinds_held(query, listed)):
        (hits[store_id].customers if kind == "c" else hits[store_id].visitors).append(row)
    found: dict[int, list[tuple[str, int]]] = {}
    for store_id, kind, pk in _matches(query, unlisted, prepare=len(unlisted) > 1):
        found.setdefault(store_id, []).append((kind, pk))
    details = _details({store_id: hits[store_id].store for store_id in found}, found)
    for store_id, rows in found.items():
        for kind, pk in rows:  # most recently seen first, as matched
            row = details.get((store_id, kind, pk))
            if row is None:  # gone between the two statements (a forget, an expiry)
                continue
            (hits[store_id].customers if kind == "c" else hits[store_id].visitors).append(row)
    for store_hits in hits.values():
        store_hits.more = max(len(store_hits.customers), len(store_hits.visitors)) > HITS_PER_KIND
        store_hits.customers = store_hits.customers[:HITS_PER_KIND]
        store_hits.visitors = store_hits.visitors[:HITS_PER_KIND]
    return list(hits.values())


def _matches(query: str, stores: list[Store], *, prepare: bool) -> list[tuple[int, str, int]]:
    """(store id, "c" or "v", row id) of every match, by digest index only.

    With ``prepare`` the statements are prepared at once with a generic plan: planning a
    union of 400 index lookups costs about 1 ms per store, running it about 0.03 ms, and
    the statement text of a user's stores is the same from search to search (so each
    connection plans it once). On Citus one statement per store, planned as usual.
    """
    if not stores:
        return []
    if on_citus():
        chunks, prepare = [[store] for store in stores], False
    else:
        step = STORES_PER_STATEMENT
        chunks = [stores[i : i + step] for i in range(0, len(stores), step)]
    rows: list[tuple[int, str, int]] = []
    # Each statement in a transaction of its own (autocommit): a statement locks every
    # relation it reads, and one transaction for a thousand stores would hold more locks
    # than the server's lock table has.
    with connection.prepared_cursor() as cursor, _generic_plans(cursor, prepare):
        for chunk in chunks:
            params: list = []
            for store in chunk:
                params += _digests(store, query)
            cursor.execute(_union(tuple((store.pk, store.schema_name) for store in chunk)), params)
            rows += cursor.fetchall()
    return rows


@contextmanager
def _generic_plans(cursor, prepare: bool):
    """Statements prepared on their first run, with a plan for any parameters; the
    session's settings as they were afterwards (a failed RESET never hides the error that
    ended the block)."""
    if not prepare:
        yield
        return
    raw = cursor.cursor.connection
    threshold = raw.prepare_threshold
    try:
        raw.prepare_threshold = 0
        with connection.cursor() as plain:
            plain.execute("SET plan_cache_mode = force_generic_plan")
        yield
    except BaseException:
        _reset(raw, threshold, quietly=True)
        raise
    _reset(raw, threshold, quietly=False)


def _reset(raw, threshold, *, quietly: bool) -> None:
    raw.prepare_threshold = threshold
    try:
        with connection.cursor() as plain:
            plain.execute("RESET plan_cache_mode")
    except DatabaseError:
        if not quietly:
            raise


@functools.lru_cache(maxsize=256)
def _union(stores: tuple[tuple[int, str], ...]) -> str:
    qn = connection.ops.quote_name
    limit = HITS_PER_KIND + 1
    branches = []
    for store_id, schema_name in stores:
        schema = qn(schema_name)
        customers = f"{schema}.{qn(Customer._meta.db_table)}"
        visitors = f"{schema}.{qn(Visitor._meta.db_table)}"
        branches.append(
            f"(SELECT {int(store_id)}, 'c', c.id FROM {customers} c "
            "WHERE c.email_digest = %s OR c.customer_digest = %s "
            f"ORDER BY c.last_seen DESC LIMIT {limit}) UNION ALL "
            f"(SELECT {int(store_id)}, 'v', v.id FROM {visitors} v "
            f"WHERE v.visitor_digest = %s ORDER BY v.last_seen DESC LIMIT {limit})"
        )
    return " UNION ALL ".join(branches)


def _named_rows(query: str, named: dict) -> list[tuple[int, str, dict]]:
    """(store id, "c" or "v", the row as the page shows it) of the stores the directory
    named, most recently seen first per store and kind: one statement, each store's
    branches reading only the tables of the kinds found there (a store's first read in a
    database session costs about 2 ms per table: the planner opens its every index)."""
    qn = connection.ops.quote_name
    limit = HITS_PER_KIND + 1
    branches, params = [], []
    for store, kinds in named.items():
        schema = qn(store.schema_name)
        customers = f"{schema}.{qn(Customer._meta.db_table)}"
        visitors = f"{schema}.{qn(Visitor._meta.db_table)}"
        by = [
            (kind, identifier_digest(store.secret, kind, query)) for kind in ("email", "customer")
        ]
        by = [(kind, digest) for kind, digest in by if kind in kinds]
        if by:
            where = " OR ".join(f"c.{kind}_digest = %s" for kind, _ in by)
            branches.append(
                f"(SELECT {int(store.pk)}, 'c', c.id, c.customer_ref, c.email, c.name, "
                f"c.last_seen FROM {customers} c WHERE {where} "
                f"ORDER BY c.last_seen DESC LIMIT {limit})"
            )
            params += [digest for _, digest in by]
        if "visitor" in kinds:
            branches.append(
                f"(SELECT {int(store.pk)}, 'v', v.id, v.visitor_ref, vc.email, vc.customer_ref, "
                f"v.last_seen FROM {visitors} v LEFT JOIN {customers} vc "
                "ON vc.id = v.customer_id WHERE v.visitor_digest = %s "
                f"ORDER BY v.last_seen DESC LIMIT {limit})"
            )
            params.append(identifier_digest(store.secret, "visitor", query))
    if not branches:
        return []
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(branches), params)
        return [
            (store_id, kind, _shown(kind, pk, ref, email, name, last_seen))
            for store_id, kind, pk, ref, email, name, last_seen in cursor.fetchall()
        ]


def _shown(kind: str, pk: int, ref, email, name, last_seen) -> dict:
    """A customer's row carries its own e-mail and name, a visitor's its customer's e-mail
    and id (in ``name``'s place)."""
    if kind == "c":
        row = {"pk": pk, "customer_ref": ref, "email": email, "name": name}
    else:
        row = {"pk": pk, "visitor_ref": ref, "customer__customer_ref": name}
        row["customer__email"] = email
    return {**row, "last_seen": last_seen, "exact": True}


def _digests(store: Store, query: str) -> list[str]:
    secret = store.secret
    return [
        identifier_digest(secret, "email", query),
        identifier_digest(secret, "customer", query),
        identifier_digest(secret, "visitor", query),
    ]


def _details(stores: dict[int, Store], found: dict[int, list[tuple[str, int]]]) -> dict:
    """{(store id, kind, row id): the row as the search page shows it}, for the few matches.

    A visitor's row carries its customer's e-mail and id where a customer's has its own
    e-mail and name."""
    qn = connection.ops.quote_name
    statements = []
    for store_id, rows in found.items():
        schema = qn(stores[store_id].schema_name)
        customers = f"{schema}.{qn(Customer._meta.db_table)}"
        visitors = f"{schema}.{qn(Visitor._meta.db_table)}"
        statements.append(
            (
                f"SELECT {int(store_id)}, 'c', c.id, c.customer_ref, c.email, c.name, c.last_seen "
                f"FROM {customers} c WHERE c.id = ANY(%s) UNION ALL "
                f"SELECT {int(store_id)}, 'v', v.id, v.visitor_ref, vc.email, vc.customer_ref, "
                f"v.last_seen FROM {visitors} v LEFT JOIN {customers} vc ON vc.id = v.customer_id "
                "WHERE v.id = ANY(%s)",
                [
                    [pk for kind, pk in rows if kind == "c"],
                    [pk for kind, pk in rows if kind == "v"],
                ],
            )
        )
    if not on_citus() and statements:  # one statement on one server
        statements = [
            (
                " UNION ALL ".join(sql for sql, _ in statements),
                [p for _, ps in statements for p in ps],
            )
        ]
    details = {}
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            for store_id, kind, pk, ref, email, name, last_seen in cursor.fetchall():
                details[store_id, kind, pk] = _shown(kind, pk, ref, email, name, last_seen)
    return details
