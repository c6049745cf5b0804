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
