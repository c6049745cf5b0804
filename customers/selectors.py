"""Reads of store-schema data.  The caller has already set the store's schema."""

from __future__ import annotations

from django.db import connection
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.db.models.expressions import RawSQL

from customers import retention
from customers.models import Click, ContentView, Customer, Order, PageView, Visitor
from stores.models import Store

COUNTED = {
    "customers": Customer,
    "visitors": Visitor,
    "page_views": PageView,
    "content_views": ContentView,
    "clicks": Click,
    "orders": Order,
}
# Above this many rows (by the planner's estimate) a count is shown as an estimate.
EXACT_COUNT_LIMIT = 200_000


def store_counts() -> dict[str, int]:
    """Rows per kind: exact for small tables, the planner's estimate for big ones."""
    tables = {name: model._meta.db_table for name, model in COUNTED.items()}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.reltuples::bigint FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relname = ANY(%s)",
            [list(tables.values())],
        )
        estimates = dict(cursor.fetchall())
        small = [t for t in tables.values() if estimates.get(t, -1) < EXACT_COUNT_LIMIT]
        if small:
            # Table names come from our own models, never from input.
            cursor.execute(
                "SELECT "
                + ", ".join(f"(SELECT count(*) FROM {connection.ops.quote_name(t)})" for t in small)
            )
            estimates.update(zip(small, cursor.fetchone(), strict=True))
    return {name: int(estimates.get(table, 0)) for name, table in tables.items()}


def inventory_counts() -> dict[str, int]:
    """What the dashboard's data types rest on: row counts plus identified/e-mail/CRM customers."""
    counts = store_counts()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE email IS NOT NULL AND email <> ''), "
            "count(*) FILTER (WHERE attributes <> '{}'::jsonb) FROM customers_customer"
        )
        with_email, with_crm = cursor.fetchone()
    counts.update(customers_with_email=with_email, customers_with_crm=with_crm)
    return counts


def customer_list(
    *, has_email: bool, has_orders: bool, ordering: tuple[str, ...]
) -> QuerySet[Customer]:
    """Data › Customers: the store's customers, filtered and sorted (paginate it)."""
    customers = Customer.objects.only(
        "pk", "customer_ref", "email", "name", "first_seen", "last_seen"
    )
    if has_email:
        customers = customers.exclude(email__isnull=True).exclude(email="")
    if has_orders:
        customers = customers.filter(Exists(Order.objects.filter(customer=OuterRef("pk"))))
    return customers.order_by(*ordering)


def order_counts(customer_ids: list[int]) -> dict[int, int]:
    """Orders per customer for one page of the list (one query)."""
    return dict(
        Order.objects.filter(customer_id__in=customer_ids)
        .values("customer_id")
        .annotate(n=Count("pk"))
        .values_list("customer_id", "n")
    )


def visitors_with_retention(*, store: Store, visitors: QuerySet[Visitor] | None = None):
    """Visitors annotated with ``kept_days`` and ``kept_until`` (the retention policy, in SQL).

    The "why" sentence comes from :func:`visitor_retention` on the same row, no query.
    """
    visitors = Visitor.objects.all() if visitors is None else visitors
    bounds = [store.retention_min_days, store.retention_max_days]
    table = Visitor._meta.db_table
    # The SQL is our own policy text (no input in it); the bounds are parameters.
    return visitors.annotate(
        kept_days=RawSQL(retention.kept_days_sql(table), bounds),  # noqa: S611
        kept_until=RawSQL(retention.expires_at_sql(table), bounds),  # noqa: S611
    )


def visitor_retention(*, store: Store, visitor: Visitor) -> retention.Retention:
    return retention.kept_days(
        visit_count=visitor.visit_count,
        visit_days=visitor.visit_days,
        total_duration_seconds=visitor.total_duration_seconds,
        min_days=store.retention_min_days,
        max_days=store.retention_max_days,
    )
