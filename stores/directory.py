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

from stores.digests import identifier_digest
from stores.models import Store, SubjectDigest
from stores.schemas import on_citus

KINDS = ("email", "customer", "visitor")


def kept() -> bool:
    return not on_citus()


def stores_holding(query: str, stores: list[Store]) -> list[Store]:
    """The stores, in the given order, whose directory entries hold ``query``'s digest
    (made with each store's own secret) as an e-mail, customer id or visitor id."""
    wanted: dict[bytes, int] = {}
    for store in stores:
        secret = store.secret
        for kind in KINDS:
            wanted[bytes.fromhex(identifier_digest(secret, kind, query))] = store.pk
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT digest, store_id FROM {SubjectDigest._meta.db_table} WHERE digest = ANY(%s)",
            [list(wanted)],
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
