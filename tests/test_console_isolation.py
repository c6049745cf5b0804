"""Every console URL: anonymous → login, another account → 404, viewer → 403, analyst → 200."""

import pytest
from django.db import connection

from tests.conftest import login
from tests.factories import CustomerFactory, VisitorFactory

STORE_PAGES = [
    "/s/acme-main/customers/",
    "/s/acme-main/customer/C-ISO/",
    "/s/acme-main/customer/iso@example.com/",
    "/s/acme-main/customer/C-ISO/download/",
    "/s/acme-main/visitor/vis-iso/",
    "/s/acme-main/visitor/vis-iso/download/",
]
ALL_PAGES = [*STORE_PAGES, "/search?q=iso", "/store/customer/C-ISO", "/store/visitor/vis-iso"]


@pytest.fixture
def subject(store):
    connection.set_tenant(store)
    customer = CustomerFactory(customer_ref="C-ISO", email="iso@example.com", name="Iso Person")
    VisitorFactory(visitor_ref="vis-iso", customer=customer)
    connection.set_schema_to_public()
    return customer


@pytest.mark.parametrize("url", ALL_PAGES)
def test_it_sends_anonymous_users_to_login(client, subject, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("url", STORE_PAGES)
def test_it_gives_another_accounts_user_404(client, charlie, subject, url):
    response = login(client, charlie).get(url)
    assert response.status_code == 404
    assert b"Iso Person" not in response.content and b"Acme" not in response.content


@pytest.mark.parametrize("url", ["/store/customer/C-ISO", "/store/visitor/vis-iso"])
def test_it_opens_store_addresses_only_in_the_users_own_stores(client, charlie, subject, url):
    login(client, charlie)
    response = client.get(url, follow=True)
    assert response.redirect_chain[0][0].startswith("/s/globex-shop/")
    assert response.status_code == 404
    assert b"Iso Person" not in response.content


def test_it_shows_another_account_no_search_hits(client, charlie, subject):
    response = login(client, charlie).get("/search", {"q": "iso"})
    assert response.status_code == 200
    assert b"Iso Person" not in response.content and b"C-ISO" not in response.content


@pytest.mark.parametrize("url", STORE_PAGES)
def test_it_refuses_personal_data_to_a_viewer(client, vera, subject, url):
    response = login(client, vera).get(url)
    assert response.status_code == 403
    assert b"Iso Person" not in response.content


@pytest.mark.parametrize("url", STORE_PAGES)
def test_it_gives_404_to_an_admin_limited_to_another_store(client, adam, subject, url):
    assert login(client, adam).get(url).status_code == 404


@pytest.mark.parametrize("url", STORE_PAGES)
def test_it_lets_analysts_and_owners_read(client, bob, alice, subject, url):
    assert login(client, bob).get(url).status_code == 200
    assert login(client, alice).get(url).status_code == 200


@pytest.mark.parametrize("url", STORE_PAGES)
def test_it_refuses_platform_staff_without_a_grant(client, sam, subject, url):
    assert login(client, sam).get(url).status_code == 404


def test_it_shows_the_switcher_with_only_permitted_stores(client, adam, subject):
    html = login(client, adam).get("/search").content.decode()
    assert "Acme Outlet" in html and "Acme Main" not in html and "Globex" not in html
    assert 'href="/a/acme/gdpr/"' in html and "ACME OUTDOOR › GDPR" in html
    assert 'action="/logout/"' in html


def test_it_hides_the_customers_link_from_viewers(client, vera, bob, store):
    assert b"/s/acme-main/customers/" not in login(client, vera).get("/s/acme-main/").content
    assert b"/s/acme-main/customers/" in login(client, bob).get("/s/acme-main/").content


def test_it_lets_platform_staff_read_under_a_live_grant_and_logs_it(client, sam, store, subject):
    from datetime import timedelta

    from django.utils import timezone

    from stores.models import AuditEvent, SupportGrant

    SupportGrant.objects.create(
        store=store,
        staff_user=sam,
        reason="Ticket 42",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    login(client, sam)
    assert client.get("/s/acme-main/customer/C-ISO/").status_code == 200
    assert b"C-ISO" in client.get("/search", {"q": "iso@"}).content
    assert client.get("/s/acme-outlet/customers/").status_code == 404
    events = AuditEvent.objects.filter(actor=sam)
    assert {"profile.view", "search"} <= {e.action for e in events}
    assert all(e.actor_is_platform_staff for e in events)
