"""The forget figures' baseline: what an engineer would type to purge one subject by hand."""

from __future__ import annotations

import time

from django.db import connection, transaction

from stores.models import Store


def raw_forget_seconds(*, store: Store, email: str) -> float:
    """Delete the customer with this e-mail, its visitors and their events, and detach its
    orders (as the forget job does), in one committed transaction; the time it took.

    Committed, as a real purge would be: a rolled-back delete never waits for its WAL to
    reach the disk, which made an earlier baseline faster than the work it stood for.
    """
    connection.set_tenant(store)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM customers_customer WHERE lower(email) = %s", [email])
        customer_ids = [r[0] for r in cursor.fetchall()]
        cursor.execute(
            "SELECT id FROM customers_visitor WHERE customer_id = ANY(%s)", [customer_ids]
        )
        visitor_ids = [r[0] for r in cursor.fetchall()]
        events = 0
        for table in ("customers_pageview", "customers_contentview", "customers_click"):
            cursor.execute(f"DELETE FROM {table} WHERE visitor_id = ANY(%s)", [visitor_ids])
            events += cursor.rowcount
        cursor.execute(
            "UPDATE customers_order SET customer_id = NULL, visitor_id = NULL, email = NULL, "
            "email_digest = '' WHERE customer_id = ANY(%s) OR visitor_id = ANY(%s)",
            [customer_ids, visitor_ids],
        )
        cursor.execute("DELETE FROM customers_visitor WHERE id = ANY(%s)", [visitor_ids])
        cursor.execute("DELETE FROM customers_customer WHERE id = ANY(%s)", [customer_ids])
    elapsed = time.perf_counter() - started
    connection.set_schema_to_public()
    if not events:
        raise RuntimeError(f"the raw delete found no events of {email}: no twin subject")
    return elapsed
