"""A real Chromium, on a phone (390 px) and a desktop (1280 px): every page of the console
is reached by clicking from the home page, and no page is wider than the screen.

Once more in German (Accept-Language), where words are longer."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django_tenants.utils import tenant_context

from tests.conftest import browser_login
from tests.factories import ClickFactory, CustomerFactory, OrderFactory, VisitorFactory

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# Links a crawl must not follow: they change state, leave the console or download a file.
SKIP = ("/logout", "/admin", "/api/", "/v2/", "/language/", "/static/", "/download/")
MAX_PAGES = 60


@pytest.fixture
def shopper(committed_store):
    with tenant_context(committed_store):
        customer = CustomerFactory(
            customer_ref="C-NAV-1", email="nav.shopper@example.com", name="Käthe Müller"
        )
        visitor = VisitorFactory(visitor_ref="vis-nav-1", customer=customer)
        for i in range(3):
            ClickFactory(visitor=visitor, product_ref=f"nav-prod-{i}")
        OrderFactory(order_ref="O-NAV-1", customer=customer, visitor=visitor)
    return customer


def _overflow(page) -> int:
    """How many CSS pixels the page is wider than the window (0: it fits)."""
    return page.evaluate(
        "() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth)"
    )


def _open_menus(page) -> None:
    """Open the header's menus as a person would, so their links count as visible."""
    for summary in page.locator("header details > summary").all():
        if summary.is_visible():
            summary.click()


def _visible_links(page, base: str) -> set[str]:
    hrefs = set()
    for link in page.locator("a[href]").all():
        href = link.get_attribute("href") or ""
        path = urlsplit(href).path
        if not href.startswith("/") or any(path.startswith(s) or s in path for s in SKIP):
            continue
        if link.get_attribute("download") is not None or not link.is_visible():
            continue
        hrefs.add(urlsplit(href)._replace(fragment="").geturl())
    return hrefs


def crawl(page, base: str) -> dict[str, int]:
    """Every page reachable through visible links from the home page: {path: overflow px}."""
    seen: dict[str, int] = {}
    queue = ["/"]
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        response = page.goto(base + path)
        assert response.status < 400, f"{path} answered {response.status}"
        seen[path] = _overflow(page)
        _open_menus(page)
        seen[path] = max(seen[path], _overflow(page))  # open menus must fit too
        queue += sorted(_visible_links(page, base) - set(seen))
    return seen


def expected_pages(store_slug: str, account_slug: str) -> set[str]:
    s = f"/s/{store_slug}"
    return {
        "/",
        f"{s}/",
        f"{s}/customers/",
        f"{s}/customer/C-NAV-1/",
        f"{s}/visitor/vis-nav-1/",
        f"{s}/customer/C-NAV-1/forget/",
        f"{s}/requests/",
        f"{s}/suppressions/",
        f"{s}/settings/",
        f"{s}/settings/retention/",
        f"{s}/api-keys/",
        f"/a/{account_slug}/gdpr/",
        f"/a/{account_slug}/gdpr/dpa/",
        f"/a/{account_slug}/gdpr/print/",
        "/trust/",
    }


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_page_is_reachable_by_clicking_and_fits_the_screen(
    browser, live_console, committed_store, committed_user, shopper, viewport
):
    owner = committed_user(committed_store.account, "owner")
    context = browser.new_context(viewport=viewport, locale="en-GB")
    page = context.new_page()
    try:
        browser_login(page, live_console, owner)
        # By clicking, as a person does: the store tile, then each entry of the store menu.
        page.get_by_role("link", name=committed_store.name).first.click()
        page.wait_for_url(f"{live_console}/s/{committed_store.slug}/")
        nav = page.locator("nav.subnav")
        for label in ("Customers", "Requests", "Suppressions", "Settings", "Retention"):
            nav.get_by_role("link", name=label, exact=True).click()
            assert nav.locator("[aria-current=page]").inner_text() == label
            assert _overflow(page) == 0, label
        nav.get_by_role("link", name="API keys").click()
        page.wait_for_url(f"{live_console}/s/{committed_store.slug}/api-keys/")

        # The header search: full width on a phone, results under it.
        search = page.locator("header input[name=q]")
        box = search.bounding_box()
        assert box["width"] >= (viewport["width"] - 40 if viewport is PHONE else 300)
        search.fill("muller")
        page.locator("#search-live a", has_text="nav.shopper@example.com").wait_for()
        assert _overflow(page) == 0
        search.press("Enter")
        page.wait_for_url(f"{live_console}/search?q=muller")
        assert page.locator("nav.subnav").is_visible()  # the store stays in context

        seen = crawl(page, live_console)
        # The search page was reached above through the header's search form.
        missing = expected_pages(committed_store.slug, committed_store.account.slug) - {
            urlsplit(p).path for p in seen
        }
        assert not missing, f"not reachable by clicking: {sorted(missing)}"
        too_wide = {p: px for p, px in seen.items() if px > 0}
        assert not too_wide, f"wider than {viewport['width']} px: {too_wide}"
    finally:
        context.close()


def test_it_reads_in_german_on_a_phone(browser, live_console, committed_store, committed_user):
    owner = committed_user(committed_store.account, "owner")
    context = browser.new_context(viewport=PHONE, locale="de-DE")
    page = context.new_page()
    try:
        browser_login(page, live_console, owner)
        assert page.locator("html").get_attribute("lang") == "de"
        assert page.locator("h1").inner_text() == "Ihre Shops"
        page.get_by_role("link", name=committed_store.name).first.click()
        nav = page.locator("nav.subnav")
        assert nav.get_by_role("link", name="Übersicht").is_visible()
        seen = crawl(page, live_console)
        assert len(seen) > 10
        too_wide = {p: px for p, px in seen.items() if px > 0}
        assert not too_wide, f"wider than 390 px in German: {too_wide}"

        # Danish from the menu's language buttons, remembered for the user.
        page.goto(f"{live_console}/s/{committed_store.slug}/")
        page.click("header .menu > summary")
        page.get_by_role("button", name="Dansk").click()
        page.locator("nav.subnav").get_by_role("link", name="Overblik").wait_for()
        assert page.url == f"{live_console}/s/{committed_store.slug}/"
        owner.refresh_from_db()
        assert owner.language == "da"
    finally:
        context.close()


def test_the_404_page_is_the_products_and_keeps_the_store(
    page, live_console, committed_store, committed_user
):
    analyst = committed_user(committed_store.account, "analyst")
    browser_login(page, live_console, analyst)
    page.goto(f"{live_console}/s/{committed_store.slug}/")
    response = page.goto(f"{live_console}/s/{committed_store.slug}/requests/999999/")
    assert response.status == 404
    assert page.locator("#not-found h1").inner_text() == "Not found"
    assert page.locator("nav.subnav").get_by_role("link", name="Overview").is_visible()
    response = page.goto(f"{live_console}/s/{committed_store.slug}/settings/")
    assert response.status == 403
    assert page.locator("#not-allowed").is_visible()
    assert not page.locator("nav.subnav").get_by_role("link", name="Settings").count()
