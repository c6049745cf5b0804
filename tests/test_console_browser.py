"""A real Chromium: log in, search by e-mail, open the profile, page through clicks,
open a visitor, download the JSON."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from tests.conftest import browser_login
from tests.factories import ClickFactory, CustomerFactory, OrderFactory, VisitorFactory

pytestmark = pytest.mark.browser


def test_it_finds_a_shopper_and_everything_about_them(
    page, live_console, committed_store, committed_user, tmp_path
):
    analyst = committed_user(committed_store.account, "analyst")
    now = timezone.now()
    with tenant_context(committed_store):
        customer = CustomerFactory(
            customer_ref="C-BROWSER", email="Browser.Shopper+1@example.com", name="Bea Browser"
        )
        visitor = VisitorFactory(visitor_ref="vis-browser-1", customer=customer)
        for i in range(30):
            ClickFactory(
                visitor=visitor, product_ref=f"prod-{i:02d}", occurred_at=now - timedelta(minutes=i)
            )
        OrderFactory(order_ref="O-BROWSER", customer=customer, visitor=visitor)

    browser_login(page, live_console, analyst)
    page.goto(f"{live_console}/s/{committed_store.slug}/")

    # Live search under the field in the header.
    page.fill("header input[name=q]", "browser.shopper+1@")
    hit = page.locator("#search-live a", has_text="Browser.Shopper+1@example.com")
    hit.wait_for()
    assert committed_store.name in page.locator("#search-live").inner_text()
    hit.click()
    page.wait_for_url(f"{live_console}/s/{committed_store.slug}/customer/C-BROWSER/")
    assert page.locator("h1").inner_text() == "Bea Browser"
    clicks = page.locator("#section-clicks")
    assert "prod-00" in clicks.inner_text() and "prod-25" not in clicks.inner_text()

    # Older clicks swap in place: same page, no navigation.
    clicks.get_by_role("link", name="Older ›").click()
    page.locator("#section-clicks", has_text="prod-25").wait_for()
    assert "prod-00" not in page.locator("#section-clicks").inner_text()
    assert page.url == f"{live_console}/s/{committed_store.slug}/customer/C-BROWSER/"
    assert page.locator("h1").inner_text() == "Bea Browser"

    # Download all data.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download all data").click()
    path = tmp_path / "export.json"
    download_info.value.save_as(path)
    document = json.loads(path.read_text())
    assert document["customer"]["customer_id"] == "C-BROWSER"
    assert len(document["clicks"]) == 30
    assert document["orders"][0]["order_id"] == "O-BROWSER"

    # The visitor.
    page.locator("#section-visitors").get_by_role("link", name="vis-browser-1").click()
    page.wait_for_url(f"{live_console}/s/{committed_store.slug}/visitor/vis-browser-1/")
    assert "Visitor vis-browser-1" in page.locator("h1").inner_text()
    assert "Bea Browser" in page.locator("main").inner_text()


def test_it_works_without_javascript(browser, live_console, committed_store, committed_user):
    analyst = committed_user(committed_store.account, "analyst")
    with tenant_context(committed_store):
        customer = CustomerFactory(customer_ref="C-NOJS", email="nojs@example.com")
        visitor = VisitorFactory(customer=customer)
        for i in range(25):
            ClickFactory(visitor=visitor, product_ref=f"nojs-{i:02d}")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        browser_login(page, live_console, analyst)
        page.fill("header input[name=q]", "nojs@example.com")
        page.press("header input[name=q]", "Enter")
        page.wait_for_url(f"{live_console}/search?q=nojs%40example.com")
        page.click("main >> text=nojs@example.com")
        page.wait_for_url(f"{live_console}/s/{committed_store.slug}/customer/C-NOJS/")
        page.locator("#section-clicks").get_by_role("link", name="Older ›").click()
        page.wait_for_url("**clicks_page=2**")
        assert "nojs-" in page.locator("#section-clicks").inner_text()
    finally:
        context.close()
