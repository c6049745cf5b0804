"""The inventory behind the GDPR dashboard: what one store holds, counted in its schema.

The counts are read in the store's schema and written to the public
``InventorySnapshot`` (numbers only, no shopper data); the dashboard reads the
snapshot alone. ``customers.jobs.inventory_refresh_soon`` asks for a recount.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from customers.catalogue import counted_tables
from gdpr_dashboard.models import InventorySnapshot
from stores.models import Store

COUNTED = counted_tables()  # the personal-data catalogue's tables
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


def inventory_refresh(*, store: Store) -> dict:
    """Recount the store's data types into the public InventorySnapshot."""
    connection.set_tenant(store)
    counts = inventory_counts()
    connection.set_schema_to_public()
    with transaction.atomic():
        InventorySnapshot.objects.update_or_create(
            store=store, defaults={"counts": counts, "refreshed_at": timezone.now()}
        )
    return counts


def stores_with_stale_inventory(*, max_age_hours: int) -> list[int]:
    """Ids of the stores never counted or counted longer ago than ``max_age_hours``."""
    cutoff = timezone.now() - timedelta(hours=max_age_hours)
    return list(
        Store.objects.filter(Q(inventory__isnull=True) | Q(inventory__refreshed_at__lt=cutoff))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
