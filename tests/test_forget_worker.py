"""The forget pipeline with real processes: a Celery worker, the sweeper, the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import psycopg
import pytest
from django.db import connection, connections
from django_tenants.utils import tenant_context

from clerkgdpr.processes import start_celery, worker_args
from customers.locks import LOCK_FORGET
from customers.privacy.forget import forget_execute
from customers.privacy.forget_requests import (
    forget_request_create,
    forget_requests_sweep,
)
from gdpr_dashboard.models import PrivacyRequest, Suppression
from stores.models import AuditEvent
from tests.conftest import BASE_DIR, database_url, wait_for
from tests.forget_helpers import (
    find_anywhere,
    kill_tree,
    make_person,
    order_totals,
    stop,
)

pytestmark = pytest.mark.worker

FULL_COUNTS = {
    "customers": 1,
    "visitors": 2,
    "page_views": 6,
    "content_views": 6,
    "clicks": 6,
    "orders_anonymised": 4,
    "baskets": 0,
    "subscribers": 0,
    "shared_devices": 0,
}


def _status(request_id: int) -> str:
    connection.set_schema_to_public()
    return PrivacyRequest.objects.get(pk=request_id).status


def test_it_forgets_end_to_end_through_a_real_worker(committed_store, celery_worker_process):
    with tenant_context(committed_store):
        jane = make_person("jane")
        totals = order_totals()
    request = forget_request_create(store=committed_store, kind="email", value=jane.email, via="ui")
    wait_for(lambda: _status(request.pk) == "done")
    request.refresh_from_db()
    assert request.counts == FULL_COUNTS
    assert request.queued_at and request.started_at and request.done_at
    with tenant_context(committed_store):
        assert find_anywhere(committed_store.schema_name, jane.identifiers) == []
        assert order_totals() == totals


def test_the_cli_waits_for_the_counts(committed_store, celery_worker_process):
    with tenant_context(committed_store):
        jane = make_person("jane")
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "forget",
            committed_store.slug,
            "--customer",
            jane.customer_ref,
            "--wait",
            "--timeout",
            "60",
        ],
        cwd=BASE_DIR,
        env={**os.environ, "DATABASE_URL": database_url()},
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    request_line, done_line = result.stdout.strip().splitlines()
    request = PrivacyRequest.objects.get(pk=int(request_line.removeprefix("request ")))
    assert request.via == "cli" and request.status == "done"
    assert done_line == (
        "done: customers 1, visitors 2, page views 6, content views 6, clicks 6, "
        "orders anonymised 4, baskets 0, subscribers 0, shared devices 0"
    )
    assert jane.customer_ref not in result.stdout + result.stderr


def test_two_concurrent_runs_end_in_one_consistent_state(committed_store):
    with tenant_context(committed_store):
        jane = make_person("jane")
        totals = order_totals()
    connection.set_schema_to_public()
    same = forget_request_create(store=committed_store, kind="email", value=jane.email, via="ui")
    other = forget_request_create(
        store=committed_store, kind="customer", value=jane.customer_ref, via="api"
    )
    results, errors = [], []
    barrier = threading.Barrier(3)

    def run(request):
        try:
            barrier.wait()
            results.append((request.pk, forget_execute(request=request)))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(r,)) for r in (same, same, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    # Everything was deleted exactly once: the deleted counts add up to the subject's rows.
    by_request = dict(results)
    assert by_request[same.pk] == PrivacyRequest.objects.get(pk=same.pk).counts
    assert {k: by_request[same.pk][k] + by_request[other.pk][k] for k in FULL_COUNTS} == (
        FULL_COUNTS
    )
    assert [c for pk, c in results if pk == same.pk][0] == [
        c for pk, c in results if pk == same.pk
    ][1]
    assert set(
        PrivacyRequest.objects.filter(pk__in=[same.pk, other.pk]).values_list("status", flat=True)
    ) == {"done"}
    assert AuditEvent.objects.filter(action="forget.done", store=committed_store).count() == 2
    assert Suppression.objects.filter(store=committed_store).count() == 4
    with tenant_context(committed_store):
        assert find_anywhere(committed_store.schema_name, jane.identifiers) == []
        assert order_totals() == totals


def test_a_worker_killed_mid_job_loses_nothing(committed_store, tmp_path):
    """SIGKILL the worker while the job waits inside its transaction; the sweeper and a new
    worker complete it, and the effect happens exactly once."""
    with tenant_context(committed_store):
        jane = make_person("jane")
        totals = order_totals()
    connection.set_schema_to_public()
    env = {**os.environ, "DATABASE_URL": database_url()}
    # Hold the store's forget lock from outside, so the job stops inside its transaction.
    blocker = psycopg.connect(database_url(), autocommit=True)
    blocker.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_FORGET, committed_store.pk])
    first = start_celery(worker_args(), env=env, log_path=tmp_path / "worker1.log")
    second = None
    try:
        request = forget_request_create(
            store=committed_store, kind="email", value=jane.email, via="ui"
        )
        wait_for(lambda: _status(request.pk) == "running")
        time.sleep(0.5)  # the job is now blocked on the lock, its ledger row locked
        kill_tree(first, signal.SIGKILL)
        blocker.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_FORGET, committed_store.pk])
        assert _status(request.pk) == "running"
        with tenant_context(committed_store):
            assert order_totals() == totals  # the killed transaction changed nothing

        second = start_celery(worker_args(), env=env, log_path=tmp_path / "worker2.log")
        # The killed backend lets go of its row lock once it notices; then the sweep re-queues.
        wait_for(lambda: forget_requests_sweep(stuck_after=timedelta(0)) == 1, timeout=30)
        wait_for(lambda: _status(request.pk) == "done", timeout=30)
    finally:
        blocker.close()
        kill_tree(first)
        if second is not None:
            stop(second)
    request.refresh_from_db()
    assert request.counts == FULL_COUNTS
    assert request.attempts == 2
    assert AuditEvent.objects.filter(action="forget.done", detail__request=request.pk).count() == 1
    assert Suppression.objects.filter(store=committed_store).count() == 4
    with tenant_context(committed_store):
        assert find_anywhere(committed_store.schema_name, jane.identifiers) == []
        assert order_totals() == totals


def test_the_sweeper_skips_a_job_that_is_alive_and_a_second_sweep_waits(committed_store):
    request = forget_request_create(store=committed_store, kind="visitor", value="v-1", via="ui")
    PrivacyRequest.objects.filter(pk=request.pk).update(status="running")
    holder = psycopg.connect(database_url())
    try:
        holder.execute(
            "SELECT 1 FROM gdpr_dashboard_privacyrequest WHERE id = %s FOR UPDATE", [request.pk]
        )
        assert forget_requests_sweep(stuck_after=timedelta(0)) == 0  # locked: alive
        holder.rollback()
        holder.execute("SELECT pg_advisory_lock(%s)", [0x46_47_53_57])  # another beat sweeping
        assert forget_requests_sweep(stuck_after=timedelta(0)) == 0
    finally:
        holder.close()


def test_a_bulk_request_completes_through_a_real_worker(committed_store, celery_worker_process):
    from customers.privacy.forget_requests import forget_requests_create_bulk

    with tenant_context(committed_store):
        people = [make_person(f"p{i}", events_per_visitor=1, visitors=1) for i in range(20)]
    requests = forget_requests_create_bulk(
        store=committed_store, subjects=[("customer", p.customer_ref) for p in people], via="api"
    )
    ids = [r.pk for r in requests]
    wait_for(lambda: PrivacyRequest.objects.filter(pk__in=ids, status="done").count() == 20)
    assert all(r.counts["customers"] == 1 for r in PrivacyRequest.objects.filter(pk__in=ids))
    with tenant_context(committed_store):
        assert find_anywhere(committed_store.schema_name, people[7].identifiers) == []
