"""What a store's schema holds and what the public directory lists for it."""

from __future__ import annotations

from django.db import connection

from stores.directory import schema_oid
from stores.models import Store, SubjectDigest


def held(store: Store) -> set[bytes]:
    """Every non-empty e-mail, customer id and visitor id digest in the store's tables."""
    schema = connection.ops.quote_name(store.schema_name)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT email_digest FROM {schema}.customers_customer "
            f"UNION SELECT customer_digest FROM {schema}.customers_customer "
            f"UNION SELECT visitor_digest FROM {schema}.customers_visitor"
        )
        return {bytes.fromhex(d) for (d,) in cursor.fetchall() if d}


def listed(store: Store) -> set[bytes]:
    """The store's entries in ``public.stores_subjectdigest``."""
    oid = schema_oid(store.schema_name)
    rows = SubjectDigest.objects.filter(schema_oid=oid).values_list("digest", flat=True)
    return {bytes(d) for d in rows}
