"""Celery tasks on store data.  Thin: ids in, re-fetch, check the schema, one service call."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
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
    _clear_pending(store_id)  # before counting: a change made meanwhile asks again
    store = store_for_task(store_id)
    return services.inventory_refresh(store=store)


# --- forget (queue "forget", see CELERY_TASK_ROUTES) ---------------------------------------

FORGET_MAX_RETRIES = 8


def _forget_backoff(retries: int) -> int:
    """5 s, 10 s, 20 s ... capped at 5 minutes."""
    return min(5 * 2**retries, 300)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=FORGET_MAX_RETRIES)
def forget_run(self, store_id: int, request_id: int) -> dict | None:
    """Run one forget request; retried with backoff, then marked failed."""
    from customers import forget
    from gdpr_dashboard.models import PrivacyRequest

    try:
        store = store_for_task(store_id)
    except Store.DoesNotExist:
        log.error("forget_run: store %s no longer exists; request %s dropped", store_id, request_id)
        return None
    except WrongSchema:
        # Sent without the tenant header: never guess the schema. The sweeper re-sends it.
        log.error(
            "forget_run: request %s arrived in the wrong schema; left for the sweeper", request_id
        )
        return None
    request = PrivacyRequest.objects.filter(pk=request_id, store=store).first()
    if request is None:
        log.error("forget_run: no request %s in store %s", request_id, store_id)
        return None
    try:
        return forget.forget_execute(request=request)
    except Exception as exc:
        # The class name only: a database error's text can quote row values.
        error = f"{type(exc).__name__} (attempt {self.request.retries + 1})"
        if self.request.retries >= FORGET_MAX_RETRIES:
            forget.forget_request_fail(request_id=request_id, error=error)
            log.error("forget_run: request %s failed for good: %s", request_id, error)
            return None
        forget.forget_request_note_error(request_id=request_id, error=error)
        raise self.retry(countdown=_forget_backoff(self.request.retries), exc=exc) from None


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=FORGET_MAX_RETRIES)
def forget_run_batch(self, store_id: int, request_ids: list[int]) -> dict | None:
    """Many requests of one store in one job (bulk API, sweep); failed ones are retried."""
    from customers import forget

    try:
        store = store_for_task(store_id)
    except Store.DoesNotExist:
        log.error("forget_run_batch: store %s no longer exists", store_id)
        return None
    except WrongSchema:
        log.error("forget_run_batch: arrived in the wrong schema; left for the sweeper")
        return None
    done, failed = forget.forget_execute_many(store=store, request_ids=request_ids)
    if failed:
        if self.request.retries >= FORGET_MAX_RETRIES:
            for request_id, error in failed.items():
                forget.forget_request_fail(request_id=request_id, error=error)
            return {"done": len(done), "failed": len(failed)}
        raise self.retry(
            args=[store_id, sorted(failed)], countdown=_forget_backoff(self.request.retries)
        )
    return {"done": len(done), "failed": 0}


@shared_task(acks_late=True)
def forget_sweep() -> int:
    """Beat, every minute: re-queue forget requests stuck past the timeout."""
    from customers import forget

    connection.set_schema_to_public()
    return forget.forget_requests_sweep()


# --- inventory refresh, debounced ------------------------------------------------------
#
# Call ``inventory_refresh_soon(store)`` after anything that changes which data a
# store holds (ingestion, forget, retention expiry, restore).  Calls for the same
# store within settings.INVENTORY_REFRESH_DELAY seconds collapse into one recount: the
# first call (after its transaction commits) sets a Redis key and queues the
# task with that countdown; later calls see the key and do nothing.  The task
# deletes the key *before* counting, so a change made while it counts asks for
# one more recount instead of being lost.  The key also expires on its own, so
# a lost message delays the next recount by at most INVENTORY_REFRESH_DELAY +
# DEBOUNCE_SLACK seconds.  The key's value is when its recount starts; a process that
# has seen it skips Redis until shortly before then.  The dashboard only reads the snapshot.

DEBOUNCE_SLACK = 120  # seconds the key outlives the countdown


def _redis():
    from clerkgdpr.redis_client import redis_client

    return redis_client(timeout=2)


def _debounce_key(store_id: int) -> str:
    return f"{settings.CELERY_KEY_PREFIX}:inventory-refresh-pending:{store_id}"


def inventory_refresh_soon(store: Store, *, delay: int | None = None) -> None:
    """Recount ``store``'s inventory in ``delay`` seconds, merging calls made in between.

    Safe to call inside a transaction (acts on commit) and from any schema;
    never raises for a Redis or broker outage (the hourly sweep catches up).
    """
    delay = settings.INVENTORY_REFRESH_DELAY if delay is None else delay
    store_id = store.pk
    transaction.on_commit(lambda: _queue_refresh(store_id, delay))


# {store id: Unix time the pending recount starts}, per process: until shortly before
# then, a write is covered by that recount and need not ask Redis again (the hot path
# of tracking calls costs no Redis round trip for this).
_pending_until: dict[int, float] = {}
PENDING_MARGIN = 2.0  # seconds: clock differences between hosts, a task started early


def _queue_refresh(store_id: int, delay: int) -> bool:
    import redis

    now = time.time()
    if now < _pending_until.get(store_id, 0.0) - PENDING_MARGIN:
        return False
    try:
        # The key holds when its recount starts; a non-transactional pipeline, one round trip.
        pipe = _redis().pipeline(transaction=False)
        pipe.set(_debounce_key(store_id), now + delay, nx=True, ex=delay + DEBOUNCE_SLACK)
        pipe.get(_debounce_key(store_id))
        first, starts = pipe.execute()
    except redis.RedisError:
        log.warning("inventory refresh: Redis unavailable, queueing without debounce")
        first, starts = True, None
    try:
        _pending_until[store_id] = float(starts)
    except (TypeError, ValueError):
        _pending_until.pop(store_id, None)
    if not first:
        return False
    try:
        inventory_refresh.apply_async(args=[store_id], countdown=delay)
    except Exception:  # broker down: the key expires and the sweep catches up
        log.warning("inventory refresh: could not queue store %s", store_id, exc_info=True)
        _pending_until.pop(store_id, None)
        return False
    return True


def _clear_pending(store_id: int) -> None:
    import redis

    _pending_until.pop(store_id, None)  # the recount has started (in this process)
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
    from customers.restore import leftover_scratch_purge  # restore imports this module

    return {**backup.backup_purge(), "restore_leftovers": leftover_scratch_purge()}
