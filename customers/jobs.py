"""Background jobs, queued by task name: how services ask for work in a worker.

Services call ``send`` (or ``inventory_refresh_soon``) and never import
``customers.tasks``; the tasks call the services. So no module imports the
task module but Celery, and no import circle runs through the jobs.

``inventory_refresh_soon(store)``: call it after anything that changes which data a
store holds (ingestion, forget, retention expiry, restore). Calls for the same
store within ``INVENTORY_REFRESH_DELAY`` seconds collapse into one recount: the
first call (after its transaction commits) adds a key to the shared cache (Redis)
and queues the task with that countdown; later calls see the key and do nothing.
The task deletes the key *before* counting, so a change made while it counts asks
for one more recount instead of being lost. The key also expires on its own, so a
lost message delays the next recount by at most ``INVENTORY_REFRESH_DELAY`` +
``DEBOUNCE_SLACK`` seconds. The key's value is when its recount starts; a process
that has seen it skips Redis until shortly before then. The dashboard only reads
the snapshot.
"""

from __future__ import annotations

import contextlib
import logging
import time

from celery import current_app
from django.conf import settings
from django.db import transaction
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context
from kombu.exceptions import KombuError

from clerkgdpr import shared_redis
from stores.models import Store

log = logging.getLogger(__name__)

TASK_MODULE = "customers.tasks"
DEBOUNCE_SLACK = 120  # seconds the key outlives the countdown
PENDING_MARGIN = 2.0  # seconds: clock differences between hosts, a task started early


def send(task: str, *, args: list, store: Store | None = None, **options) -> None:
    """Queue ``customers.tasks.<task>``; with ``store``, sent from the store's schema so
    tenant-schemas-celery stamps the schema on the message. Broker errors propagate."""
    name = f"{TASK_MODULE}.{task}"
    if store is None:
        current_app.send_task(name, args=args, **options)
        return
    with tenant_context(store):
        current_app.send_task(name, args=args, **options)


def send_per_store(task: str) -> int:
    """Queue ``task(store_id)`` once per store on the maintenance queue, all at once;
    returns how many. Nightly work goes through ``send_spread`` instead."""
    sent, after = 0, 0
    while after is not None:
        after, count = spread_step(task, after_id=after, chunk=1000)
        sent += count
    return sent


# --- nightly work spread over a window ------------------------------------------------
#
# ``send_spread`` queues one small message (``spread_per_store``); each step queues the
# task for the next ``NIGHTLY_CHUNK`` stores (by id) and queues the following step with a
# countdown, so the stores are spread evenly over ``NIGHTLY_WINDOW_SECONDS``. A step
# finding more than ``NIGHTLY_MAX_QUEUED`` messages still waiting on the queue postpones
# itself instead (the workers are behind), so the backlog stays bounded whatever the
# store count. Countdowns stay under ``MAX_STEP_SECONDS``, far below the broker's
# visibility timeout (an ETA beyond it is delivered twice). Beat only sends the first
# message; a lost step leaves the rest for the next night (each task is idempotent).

MAX_STEP_SECONDS = 600.0


def _stores_after(after_id: int, chunk: int) -> list[tuple[int, str]]:
    stores = Store.objects.exclude(schema_name=get_public_schema_name()).filter(pk__gt=after_id)
    return list(stores.order_by("pk").values_list("pk", "schema_name")[:chunk])


