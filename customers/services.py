"""Writes on store data.  Each function owns its transaction and takes the store explicitly."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from customers import selectors
from gdpr_dashboard.models import InventorySnapshot
from stores.models import Store


def inventory_refresh(*, store: Store) -> dict:
    """Recount the store's data types into the public InventorySnapshot."""
    connection.set_tenant(store)
    counts = selectors.inventory_counts()
    connection.set_schema_to_public()
    with transaction.atomic():
        InventorySnapshot.objects.update_or_create(
            store=store, defaults={"counts": counts, "refreshed_at": timezone.now()}
        )
    return counts
