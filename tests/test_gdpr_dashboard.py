"""The account's GDPR dashboard: data types per store, sub-processors, logs, documents."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from bench.bulk_stores import dashboard_stores_create
from customers.inventory import inventory_refresh
from customers.models import Basket, Customer, Subscriber
from gdpr_dashboard.models import (
    Backup,
    InventorySnapshot,
    PrivacyRequest,
    RetentionRun,
    SubProcessor,
)
from stores.models import Account, AuditEvent, Membership, PlatformProduct, Role, Store
from tests.conftest import login
from tests.factories import (
    ClickFactory,
    CustomerFactory,
    OrderFactory,
    PageViewFactory,
    VisitorFactory,
)


def dashboard(client, user, slug="acme"):
    return login(client, user).get(f"/a/{slug}/gdpr/")


def datatype_classes(html: str, store_slug: str) -> dict[str, str]:
    """{data type code: "on" | "off" | "leftover"} for one store, read from the page."""
    import re

    block = html.split(f'data-store="{store_slug}"', 1)[1].split("</article>", 1)[0]
    return {
        code: cls for cls, code in re.findall(r'class="datatype (\w+)" data-type="(\w+)"', block)
    }


def fill_store(store: Store, *, crm: bool = True, email: bool = True) -> Customer:
    """One customer with a visitor, page view, click and order in the store's schema."""
    connection.set_tenant(store)
    customer = CustomerFactory(
        email="pat@example.com" if email else None,
        attributes={"age": 41, "city": "Aarhus"} if crm else {},
    )
    visitor = VisitorFactory(customer=customer)
    PageViewFactory(visitor=visitor)
    ClickFactory(visitor=visitor)
    OrderFactory(customer=customer, visitor=visitor)
    Basket.objects.create(visitor=visitor, products=["1001"], updated_at=timezone.now())
    if email:
        Subscriber.objects.create(
            email="pat@example.com", email_digest="d", changed_at=timezone.now()
        )
    connection.set_schema_to_public()
    inventory_refresh(store=store)
    return customer


def test_it_shows_the_owner_every_section(client, alice):
    response = dashboard(client, alice)
    assert response.status_code == 200
    html = response.content.decode()
    for heading in [
        "Hosting",
        "Sub-processors",
        "Data",
        "Requests",
        "Access log",
        "Retention and backups",
        "Support access",
        "Documents",
    ]:
        assert f"<h2>{heading}</h2>" in html
    assert "Frankfurt" in html and "Dublin" in html
    assert "One database schema per store" in html
    assert "all keep data in the EU/EEA" in html


def test_it_checks_the_data_types_a_store_holds(client, alice, store, outlet):
    fill_store(store)
    inventory_refresh(store=outlet)
    html = dashboard(client, alice).content.decode()
    assert datatype_classes(html, "acme-main") == {
        "browsing": "on",
        "preferences": "on",
        "email": "on",
        "orders": "on",
        "crm": "on",
        "baskets": "on",
        "newsletter": "on",
    }
    # The outlet holds nothing yet: no checks at all.
    assert set(datatype_classes(html, "acme-outlet").values()) == {"off"}
    assert "1 customer with an e-mail address" in html


def test_it_shows_no_email_check_when_email_collection_is_off(client, alice, outlet):
    fill_store(outlet, email=False, crm=False)
    html = dashboard(client, alice).content.decode()
    checks = datatype_classes(html, "acme-outlet")
    assert checks["email"] == "off"
    assert checks["crm"] == "off"
    assert checks["browsing"] == "on" and checks["orders"] == "on"
    assert "collection off" in html


def test_it_marks_data_left_over_from_before_collection_was_switched_off(client, alice, store):
    fill_store(store)
    Store.objects.filter(pk=store.pk).update(collect_emails=False)
    checks = datatype_classes(dashboard(client, alice).content.decode(), "acme-main")
    # Not a green check (collection is off), but not hidden either: the data is still held.
    assert checks["email"] == "leftover"


