"""Writes of the store's collection settings, audited with old and new values."""

from __future__ import annotations

from django.db import transaction

from stores.audit import audit_record
from stores.models import Store, User

COLLECTION_FIELDS = ("track_browsing", "collect_emails", "crm_fields")


def store_settings_update(*, store: Store, actor: User, values: dict) -> list[str]:
    """Set the collection settings in ``values``; returns the names that changed."""
    unknown = set(values) - set(COLLECTION_FIELDS)
    if unknown:
        raise ValueError(f"not a collection setting: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        locked = Store.objects.select_for_update().get(pk=store.pk)
        changed = {
            name: {"from": getattr(locked, name), "to": value}
            for name, value in values.items()
            if getattr(locked, name) != value
        }
        if not changed:
            return []
        for name in changed:
            setattr(locked, name, values[name])
        locked.save(update_fields=list(changed))
        audit_record(
            action="store.settings_change", store=locked, actor=actor, detail={"changed": changed}
        )
    for name in changed:
        setattr(store, name, values[name])
    return list(changed)
