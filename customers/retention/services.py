"""Writes of the retention settings: the bounds a store's policy picks within."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from customers.retention import policy
from stores.audit import audit_record
from stores.models import Store, User


def store_retention_update(*, store: Store, actor: User, min_days: int, max_days: int) -> Store:
    """Set the store's retention bounds (30 <= min <= max <= 365), audited with before/after."""
    if not policy.MIN_DAYS <= min_days <= max_days <= policy.MAX_DAYS:
        raise ValidationError(
            f"Retention bounds must satisfy {policy.MIN_DAYS} <= minimum <= maximum "
            f"<= {policy.MAX_DAYS} days."
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
