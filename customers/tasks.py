"""Celery tasks on store data.  Thin: ids in, re-fetch, check the schema, one service call.

Services queue these by name through ``customers.jobs``; nothing else imports this module.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import connection

from customers import inventory, jobs
from customers.privacy import forget, forget_requests
from customers.retention import backup, expiry, restore
from gdpr_dashboard.models import PrivacyRequest
from stores import schemas
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
    jobs.inventory_refresh_started(store_id)  # before counting: a change made meanwhile asks again
    store = store_for_task(store_id)
    return inventory.inventory_refresh(store=store)


@shared_task(ignore_result=True)
def inventory_refresh_stale(max_age_hours: int = 24) -> int:
    """Beat, hourly: recount stores never counted or counted long ago (catches missed calls)."""
    connection.set_schema_to_public()
    stale = inventory.stores_with_stale_inventory(max_age_hours=max_age_hours)
    for store_id in stale:
        jobs.inventory_refresh_queue(store_id, 0)
    return len(stale)


# --- forget (queue "forget", see CELERY_TASK_ROUTES) ---------------------------------------

FORGET_MAX_RETRIES = 8


def _forget_backoff(retries: int) -> int:
    """5 s, 10 s, 20 s ... capped at 5 minutes."""
    return min(5 * 2**retries, 300)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=FORGET_MAX_RETRIES)
def forget_run(self, store_id: int, request_id: int) -> dict | None:
    """Run one forget request; retried with backoff, then marked failed."""
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
            forget_requests.forget_request_fail(request_id=request_id, error=error)
            log.error("forget_run: request %s failed for good: %s", request_id, error)
            return None
        forget_requests.forget_request_note_error(request_id=request_id, error=error)
        raise self.retry(countdown=_forget_backoff(self.request.retries), exc=exc) from None


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=FORGET_MAX_RETRIES)
def forget_run_batch(self, store_id: int, request_ids: list[int]) -> dict | None:
    """Many requests of one store in one job (bulk API, sweep); failed ones are retried."""
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
                forget_requests.forget_request_fail(request_id=request_id, error=error)
            return {"done": len(done), "failed": len(failed)}
        raise self.retry(
            args=[store_id, sorted(failed)], countdown=_forget_backoff(self.request.retries)
        )
    return {"done": len(done), "failed": 0}


@shared_task(acks_late=True)
def forget_sweep() -> int:
    """Beat, every minute: re-queue forget requests stuck past the timeout."""
    connection.set_schema_to_public()
    return forget_requests.forget_requests_sweep()


# --- retention expiry and backups (nightly, queue "maintenance") ----------------------


@shared_task
def retention_expire_all() -> float:
    """Beat, nightly: expiry for every store, spread over NIGHTLY_WINDOW_SECONDS."""
    return jobs.send_spread("retention_expire_store")


@shared_task(acks_late=True)
def spread_per_store(task: str, after_id: int, chunk: int, interval: float) -> int:
    """One step of a nightly spread (customers/jobs.py): the next chunk, then the next step."""
    connection.set_schema_to_public()
    if jobs.queue_backlog() > settings.NIGHTLY_MAX_QUEUED:  # workers behind: wait
        jobs.send("spread_per_store", args=[task, after_id, chunk, interval], countdown=interval)
        return 0
    last, sent = jobs.spread_step(task, after_id=after_id, chunk=chunk)
    if last is not None:
        jobs.send("spread_per_store", args=[task, last, chunk, interval], countdown=interval)
    return sent


@shared_task(bind=True, max_retries=3, default_retry_delay=300)
def retention_expire_store(self, store_id: int) -> dict:
    """Delete one store's data past its retention date (a second run at once is a no-op)."""
    store = store_for_task(store_id)
    return expiry.retention_expire(store=store)


@shared_task
def backup_all() -> float:
    """Beat, nightly: a backup of every store, spread over NIGHTLY_WINDOW_SECONDS."""
    return jobs.send_spread("backup_store")


@shared_task(bind=True, max_retries=3, default_retry_delay=300)
def backup_store(self, store_id: int) -> int | None:
    store = store_for_task(store_id)
    made = backup.backup_create(store=store)
    return made.pk if made else None


@shared_task
def spare_schemas_fill() -> int:
    """Beat, every minute: keep SPARE_SCHEMAS store schemas ready for new stores."""
    connection.set_schema_to_public()
    return schemas.spare_schemas_fill(count=settings.SPARE_SCHEMAS)


@shared_task
def backup_purge() -> dict:
    return {**backup.backup_purge(), "restore_leftovers": restore.leftover_scratch_purge()}
