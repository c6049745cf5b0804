"""The forget figures' baseline: what an engineer would type to purge one subject by hand."""

from __future__ import annotations

import time

from django.db import connection, transaction

from customers.catalogue import browsing_tables
from stores.models import Store


def raw_forget_seconds(*, store: Store, email: str) -> float:
    """Delete the customer with this e-mail, its devices and their browsing, and make its
    orders anonymous, by the forget job's rules (links, shared devices), in one committed
    transaction; the time it took.

    Committed, as a real purge would be: a rolled-back delete never waits for its WAL to
    reach the disk, which made an earlier baseline faster than the work it stood for.
    """
    connection.set_tenant(store)
    browsing = [m._meta.db_table for m in browsing_tables().values()]
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM customers_customer WHERE lower(email) = %s FOR UPDATE", [email]
        )
        customer_ids = [r[0] for r in cursor.fetchall()]
        cursor.execute(
            "SELECT id FROM customers_visitor WHERE customer_id = ANY(%s) OR id IN "
            "(SELECT visitor_id FROM customers_visitorlink WHERE customer_id = ANY(%s)) "
            "FOR UPDATE",
            [customer_ids, customer_ids],
        )
        devices = [r[0] for r in cursor.fetchall()]
        cursor.execute(
            "SELECT v.id FROM customers_visitor v WHERE v.id = ANY(%s) AND ("
            "(v.customer_id IS NOT NULL AND NOT v.customer_id = ANY(%s)) OR EXISTS (SELECT 1 "
            "FROM customers_visitorlink l WHERE l.visitor_id = v.id "
            "AND NOT l.customer_id = ANY(%s)))",
            [devices, customer_ids, customer_ids],
        )
        shared = {r[0] for r in cursor.fetchall()}
        own = [pk for pk in devices if pk not in shared]
        events = 0
        for table in browsing:
            cursor.execute(f"DELETE FROM {table} WHERE visitor_id = ANY(%s)", [devices])
            events += cursor.rowcount
        cursor.execute(
            "UPDATE customers_order SET customer_id = NULL, visitor_id = NULL, email = NULL, "
            "email_digest = '' WHERE customer_id = ANY(%s) OR (customer_id IS NULL AND "
            "email_digest = '' AND visitor_id = ANY(%s))",
            [customer_ids, own],
        )
        cursor.execute(
            "UPDATE customers_order SET visitor_id = NULL WHERE visitor_id = ANY(%s)", [own]
        )
        cursor.execute(
            "DELETE FROM customers_visitorlink WHERE customer_id = ANY(%s) OR visitor_id = ANY(%s)",
            [customer_ids, own],
        )
        cursor.execute("DELETE FROM customers_visitor WHERE id = ANY(%s)", [own])
        cursor.execute("DELETE FROM customers_customer WHERE id = ANY(%s)", [customer_ids])
    elapsed = time.perf_counter() - started
    connection.set_schema_to_public()
    if not events:
        raise RuntimeError(f"the raw delete found no events of {email}: no twin subject")
    return elapsed
