"""A real Chromium logs in and reaches its store (pattern for every browser test)."""

import pytest
from django_tenants.utils import tenant_context

from tests.conftest import browser_login
from tests.factories import CustomerFactory

pytestmark = pytest.mark.browser


def test_it_logs_in_and_opens_the_store(page, live_console, committed_store, committed_user):
    owner = committed_user(committed_store.account, "owner")
    with tenant_context(committed_store):
        CustomerFactory()
    browser_login(page, live_console, owner)
    page.click(f"main >> text={committed_store.name}")
    page.wait_for_url(f"{live_console}/s/{committed_store.slug}/")
    assert page.locator("h1").inner_text() == committed_store.name
