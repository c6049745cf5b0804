"""The top search's exact part across many stores: an e-mail, customer id or visitor id
found by its keyed digest, many stores per statement.

Each store digests an identifier with its own secret, so the digests are made here per
store (an HMAC each, about a microsecond) and every store's lookup is one branch of a
UNION ALL on its digest indexes (``customer_email_digest_idx``, ``customer_digest_idx``,
``visitor_digest_idx``). Substrings, prefixes and names are searched in the current
store only (``customers/console/search.py``): across a thousand stores they would cost a
thousand trigram lookups. On Citus each statement reads one store (a store's schema lives
on one node).
"""

from __future__ import annotations

from django.db import connection

from customers.console.search import HITS_PER_KIND, StoreHits
from customers.models import Customer, Visitor
from stores.digests import identifier_digest
from stores.models import Store
from stores.schemas import on_citus

STORES_PER_STATEMENT = 200


def search_stores_exact(query: str, *, stores: list[Store]) -> list[StoreHits]:
    """Customers and visitors whose e-mail, customer id or visitor id is exactly ``query``,
    per store in the given order."""
    hits = {store.pk: StoreHits(store=store) for store in stores}
    if not query:
        return list(hits.values())
    per_statement = 1 if on_citus() else STORES_PER_STATEMENT
    with connection.cursor() as cursor:
        for start in range(0, len(stores), per_statement):
            chunk = stores[start : start + per_statement]
            branches, params = [], []
            for store in chunk:
                sql, values = _branches(store, query)
                branches.append(sql)
                params += values
            cursor.execute(" UNION ALL ".join(branches), params)
            # A visitor's row carries its customer's e-mail and id where a customer's has
            # its own e-mail and name.
            for store_id, kind, pk, ref, email, name, last_seen in cursor.fetchall():
                found = hits[store_id]
                if kind == "c":
                    found.customers.append(
                        {
                            "pk": pk,
                            "customer_ref": ref,
                            "email": email,
                            "name": name,
                            "last_seen": last_seen,
                            "exact": True,
                        }
                    )
                else:
                    found.visitors.append(
                        {
                            "pk": pk,
                            "visitor_ref": ref,
                            "last_seen": last_seen,
                            "customer__customer_ref": name,
                            "customer__email": email,
                            "exact": True,
                        }
                    )
    for found in hits.values():
        found.more = max(len(found.customers), len(found.visitors)) > HITS_PER_KIND
        found.customers = found.customers[:HITS_PER_KIND]
        found.visitors = found.visitors[:HITS_PER_KIND]
    return list(hits.values())


def _branches(store: Store, query: str) -> tuple[str, list]:
    qn = connection.ops.quote_name
    schema = qn(store.schema_name)
    customers = f"{schema}.{qn(Customer._meta.db_table)}"
    visitors = f"{schema}.{qn(Visitor._meta.db_table)}"
    limit = HITS_PER_KIND + 1
    sql = (
        f"(SELECT %s::bigint, 'c', c.id, c.customer_ref, c.email, c.name, c.last_seen "
        f"FROM {customers} c WHERE c.email_digest = %s OR c.customer_digest = %s "
        f"ORDER BY c.last_seen DESC LIMIT {limit}) UNION ALL "
        f"(SELECT %s::bigint, 'v', v.id, v.visitor_ref, vc.email, vc.customer_ref, v.last_seen "
        f"FROM {visitors} v LEFT JOIN {customers} vc ON vc.id = v.customer_id "
        f"WHERE v.visitor_digest = %s ORDER BY v.last_seen DESC LIMIT {limit})"
    )
    secret = store.secret
    return sql, [
        store.pk,
        identifier_digest(secret, "email", query),
        identifier_digest(secret, "customer", query),
        store.pk,
        identifier_digest(secret, "visitor", query),
    ]
