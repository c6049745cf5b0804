"""Which of a user's stores hold an exact e-mail, customer id or visitor id: one lookup.

``SubjectDigest`` rows are written by triggers in every store schema (``customers``
migration 0010, functions in ``stores`` migration 0009), in the same transaction as the
customer or visitor row, by every path that writes one (tracking calls, batches, CRM,
orders, the console, a forget's deletes, expiry). A restore loads its rows with the
triggers not yet made, so the store's entries are made again after the swap
(``rebuild``). On Citus no entries are kept (``kept()`` is false) and the search reads
every store.
"""

from __future__ import annotations

from django.db import connection

from stores.digests import identifier_digests
from stores.models import Store, SubjectDigest
from stores.schemas import on_citus

KINDS = ("email", "customer", "visitor")


def kept() -> bool:
    return not on_citus()


def stores_holding(query: str, stores: list[Store]) -> list[Store]:
    """The stores, in the given order, whose directory entries hold ``query``'s digest
    (made with each store's own secret) as an e-mail, customer id or visitor id.

    The digests go as one ``bytea`` of 32-byte digests, cut apart by the server: a
    thousand stores' three thousand digests as an array literal cost more to send and
    parse than the lookup itself."""
    secrets = [store.secret for store in stores]
    wanted: dict[bytes, int] = {}
    for kind in KINDS:
        for store, digest in zip(stores, identifier_digests(secrets, kind, query), strict=True):
            wanted[digest] = store.pk
    if not wanted:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT digest, store_id FROM {SubjectDigest._meta.db_table} WHERE digest = ANY("
            "ARRAY(SELECT substring(%s::bytea FROM i * 32 + 1 FOR 32) "
            "FROM generate_series(0, %s - 1) i))",
            [b"".join(wanted), len(wanted)],
        )
        holding = {
            store_id for digest, store_id in cursor.fetchall() if wanted[bytes(digest)] == store_id
        }
    return [store for store in stores if store.pk in holding]


def rebuild(store: Store) -> None:
    """The store's entries made again from its schema's rows (after a restore)."""
    schema = connection.ops.quote_name(store.schema_name)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {SubjectDigest._meta.db_table} WHERE store_id = %s", [store.pk]
        )
        cursor.execute(
            f"INSERT INTO {SubjectDigest._meta.db_table} (digest, store_id) "
            "SELECT DISTINCT decode(held.digest, 'hex'), %s FROM ("
            f"SELECT email_digest AS digest FROM {schema}.customers_customer "
            f"UNION ALL SELECT customer_digest FROM {schema}.customers_customer "
            f"UNION ALL SELECT visitor_digest FROM {schema}.customers_visitor"
            ") held WHERE held.digest <> '' ON CONFLICT DO NOTHING",
            [store.pk],
        )
