"""Forget in a real Chromium: confirm, watch the status page finish, see the forgotten notice.

The second test clicks Forget while the broker (a Redis this test starts
itself) is down: the request waits in the ledger, and once Redis is back the
sweeper (run by a real beat) queues it and a real worker completes it.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from clerkgdpr.processes import start_celery
from gdpr_dashboard.models import PrivacyRequest
from tests.conftest import BASE_DIR, browser_login, database_url
from tests.faults import OwnRedis
from tests.forget_helpers import find_anywhere, make_person, stop

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def _confirm_url(base, store, kind, value):
    return f"{base}/s/{store.slug}/{kind}/{value}/forget/"


def test_it_finds_a_person_forgets_them_and_the_profile_says_so(
    page, live_console, committed_store, committed_user, celery_worker_process
):
    admin = committed_user(committed_store.account, "admin")
    with tenant_context(committed_store):
        jane = make_person("jane")
    browser_login(page, live_console, admin)
    page.goto(f"{live_console}/s/{committed_store.slug}/")
    page.fill("header input[name=q]", "jane.person@")
    hit = page.locator("#search-live a", has_text="jane.person@example.com")
    hit.wait_for()
    hit.click()
    profile_url = f"{live_console}/s/{committed_store.slug}/customer/{jane.customer_ref}/"
    page.wait_for_url(profile_url)

    page.locator("#forget").get_by_role("link", name="Forget Customer").click()
    page.wait_for_url(re.compile(r"/forget/$"))
    assert "2 visitor ids" in page.inner_text("#forget-deleted")
    assert "4 orders" in page.inner_text("#forget-kept")
    page.click("button:has-text('Forget Customer')")
    page.wait_for_url(re.compile(r"/requests/\d+/$"))
    page.wait_for_selector("#request-status[data-status=done]", timeout=30_000)
    assert "The person was forgotten" in page.inner_text("#request-status")
    assert "remains in backups" in page.inner_text("#request-status")

    page.goto(profile_url)
    assert "This person was forgotten on" in page.locator("h1").inner_text()


@pytest.fixture
def private_redis(tmp_path, monkeypatch):
    """Our own Redis; every process started after this fixture uses it (and a fast sweeper)."""
    redis = OwnRedis(tmp_path)
    monkeypatch.setenv("REDIS_URL", redis.url)
    monkeypatch.setenv("FORGET_STUCK_AFTER_SECONDS", "1")
    monkeypatch.setenv("FORGET_SWEEP_INTERVAL_SECONDS", "1")
    yield redis
    redis.stop()


def test_a_forget_clicked_while_redis_is_down_completes_once_it_is_back(
    private_redis,
    tmp_path,
    page,
    live_console,
    committed_store,
    committed_user,
    celery_worker_process,
):
    import os

    owner = committed_user(committed_store.account, "owner")
    with tenant_context(committed_store):
        jane = make_person("jane")
    env = {**os.environ, "DATABASE_URL": database_url()}
    beat = start_celery(
        ["beat", "-s", str(tmp_path / "beat-schedule"), "-l", "INFO"],
        env=env,
        log_path=tmp_path / "beat.log",
        ready="Starting",
    )
    try:
        browser_login(page, live_console, owner)
        page.goto(_confirm_url(live_console, committed_store, "customer", jane.email))
        assert "2 visitor ids" in page.inner_text("#forget-deleted")
        private_redis.stop()
        page.click("button:has-text('Forget Customer')")
        page.wait_for_url(re.compile(r"/requests/\d+/$"))
        request_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
        connection.set_schema_to_public()
        assert PrivacyRequest.objects.get(pk=request_id).status == "received"
        assert "Received" in page.inner_text("#request-status")

        private_redis.start()
        try:
            page.wait_for_selector("#request-status[data-status=done]", timeout=90_000)
        except Exception:
            worker_log = next((BASE_DIR / "var").glob(f"test-worker-{os.getpid()}.log"))
            pytest.fail(
                f"not done; ledger: {PrivacyRequest.objects.filter(pk=request_id).values()}\n"
                f"beat:\n{(tmp_path / 'beat.log').read_text()[-2000:]}\n"
                f"worker:\n{worker_log.read_text()[-4000:]}"
            )
        assert "The person was forgotten" in page.inner_text("#request-status")
    finally:
        stop(beat)
    request = PrivacyRequest.objects.get(pk=request_id)
    assert request.status == "done" and request.counts["visitors"] == 2
    assert PrivacyRequest.objects.filter(store=committed_store).count() == 1
    with tenant_context(committed_store):
        assert find_anywhere(committed_store.schema_name, jane.identifiers) == []
    page.goto(_confirm_url(live_console, committed_store, "customer", jane.email))
    assert "This person was forgotten on" in page.inner_text("#forgotten-notice")
