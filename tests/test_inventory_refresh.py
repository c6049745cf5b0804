"""The inventory behind the dashboard's checks: debounced recount through Celery."""

from __future__ import annotations

from unittest import mock

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from customers import jobs, tasks
from gdpr_dashboard.models import InventorySnapshot
from tests.conftest import wait_for
from tests.factories import CustomerFactory


@pytest.fixture
def no_pending(store):
    jobs.inventory_refresh_started(store.pk)
    yield
    jobs.inventory_refresh_started(store.pk)


def test_it_merges_refresh_requests_into_one_task(
    store, no_pending, django_capture_on_commit_callbacks
):
    with mock.patch.object(jobs, "send") as send:
        with django_capture_on_commit_callbacks(execute=True):
            for _ in range(3):
                jobs.inventory_refresh_soon(store)
        send.assert_called_once_with(
            "inventory_refresh", args=[store.pk], countdown=settings.INVENTORY_REFRESH_DELAY
        )


def test_it_asks_again_once_the_recount_has_started(
    store, no_pending, django_capture_on_commit_callbacks
):
    with mock.patch.object(jobs, "send") as send:
        with django_capture_on_commit_callbacks(execute=True):
            jobs.inventory_refresh_soon(store)
        tasks.inventory_refresh.run(store.pk)  # the task itself, as the worker runs it
        connection.set_schema_to_public()
        with django_capture_on_commit_callbacks(execute=True):
            jobs.inventory_refresh_soon(store)
        assert send.call_count == 2
    assert InventorySnapshot.objects.filter(store=store).exists()


def test_a_process_that_knows_a_recount_is_pending_skips_redis_until_then(
    store, no_pending, django_capture_on_commit_callbacks, settings, caplog, request
):
    with mock.patch.object(jobs, "send") as send:
        with django_capture_on_commit_callbacks(execute=True):
            jobs.inventory_refresh_soon(store)
        # Redis gone: a call inside the pending window does not even try it.
        request.getfixturevalue("shared_cache_down")
        with django_capture_on_commit_callbacks(execute=True):
            jobs.inventory_refresh_soon(store)
        assert "Redis unavailable" not in caplog.text
        send.assert_called_once()
        # Once the window has passed the call asks Redis again (and, it being down,
        # queues a recount without debounce rather than none).
        later = jobs.time.time() + settings.INVENTORY_REFRESH_DELAY
        with (
            mock.patch.object(jobs.time, "time", return_value=later),
            django_capture_on_commit_callbacks(execute=True),
        ):
            jobs.inventory_refresh_soon(store)
        assert "Redis unavailable" in caplog.text
        assert send.call_count == 2


def test_it_queues_nothing_when_the_transaction_rolls_back(store, no_pending):
    with mock.patch.object(jobs, "send") as send:
        jobs.inventory_refresh_soon(store)  # inside the test's transaction, never committed
        send.assert_not_called()


def test_it_does_not_fail_the_caller_when_redis_is_down(
    store, no_pending, django_capture_on_commit_callbacks, shared_cache_down
):
    with mock.patch.object(jobs, "send") as send:
        with django_capture_on_commit_callbacks(execute=True):
            jobs.inventory_refresh_soon(store)
        send.assert_called_once()  # no debounce, but the recount still happens


@pytest.mark.worker
def test_it_recounts_on_a_real_worker(committed_store, celery_worker_process):
    with tenant_context(committed_store):
        CustomerFactory(email="kim@example.com", attributes={"city": "Lund"})
    jobs.inventory_refresh_started(committed_store.pk)
    jobs.inventory_refresh_soon(committed_store, delay=0)  # not in a transaction: sent now

    def counted():
        snap = InventorySnapshot.objects.filter(store=committed_store).first()
        return snap and snap.counts.get("customers_with_crm") == 1

    wait_for(counted, timeout=30)
    snap = InventorySnapshot.objects.get(store=committed_store)
    assert snap.counts["customers_with_email"] == 1


@pytest.fixture
def quick_refresh(monkeypatch):
    """Workers started after this fixture recount 1 s after a change (not 30 s)."""
    monkeypatch.setenv("INVENTORY_REFRESH_DELAY", "1")


@pytest.mark.worker
def test_it_drops_the_crm_check_once_the_last_crm_customer_is_forgotten(
    quick_refresh, committed_store, celery_worker_process, committed_user, client
):
    from customers.inventory import inventory_refresh
    from customers.privacy.forget_requests import forget_request_create
    from tests.factories import VisitorFactory

    with tenant_context(committed_store):
        kim = CustomerFactory(email="kim@example.com", attributes={"city": "Lund"})
        VisitorFactory(customer=kim)
        CustomerFactory(email="lee@example.com")  # no CRM fields: the e-mail check stays
    inventory_refresh(store=committed_store)
    owner = committed_user(committed_store.account, "owner")
    client.force_login(owner)

    def crm_state() -> str:
        html = client.get(f"/a/{committed_store.account.slug}/gdpr/").content.decode()
        block = html.split(f'data-store="{committed_store.slug}"', 1)[1]
        return block.split('data-type="crm"', 1)[0].rsplit('class="datatype ', 1)[1].split('"')[0]

    assert crm_state() == "on"
    jobs.inventory_refresh_started(committed_store.pk)
    # The worker forgets, then (on the forget's commit) asks for a recount in 1 s.
    forget_request_create(store=committed_store, kind="email", value=kim.email, via="ui")
    wait_for(lambda: crm_state() == "off", timeout=40)
    snap = InventorySnapshot.objects.get(store=committed_store)
    assert snap.counts["customers_with_crm"] == 0
    assert snap.counts["customers_with_email"] == 1


def test_it_asks_for_a_recount_after_ingestion(
    store, no_pending, django_capture_on_commit_callbacks
):
    from pydantic import TypeAdapter

    from customers.ingest.events import events_ingest
    from customers.ingest.schemas import Event

    batch = TypeAdapter(list[Event]).validate_python(
        [{"kind": "page", "visitor": "v-refresh", "url": "/a", "time": 1_770_000_000}]
    )
    with mock.patch.object(jobs, "send") as send:
        with django_capture_on_commit_callbacks(execute=True):
            events_ingest(store=store, events=batch)
            events_ingest(store=store, events=batch)  # merged with the first
        send.assert_called_once_with(
            "inventory_refresh", args=[store.pk], countdown=settings.INVENTORY_REFRESH_DELAY
        )