def test_it_drops_the_crm_check_after_the_last_crm_customer_is_gone_and_the_refresh_ran(
    client, alice, store
):
    customer = fill_store(store)
    assert datatype_classes(dashboard(client, alice).content.decode(), "acme-main")["crm"] == "on"

    connection.set_tenant(store)
    Customer.objects.filter(pk=customer.pk).delete()  # what a forget does to the row
    connection.set_schema_to_public()
    # Before the refresh the dashboard still shows the last snapshot (no scan at page load).
    assert datatype_classes(dashboard(client, alice).content.decode(), "acme-main")["crm"] == "on"

    inventory_refresh(store=store)
    checks = datatype_classes(dashboard(client, alice).content.decode(), "acme-main")
    assert checks["crm"] == "off"
    assert checks["email"] == "off"
    assert checks["orders"] == "on"  # orders stay (anonymous)


def test_it_shows_when_the_inventory_was_last_counted(client, alice, store):
    html = dashboard(client, alice).content.decode()
    assert "not counted yet" in html
    InventorySnapshot.objects.create(
        store=store, counts={}, refreshed_at=timezone.now().replace(year=2026, month=3, day=4)
    )
    assert "counted 4 March 2026" in dashboard(client, alice).content.decode()


def subprocessor_row(html: str, name: str) -> str:
    return html.split(f'data-subprocessor="{name}"', 1)[0].rsplit("<tr", 1)[1]


def test_it_highlights_the_subprocessors_the_accounts_products_need(client, alice):
    html = dashboard(client, alice).content.decode()
    # Acme Main uses search, recommendations and e-mail; no store of Acme uses chat.
    assert 'class="used"' in subprocessor_row(html, "Scaleway GPU compute")
    assert 'class="used"' in subprocessor_row(html, "Brevo")
    assert 'class="used"' in subprocessor_row(html, "AWS Frankfurt")
    assert 'class="unused"' in subprocessor_row(html, "Mistral AI")
    assert "used by Search in 2 stores: Acme Main, Acme Outlet" in html
    assert "used by E-mail recommendations in store Acme Main" in html


def test_it_highlights_a_subprocessor_once_a_store_adds_the_product_that_needs_it(
    client, alice, outlet
):
    assert 'class="unused"' in subprocessor_row(dashboard(client, alice).content.decode(), "Aiven")
    outlet.products.add(PlatformProduct.objects.get(code="audience"))
    html = dashboard(client, alice).content.decode()
    assert 'class="used"' in subprocessor_row(html, "Aiven")
    assert "used by Audience in store Acme Outlet" in html


def test_it_lists_the_catalogue_changes_with_dates(client, alice):
    html = dashboard(client, alice).content.decode()
    assert "Catalogue changes" in html
    assert 'datetime="2024-05-01"' in html  # Mistral AI added
    assert "affects your stores" in html


def test_it_lists_the_last_90_days_of_requests_open_ones_first(client, alice, store, outlet):
    done = PrivacyRequest.objects.create(
        store=store,
        kind="forget",
        status="done",
        via="ui",
        subject_kind="email",
        email_digest="d" * 64,
        counts={"visitors": 2},
    )
    running = PrivacyRequest.objects.create(
        store=outlet, kind="forget", status="running", via="api", subject_kind="visitor"
    )
    old = PrivacyRequest.objects.create(
        store=store, kind="info", status="done", via="api", subject_kind="customer"
    )
    PrivacyRequest.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=91))
    other = PrivacyRequest.objects.create(
        store=Store.objects.get(slug="globex-shop"),
        kind="forget",
        status="queued",
        via="ui",
        subject_kind="email",
    )
    html = dashboard(client, alice).content.decode()
    section = html.split('id="requests"', 1)[1].split("</section>", 1)[0]
    assert section.index(f"<td>{running.pk}</td>") < section.index(f"<td>{done.pk}</td>")
    assert f"<td>{old.pk}</td>" not in section
    assert f"<td>{other.pk}</td>" not in section
    assert "d" * 64 not in html  # no digests, let alone identifiers
    assert "visitors 2" in section


