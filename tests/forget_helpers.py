"""Helpers for the forget tests: a subject with a full history, a catalog-wide scan, checksums."""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass

from django.db import connection

from customers.models import Order, OrderLine
from tests.factories import (
    ClickFactory,
    ContentViewFactory,
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    PageViewFactory,
    VisitorFactory,
)


@dataclass
class Person:
    email: str
    customer_ref: str
    visitor_refs: list[str]
    customer_pk: int

    @property
    def identifiers(self) -> list[str]:
        return [self.email, self.customer_ref, *self.visitor_refs]


def make_person(tag: str, *, events_per_visitor: int = 3, visitors: int = 2) -> Person:
    """A customer with visitors, events of every kind, and orders three ways (customer,
    visitor, guest e-mail). Call inside the store's schema."""
    email = f"{tag}.person@example.com"
    customer = CustomerFactory(
        email=email.title(),  # stored in mixed case: matching is on the normalised digest
        customer_ref=f"CUST-{tag}",
        name=f"{tag.title()} Person",
        attributes={"age": 41, "city": f"City of {tag}"},
    )
    refs = []
    for i in range(visitors):
        visitor = VisitorFactory(customer=customer, visitor_ref=f"vis-{tag}-{i}")
        refs.append(visitor.visitor_ref)
        PageViewFactory.create_batch(events_per_visitor, visitor=visitor)
        ContentViewFactory.create_batch(events_per_visitor, visitor=visitor)
        ClickFactory.create_batch(events_per_visitor, visitor=visitor, labels=[tag])
        OrderLineFactory(order=OrderFactory(visitor=visitor))
    OrderLineFactory(order=OrderFactory(customer=customer, email=email))
    OrderLineFactory.create_batch(2, order=OrderFactory(email=email))  # guest checkout
    return Person(
        email=email, customer_ref=customer.customer_ref, visitor_refs=refs, customer_pk=customer.pk
    )


def text_columns(schema: str) -> list[tuple[str, str, str]]:
    """Every text-like column of every table in the schema, from the catalog."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
            "JOIN information_schema.tables t ON t.table_schema = c.table_schema "
            "AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE' "
            "WHERE c.table_schema = %s AND c.data_type IN "
            "('text', 'character varying', 'character', 'json', 'jsonb') "
            "ORDER BY 1, 2",
            [schema],
        )
        return cursor.fetchall()


def find_anywhere(schema: str, needles: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every column of the schema holding a needle (any case)."""
    hits = []
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, column, _type in text_columns(schema):
            for needle in needles:
                cursor.execute(
                    f"SELECT 1 FROM {qn(schema)}.{qn(table)} "
                    f"WHERE {qn(column)}::text ILIKE %s LIMIT 1",
                    ["%" + needle.replace("%", r"\%").replace("_", r"\_") + "%"],
                )
                if cursor.fetchone():
                    hits.append((table, column, needle))
    return hits


def order_totals() -> tuple[int, int, str]:
    """Order count, order line count, sum of order totals (the current schema)."""
    from django.db.models import Sum

    total = Order.objects.aggregate(s=Sum("total"))["s"]
    return Order.objects.count(), OrderLine.objects.count(), str(total)


def schema_checksum(schema: str, *, exclude_where: dict[str, str] | None = None) -> str:
    """md5 over every row of every table of the schema, in primary-key order.

    ``exclude_where`` maps a table to a SQL condition of rows left out (the
    forgotten subject's rows, which are meant to change).
    """
    exclude_where = exclude_where or {}
    qn = connection.ops.quote_name
    digest = hashlib.sha256()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "AND table_type = 'BASE TABLE' ORDER BY 1",
            [schema],
        )
        for (table,) in cursor.fetchall():
            where = f"WHERE NOT ({exclude_where[table]})" if table in exclude_where else ""
            cursor.execute(
                f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) "
                f"FROM {qn(schema)}.{qn(table)} t {where}"
            )
            digest.update(f"{table}:{cursor.fetchone()[0]};".encode())
    return digest.hexdigest()


# --- processes ------------------------------------------------------------------------------


def kill_tree(proc, sig=None) -> None:
    """SIGKILL a process and its children (a prefork worker's pool processes included)."""
    import signal

    import psutil

    sig = sig or signal.SIGKILL
    try:
        parent = psutil.Process(proc.pid)
        family = [*parent.children(recursive=True), parent]
    except psutil.NoSuchProcess:
        family = []
    for p in family:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.send_signal(sig)
    proc.wait(timeout=15)


def stop(proc) -> None:
    import subprocess

    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            kill_tree(proc)
