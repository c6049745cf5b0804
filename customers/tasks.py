"""Celery tasks on store data.  Thin: ids in, re-fetch, check the schema, one service call."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import connection
from django_tenants.utils import get_public_schema_name, tenant_context

from customers import backup, expiry, services
from stores.models import Store

log = logging.getLogger(__name__)


class WrongSchema(RuntimeError):
    """The task arrived in another schema than its store's (sent without the tenant header)."""


def store_for_task(store_id: int) -> Store:
    """Re-fetch the store and check the worker runs in its schema; switch if it came without one."""
    current = connection.schema_name
    connection.set_schema_to_public()
    store = Store.objects.get(pk=store_id)
    if current not in ("public", store.schema_name):
        raise WrongSchema(f"task for store {store_id} arrived in schema {current!r}")
    connection.set_tenant(store)
    return store


@shared_task(bind=True, max_retries=5, default_retry_delay=10)
def inventory_refresh(self, store_id: int) -> dict:
    """Recount what the store holds for the GDPR dashboard."""
    store = store_for_task(store_id)
    return services.inventory_refresh(store=store)


# --- retention expiry and backups (nightly, queue "maintenance") ----------------------


def _each_store(task) -> int:
    """Queue ``task(store_id)`` once per store, sent from the store's schema (tenant header)."""
    stores = list(Store.objects.exclude(schema_name=get_public_schema_name()).order_by("pk"))
    for store in stores:
        with tenant_context(store):
            task.apply_async(args=[store.pk], queue="maintenance")
    return len(stores)


@shared_task
def retention_expire_all() -> int:
    return _each_store(retention_expire_store)


@shared_task(bind=True, max_retries=3, default_retry_delay=300)
def retention_expire_store(self, store_id: int) -> dict:
    """Delete one store's data past its retention date (a second run at once is a no-op)."""
    store = store_for_task(store_id)
    return expiry.retention_expire(store=store)


@shared_task
def backup_all() -> int:
    return _each_store(backup_store)


@shared_task(bind=True, max_retries=3, default_retry_delay=300)
def backup_store(self, store_id: int) -> int | None:
    store = store_for_task(store_id)
    made = backup.backup_create(store=store)
    return made.pk if made else None


@shared_task
def backup_purge() -> dict:
    return backup.backup_purge()
