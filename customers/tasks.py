"""Celery tasks on store data.  Thin: ids in, re-fetch, check the schema, one service call."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import connection

from customers import services
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
