"""Django admin for platform staff: every page opens, stores get schemas, no shopper data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from gdpr_dashboard.models import PrivacyRequest, SubProcessor, SubProcessorChange
from stores.models import AuditEvent, PlatformProduct, Store, SupportGrant, User
from tests.conftest import login

ADMIN_MODELS = [
    "stores/user",
    "stores/account",
    "stores/store",
    "stores/domain",
    "stores/membership",
    "stores/apikey",
    "stores/platformproduct",
    "stores/supportgrant",
    "gdpr_dashboard/subprocessor",
    "gdpr_dashboard/subprocessorchange",
    "gdpr_dashboard/privacyrequest",
    "gdpr_dashboard/auditevent",
    "gdpr_dashboard/suppression",
    "gdpr_dashboard/inventorysnapshot",
    "gdpr_dashboard/backup",
    "gdpr_dashboard/retentionrun",
]


@pytest.fixture
def superuser_sam(sam):
    sam.is_superuser = True
    sam.save(update_fields=["is_superuser"])
    return sam


@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_it_lists_and_searches_every_model(client, superuser_sam, model):
    login(client, superuser_sam)
    assert client.get(f"/admin/{model}/").status_code == 200
    assert client.get(f"/admin/{model}/?q=acme").status_code == 200


def test_it_registers_no_store_schema_model(client, superuser_sam):
    html = login(client, superuser_sam).get("/admin/").content.decode()
    assert "/admin/customers/" not in html


def test_it_refuses_store_staff(client, alice):
    response = login(client, alice).get("/admin/")
    assert response.status_code == 302


def test_it_creates_the_schema_when_staff_add_a_store(client, superuser_sam):
    login(client, superuser_sam)
    acme = Store.objects.get(slug="acme-main").account
    search = PlatformProduct.objects.get(code="search")
    response = client.post(
        "/admin/stores/store/add/",
        {
            "account": acme.pk,
            "slug": "acme-pop-up",
            "name": "Acme Pop-up",
            "products": [search.pk],
            "collect_emails": "on",
            "crm_fields": '["age"]',
            "track_browsing": "on",
            "retention_min_days": 30,
            "retention_max_days": 180,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    store = Store.objects.get(slug="acme-pop-up")
    assert store.schema_name == "store_acme_pop_up"
    assert store.retention_max_days == 180
    assert list(store.products.all()) == [search]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = %s AND table_name = 'customers_customer'",
            [store.schema_name],
        )
        assert cursor.fetchone()[0] == 1


def test_it_shows_ledger_and_audit_read_only(client, superuser_sam, store):
    request = PrivacyRequest.objects.create(
        store=store,
        kind="forget",
        status="done",
        via="ui",
        subject_kind="email",
        email_digest="e" * 64,
    )
    event = AuditEvent.objects.create(account=store.account, store=store, action="profile.view")
    login(client, superuser_sam)
    page = client.get(f"/admin/gdpr_dashboard/privacyrequest/{request.pk}/change/")
    assert page.status_code == 200
    assert b"e" * 64 not in page.content
    assert b'name="status"' not in page.content  # no editable field
    assert client.get("/admin/gdpr_dashboard/privacyrequest/add/").status_code == 403
    assert (
        client.post(f"/admin/gdpr_dashboard/auditevent/{event.pk}/delete/", {"post": "yes"})
    ).status_code == 403


def test_it_shows_support_grants_read_only_even_to_a_superuser(client, superuser_sam, alice, store):
    """Only the account's owner lets platform staff in (on the dashboard), never the admin."""
    login(client, superuser_sam)
    assert client.get("/admin/stores/supportgrant/add/").status_code == 403
    response = client.post(
        "/admin/stores/supportgrant/add/",
        {"store": store.pk, "staff_user": superuser_sam.pk, "reason": "x", "hours": 2},
    )
    assert response.status_code == 403
    assert not SupportGrant.objects.exists()
    grant = SupportGrant.objects.create(
        store=store,
        staff_user=superuser_sam,
        reason="Ticket 7",
        granted_by=alice,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    page = client.get(f"/admin/stores/supportgrant/{grant.pk}/change/")
    assert page.status_code == 200 and b"Ticket 7" in page.content
    assert b'name="reason"' not in page.content and b'name="expires_at' not in page.content
    client.post(
        f"/admin/stores/supportgrant/{grant.pk}/change/",
        {"store": store.pk, "staff_user": superuser_sam.pk, "reason": "changed"},
    )
    grant.refresh_from_db()
    assert grant.reason == "Ticket 7" and grant.revoked_at is None
    assert b"/admin/stores/supportgrant/add/" not in client.get("/admin/").content


def test_platform_staff_may_still_revoke_a_grant_in_the_admin(client, superuser_sam, alice, store):
    grant = SupportGrant.objects.create(
        store=store,
        staff_user=superuser_sam,
        reason="Ticket 8",
        granted_by=alice,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    login(client, superuser_sam)
    response = client.post(
        "/admin/stores/supportgrant/",
        {"action": "revoke", "_selected_action": [grant.pk], "index": 0},
    )
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert AuditEvent.objects.filter(action="support_grant.revoke", store=store).exists()


def subprocessor_post(sp: SubProcessor, **changes) -> dict:
    data = {
        "name": sp.name,
        "legal_entity": sp.legal_entity,
        "purpose": sp.purpose,
        "country": sp.country,
        "data_categories": '["chat messages"]',
        "used_by_all": "",
        "products": [p.pk for p in sp.products.all()],
        "added_on": sp.added_on.isoformat(),
        "removed_on": "",
        "announcement": "",
        "takes_effect_on": "",
        "changes-TOTAL_FORMS": 0,
        "changes-INITIAL_FORMS": 0,
    }
    data.update(changes)
    return data


def test_it_emails_the_owners_of_affected_accounts_on_a_catalogue_change(
    client, superuser_sam, django_capture_on_commit_callbacks
):
    mistral = SubProcessor.objects.get(name="Mistral AI")  # chat: only Globex uses it
    login(client, superuser_sam)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:gdpr_dashboard_subprocessor_change", args=[mistral.pk]),
            subprocessor_post(
                mistral,
                country="France (Paris) and Sweden (Stockholm)",
                announcement="Adds a second data centre in Stockholm.",
                takes_effect_on="2027-01-15",
            ),
        )
    assert response.status_code == 302
    change = SubProcessorChange.objects.get(description="Adds a second data centre in Stockholm.")
    assert change.changed_on.isoformat() == "2027-01-15"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["charlie@globex.example"]
    assert "Mistral AI" in mail.outbox[0].subject
    assert "15 January 2027" in mail.outbox[0].body  # the owner's language (English)

    # Globex's dashboard shows it as upcoming and affecting its stores; Acme's does not.
    html = login(client, User.objects.get(email="charlie@globex.example")).get("/a/globex/gdpr/")
    assert b"Adds a second data centre in Stockholm." in html.content
    assert b"upcoming" in html.content


def test_it_announces_an_unchanged_save_to_nobody(
    client, superuser_sam, django_capture_on_commit_callbacks
):
    mistral = SubProcessor.objects.get(name="Mistral AI")
    before = SubProcessorChange.objects.count()
    login(client, superuser_sam)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:gdpr_dashboard_subprocessor_change", args=[mistral.pk]),
            subprocessor_post(
                mistral, data_categories=f"{mistral.data_categories}".replace("'", '"')
            ),
        )
    assert SubProcessorChange.objects.count() == before
    assert mail.outbox == []


def test_it_emails_every_account_whose_stores_a_new_product_link_touches(
    client, superuser_sam, django_capture_on_commit_callbacks
):
    aiven = SubProcessor.objects.get(name="Aiven")  # audience only: nobody uses it yet
    search = PlatformProduct.objects.get(code="search")  # both Acme and Globex use search
    data = subprocessor_post(aiven, data_categories='["CRM fields"]')
    data["products"] = [*data["products"], search.pk]
    login(client, superuser_sam)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:gdpr_dashboard_subprocessor_change", args=[aiven.pk]), data
        )
    assert response.status_code == 302
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@acme.example", "charlie@globex.example"]
    assert "Changed: data categories, products." in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="subprocessor.change").count() == 2