def send_spread(task: str, *, window: float | None = None, chunk: int | None = None) -> float:
    """Start spreading ``task(store_id)`` over every store; returns the step interval."""
    window = settings.NIGHTLY_WINDOW_SECONDS if window is None else window
    chunk = chunk or settings.NIGHTLY_CHUNK
    count = Store.objects.exclude(schema_name=get_public_schema_name()).count()
    steps = max(1, -(-count // chunk))
    interval = min(MAX_STEP_SECONDS, window / steps)
    send("spread_per_store", args=[task, 0, chunk, interval], queue="maintenance")
    return interval


def spread_step(task: str, *, after_id: int, chunk: int) -> tuple[int | None, int]:
    """Queue ``task`` for the next ``chunk`` stores after ``after_id`` (one query, one
    message each, stamped with the store's schema); (last id, or None when done; sent)."""
    name = f"{TASK_MODULE}.{task}"
    rows = _stores_after(after_id, chunk)
    try:
        _send_chunk(name, rows, batched=True)
    except KombuError:
        # A failed pipeline may have delivered part of the chunk: all of it again, one
        # message at a time under Celery's publish retries (the tasks are idempotent).
        log.warning("nightly spread: batched send failed, sending one by one", exc_info=True)
        _send_chunk(name, rows, batched=False)
    return (rows[-1][0] if len(rows) == chunk else None), len(rows)


def _send_chunk(name: str, rows: list, *, batched: bool) -> None:
    """One message per (store id, schema) row, each stamped with its store's schema. One
    producer (one broker connection) for the chunk; ``batched``: its messages in one Redis
    pipeline (kombu's publish batch: one round trip and one client for the chunk instead of
    a Redis client made per message, most of a message's cost)."""
    with current_app.producer_or_acquire() as producer, _batch(producer, batched):
        for store_id, schema_name in rows:
            with schema_context(schema_name):
                current_app.send_task(name, args=[store_id], queue="maintenance", producer=producer)


def _batch(producer, batched: bool):
    """The producer's publish batch (kombu 5.7), or nothing to enter."""
    batch = getattr(producer, "batch", None) if batched else None
    return batch() if batch is not None else contextlib.nullcontext()


def queue_backlog(queue: str = "maintenance") -> int:
    """Messages waiting on ``queue`` (0 if the broker cannot say)."""
    try:
        with current_app.connection_for_read() as conn:
            return conn.default_channel.queue_declare(queue=queue, passive=True).message_count
    except Exception:
        log.warning("nightly spread: could not read the queue length", exc_info=True)
        return 0


# --- the inventory recount, debounced -------------------------------------------------


def inventory_refresh_soon(store: Store, *, delay: int | None = None) -> None:
    """Recount ``store``'s inventory in ``delay`` seconds, merging calls made in between.

    Safe to call inside a transaction (acts on commit) and from any schema;
    never raises for a Redis or broker outage (the hourly sweep catches up).
    """
    delay = settings.INVENTORY_REFRESH_DELAY if delay is None else delay
    store_id = store.pk
    transaction.on_commit(lambda: inventory_refresh_queue(store_id, delay))


# {store id: Unix time the pending recount starts}, per process: until shortly before
# then, a write is covered by that recount and need not ask Redis again (the hot path
# of tracking calls costs no Redis round trip for this).
_pending_until: dict[int, float] = {}


def _debounce_key(store_id: int) -> str:
    # Values are text (the start time); the key name changed with that from pickled floats.
    return f"inventory-refresh-due:{store_id}"


def inventory_refresh_queue(store_id: int, delay: int) -> bool:
    """Queue the recount unless one is pending; True if this call queued it."""
    now = time.time()
    if now < _pending_until.get(store_id, 0.0) - PENDING_MARGIN:
        return False
    try:
        first, starts = shared_redis.set_unless_present(
            _debounce_key(store_id), repr(now + delay), ttl=delay + DEBOUNCE_SLACK
        )
    except shared_redis.Error:
        log.warning("inventory refresh: Redis unavailable, queueing without debounce")
        first, starts = True, None
    try:
        _pending_until[store_id] = float(starts)
    except (TypeError, ValueError):
        _pending_until.pop(store_id, None)
    if not first:
        return False
    try:
        send("inventory_refresh", args=[store_id], countdown=delay)
    except Exception:  # broker down: the key expires and the sweep catches up
        log.warning("inventory refresh: could not queue store %s", store_id, exc_info=True)
        _pending_until.pop(store_id, None)
        return False
    return True


def inventory_refresh_started(store_id: int) -> None:
    """The recount starts: a change from now on asks for another one."""
    _pending_until.pop(store_id, None)
    try:
        shared_redis.delete(_debounce_key(store_id))
    except shared_redis.Error:
        log.warning("inventory refresh: Redis unavailable, pending key left to expire")
