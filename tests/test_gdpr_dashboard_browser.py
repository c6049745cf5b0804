"""A real Chromium opens the GDPR dashboard and sees the green highlights and checks."""

import pytest
from django_tenants.utils import tenant_context

from customers.inventory import inventory_refresh
from tests.conftest import browser_login
from tests.factories import ClickFactory, CustomerFactory, VisitorFactory

pytestmark = pytest.mark.browser

OK_BG = "rgb(231, 246, 239)"  # --ok-bg in app.css


def test_it_shows_green_subprocessors_and_checks(
    page, live_console, committed_store, committed_user
):
    owner = committed_user(committed_store.account, "owner")
    with tenant_context(committed_store):
        customer = CustomerFactory(attributes={"city": "Lund"})
        ClickFactory(visitor=VisitorFactory(customer=customer))
    inventory_refresh(store=committed_store)

    browser_login(page, live_console, owner)
    slug = committed_store.account.slug
    dashboard = f"{live_console}/a/{slug}/gdpr/"
    # From the account menu: "<ACCOUNT NAME> › GDPR".
    page.click(".account-menu details > summary")
    page.click(f'.account-menu a[href="/a/{slug}/gdpr/"]')
    page.wait_for_url(dashboard)
    assert page.locator("h1").inner_text() == "GDPR dashboard"

    # The store uses Search: the search/ML compute provider is highlighted, the chat one is not.
    scaleway = page.locator('tr[data-subprocessor="Scaleway GPU compute"]')
    reasons = scaleway.locator("ul.reasons").inner_text()
    assert "used by Search in" in reasons and "Live store" in reasons
    cell = scaleway.locator("td").first
    assert cell.evaluate("el => getComputedStyle(el).backgroundColor") == OK_BG
    mistral = page.locator('tr[data-subprocessor="Mistral AI"] td').first
    assert mistral.evaluate("el => getComputedStyle(el).backgroundColor") != OK_BG

    store_block = page.locator(f'article[data-store="{committed_store.slug}"]')
    for code in ["browsing", "preferences", "email", "crm"]:
        item = store_block.locator(f'li[data-type="{code}"]')
        assert item.locator(".mark").inner_text() == "✓", code
        assert item.evaluate("el => getComputedStyle(el).backgroundColor") == OK_BG
    orders = store_block.locator('li[data-type="orders"]')
    assert orders.locator(".mark").inner_text() == "–"  # no orders yet: no check

    # And from the search at the top: "GDPR" offers the dashboard first.
    page.goto(f"{live_console}/")
    page.fill("input[name=q]", "GDPR")
    page.press("input[name=q]", "Enter")
    page.wait_for_url(f"{live_console}/search?q=GDPR")
    page.click(f'main a[href="/a/{slug}/gdpr/"]')
    page.wait_for_url(dashboard)
    assert page.locator('tr[data-subprocessor="Scaleway GPU compute"].used').count() == 1

    page.click("text=Printable view")
    page.wait_for_url(f"{dashboard}print/")
    assert page.locator('tr[data-subprocessor="Scaleway GPU compute"]').count() == 1
