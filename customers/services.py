"""Writes on store data.  Each function owns its transaction and takes the store explicitly."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from customers import retention, selectors
from gdpr_dashboard.audit import audit_record
from gdpr_dashboard.models import InventorySnapshot
from stores.models import Store, User


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


def store_retention_update(*, store: Store, actor: User, min_days: int, max_days: int) -> Store:
    """Set the store's retention bounds (30 <= min <= max <= 365), audited with before/after."""
    if not retention.MIN_DAYS <= min_days <= max_days <= retention.MAX_DAYS:
        raise ValidationError(
            f"Retention bounds must satisfy {retention.MIN_DAYS} <= minimum <= maximum "
            f"<= {retention.MAX_DAYS} days."
        )
    with transaction.atomic():
        locked = Store.objects.select_for_update().get(pk=store.pk)
        before = {"min_days": locked.retention_min_days, "max_days": locked.retention_max_days}
        locked.retention_min_days, locked.retention_max_days = min_days, max_days
        locked.save(update_fields=["retention_min_days", "retention_max_days"])
        audit_record(
            action="settings.retention",
            store=locked,
            actor=actor,
            detail={"before": before, "after": {"min_days": min_days, "max_days": max_days}},
        )
    store.retention_min_days, store.retention_max_days = min_days, max_days
    return store