def test_it_shows_retention_bounds_and_none_yet_for_missing_runs_and_backups(
    client, alice, store, outlet
):
    now = timezone.now()
    RetentionRun.objects.create(
        store=store, started_at=now - timedelta(days=2), counts={"visitors": 1}
    )
    RetentionRun.objects.create(store=store, started_at=now, counts={"visitors": 7})
    Backup.objects.create(
        store=store,
        path="/x",
        created_at=now.replace(year=2026, month=11, day=28),
        expires_at=now.replace(year=2026, month=12, day=28),
    )
    html = dashboard(client, alice).content.decode()
    section = html.split('id="retention"', 1)[1].split("</section>", 1)[0]
    assert "30–365 days" in section
    assert "visitors 7" in section and "visitors 1" not in section
    assert "28 December 2026" in section
    assert "none yet" in section  # the outlet has neither


def test_it_gives_another_accounts_owner_404(client, charlie):
    response = dashboard(client, charlie)
    assert response.status_code == 404
    assert b"Acme" not in response.content


def test_it_gives_404_for_an_unknown_account(client, alice):
    assert dashboard(client, alice, slug="no-such-account").status_code == 404


def test_it_sends_anonymous_users_to_login(client):
    response = client.get("/a/acme/gdpr/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_it_refuses_platform_staff_who_are_not_members(client, sam):
    assert dashboard(client, sam).status_code == 404


def test_it_shows_the_viewer_the_dashboard_without_profile_data(client, vera, store):
    fill_store(store)
    response = dashboard(client, vera)
    assert response.status_code == 200
    html = response.content.decode()
    assert "pat@example.com" not in html
    assert "/customers/" not in html  # no links into profiles for viewers
    assert 'data-type="email"' in html  # but the data types are there


def test_it_links_analysts_to_the_stores_customers(client, bob):
    html = dashboard(client, bob).content.decode()
    assert 'href="/s/acme-main/customers/"' in html


def test_it_shows_a_store_limited_admin_only_their_stores(client, adam):
    html = dashboard(client, adam).content.decode()
    assert 'data-store="acme-outlet"' in html
    assert 'data-store="acme-main"' not in html


def test_it_renders_the_dpa_with_the_accounts_details(client, alice):
    response = login(client, alice).get("/a/acme/gdpr/dpa/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Data processing agreement" in html
    assert "Acme Outdoor" in html and "Acme Main" in html
    assert "Scaleway GPU compute" in html  # a sub-processor Acme uses
    assert "Mistral AI" not in html  # one it does not


def test_it_renders_a_printable_view_without_forms(client, alice):
    response = login(client, alice).get("/a/acme/gdpr/print/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Acme Outdoor — GDPR overview" in html
    assert "Grant support access" not in html
    assert 'id="subprocessors"' in html and 'id="data"' in html


def test_it_keeps_the_documents_for_members_only(client, charlie):
    login(client, charlie)
    assert client.get("/a/acme/gdpr/dpa/").status_code == 404
    assert client.get("/a/acme/gdpr/print/").status_code == 404


def test_it_serves_the_trust_page_without_login(client, db):
    response = client.get("/trust/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in [
        "Frankfurt",
        "Dublin",
        "Mistral AI",
        "Stripe Payments Europe",
        "Forget and retention",
        "Store isolation",
        "Vulnerability scanning",
    ]:
        assert text in html


# --- fixed query count -------------------------------------------------------------------


def make_account_with_stores(n: int, owner) -> Account:
    """An account with n stores (public rows only) and a bit of every public record per store."""
    account = Account.objects.create(slug=f"bulk-{n}", name=f"Bulk {n}")
    Membership.objects.create(user=owner, account=account, role=Role.OWNER)
    counts = {"customers": 10, "visitors": 20, "page_views": 5, "orders": 3, "clicks": 4}
    stores = dashboard_stores_create(
        account=account, n=n, slug_prefix=f"bulk-{n}", counts=lambda i: counts
    )
    now = timezone.now()
    RetentionRun.objects.bulk_create(
        RetentionRun(store=s, started_at=now, counts={"visitors": 1}) for s in stores
    )
    Backup.objects.bulk_create(
        Backup(store=s, path="/b", created_at=now, expires_at=now + timedelta(days=30))
        for s in stores
    )
    PrivacyRequest.objects.bulk_create(
        PrivacyRequest(store=s, kind="forget", status="done", via="ui", subject_kind="email")
        for s in stores
    )
    AuditEvent.objects.bulk_create(
        AuditEvent(account=account, store=s, actor=owner, action="profile.view") for s in stores
    )
    return account


# Whatever the number of stores (the session is on the public schema already): session,
# user, account, membership, membership's store limits, stores (+inventory), their
# products, last retention runs, last backups, sub-processors, their products, catalogue
# changes, requests, access log, support grants, the header's store menu, the account
# menu's accounts, and the membership (its store limits with it) for the store navigation
# (the store used last stays in the header).
DASHBOARD_QUERIES = 18


@pytest.mark.parametrize("n_stores", [1, 50])
def test_it_renders_the_dashboard_in_a_fixed_number_of_queries(
    client, alice, django_assert_num_queries, n_stores
):
    account = make_account_with_stores(n_stores, alice)
    login(client, alice)
    with django_assert_num_queries(DASHBOARD_QUERIES):
        response = client.get(f"/a/{account.slug}/gdpr/")
    assert response.status_code == 200
    assert response.content.decode().count('class="gdpr-store"') == n_stores


def test_it_does_not_count_subprocessors_removed_from_the_catalogue(client, alice):
    SubProcessor.objects.filter(name="Brevo").update(removed_on=timezone.localdate())
    html = dashboard(client, alice).content.decode()
    assert 'data-subprocessor="Brevo"' not in html


def test_it_shows_the_demo_data_as_seeded(client, db):
    from django.core.management import call_command

    call_command("seed_demo", scale=0.01, seed=7)
    owner = Membership.objects.get(account__slug="demo-retail", role=Role.OWNER).user
    html = dashboard(client, owner, slug="demo-retail").content.decode()
    nordic = datatype_classes(html, "nordic-outdoor")
    assert set(nordic.values()) == {"on"}  # collects everything, holds everything
    tea = datatype_classes(html, "tea-house")
    assert tea["email"] == "off" and tea["crm"] == "off"  # collects neither
    assert tea["browsing"] == "on" and tea["orders"] == "on"
    assert 'class="used"' in subprocessor_row(html, "Aiven")  # Nordic uses Audience
    assert 'class="unused"' in subprocessor_row(html, "Mistral AI")  # chat: other brand only


def test_it_keeps_nightly_jobs_out_of_the_access_log(client, alice, bob, sam, store):
    AuditEvent.objects.create(account=store.account, store=store, action="backup_created")
    AuditEvent.objects.create(
        account=store.account,
        store=store,
        actor=bob,
        action="profile.download",
        subject_kind="customer",
        subject_row_id=17,
    )
    AuditEvent.objects.create(
        account=store.account,
        store=store,
        actor=sam,
        actor_is_platform_staff=True,
        action="something.new",
    )
    html = dashboard(client, alice).content.decode()
    log = html.split('id="access-log"', 1)[1].split("</section>", 1)[0]
    assert "backup taken" not in log
    assert "downloaded all data" in log and "bob@acme.example" in log
    assert 'customer <span class="muted">(no longer held)</span>' in log  # no row 17
    assert "something › new" in log  # anything platform staff did is shown


def test_it_pages_the_stores_of_a_big_account_in_the_same_number_of_queries(
    client, alice, django_assert_num_queries
):
    account = make_account_with_stores(120, alice)
    login(client, alice)
    with django_assert_num_queries(DASHBOARD_QUERIES):
        first = client.get(f"/a/{account.slug}/gdpr/").content.decode()
    assert first.count('class="gdpr-store"') == 50
    assert "Stores 1–50 of 120" in first and "?stores=2#data" in first
    pages = [first] + [
        client.get(f"/a/{account.slug}/gdpr/", {"stores": n}).content.decode() for n in (2, 3)
    ]
    last = pages[-1]
    assert last.count('class="gdpr-store"') == 20
    shown = [
        slug
        for page in pages
        for slug in re.findall(r'class="gdpr-store" data-store="([^"]+)"', page)
    ]
    assert len(shown) == len(set(shown)) == 120
    # The support grant form still offers every store; the printable view lists them all.
    assert last.count('<option value="') >= 120
    printable = client.get(f"/a/{account.slug}/gdpr/print/").content.decode()
    assert printable.count('class="gdpr-store"') == 120
