"""Nightly per-store work spread over a window by a real worker: every store once, the
chunks no earlier than their step's time, and the scheduling itself one small message."""

from __future__ import annotations

import uuid

import pytest
from celery import current_app
from django.db import connection
from django.utils import timezone
from kombu.exceptions import BatchPublishError
from kombu.transport.redis import PublishBatch

from customers import jobs
from gdpr_dashboard.models import InventorySnapshot
from stores.models import Account, Store
from stores.services import store_create
from tests.conftest import wait_for


@pytest.fixture
def two_more_stores(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        account = Account.objects.get(slug="acme")
        tag = uuid.uuid4().hex[:6]
        stores = [store_create(account=account, slug=f"night-{tag}-{i}", name="N") for i in (0, 1)]
        yield stores
        connection.set_schema_to_public()
        for store in stores:
            store.delete(force_drop=True)


@pytest.mark.worker
def test_it_spreads_the_stores_over_the_window(
    two_more_stores, celery_worker_process, django_db_blocker
):
    with django_db_blocker.unblock():
        ids = list(
            Store.objects.exclude(schema_name="public").order_by("pk").values_list("pk", flat=True)
        )
        chunk = 2
        start = timezone.now()
        interval = jobs.send_spread("inventory_refresh", window=4.0, chunk=chunk)
        steps = -(-len(ids) // chunk)
        assert interval == pytest.approx(4.0 / steps)

        def refreshed():
            rows = dict(
                InventorySnapshot.objects.filter(
                    store_id__in=ids, refreshed_at__gte=start
                ).values_list("store_id", "refreshed_at")
            )
            return rows if len(rows) == len(ids) else None

        times = wait_for(refreshed, timeout=60)
    for position, store_id in enumerate(ids):
        step = position // chunk
        # A step's countdown starts when the previous step ran: never earlier than this.
        earliest = step * interval - 0.05
        assert (times[store_id] - start).total_seconds() >= earliest, (position, times)
    first, last = times[ids[0]], times[ids[-1]]
    assert (last - first).total_seconds() >= (steps - 1) * interval - 0.1


def test_a_step_sends_one_chunk_and_names_where_to_go_on(db, store, outlet, foreign_store):
    ids = sorted([store.pk, outlet.pk, foreign_store.pk])
    assert jobs._stores_after(0, 2) == [
        (pk, Store.objects.get(pk=pk).schema_name) for pk in ids[:2]
    ]
    assert jobs._stores_after(ids[1], 5) == [(ids[2], Store.objects.get(pk=ids[2]).schema_name)]
    assert jobs.queue_backlog("no-such-queue-here") == 0


def test_a_chunk_whose_batched_send_fails_is_sent_again_one_by_one(
    db, store, outlet, foreign_store, monkeypatch
):
    """The chunk goes to Redis in one pipeline; when that fails (delivery uncertain), every
    message of the chunk is sent again on its own, under Celery's publish retries."""
    flush = PublishBatch.flush
    failures = []

    def failing_once(batch):
        if not failures:
            failures.append(batch)
            batch.discard()
            raise BatchPublishError("Redis publish batch failed; delivery is uncertain")
        return flush(batch)

    sent = []
    send_task = current_app.send_task

    def counted(name, *args, **kwargs):
        sent.append(kwargs["args"][0])
        return send_task(name, *args, **kwargs)

    monkeypatch.setattr(PublishBatch, "flush", failing_once)
    monkeypatch.setattr(current_app, "send_task", counted)
    try:
        jobs.spread_step("retention_expire_store", after_id=0, chunk=3)
    finally:  # no worker of another test gets them
        with current_app.connection_for_write() as conn:
            conn.default_channel.queue_purge("maintenance")
    ids = sorted([store.pk, outlet.pk, foreign_store.pk])
    assert failures  # the batch was tried, and failed
    assert sent == ids + ids  # in the batch, then each again on its own
