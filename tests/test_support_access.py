"""Support access: platform staff read a store only under a live, reasoned, logged grant."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from gdpr_dashboard.services import support_grant_create
from stores.models import AuditEvent, SupportGrant
from tests.conftest import login


def grant_form(store, staff_email="sam@platform.example", hours=4, reason="Ticket 4711"):
    return {"store": store.pk, "staff_email": staff_email, "reason": reason, "hours": hours}


def test_it_refuses_platform_staff_without_a_grant(client, sam, store):
    assert login(client, sam).get(f"/s/{store.slug}/").status_code == 404


def test_it_lets_the_owner_grant_access_until_it_expires_and_logs_every_use(
    client, alice, sam, store
):
    response = login(client, alice).post("/a/acme/gdpr/support-grants/", grant_form(store))
    assert response.status_code == 302
    grant = SupportGrant.objects.get(store=store, staff_user=sam)
    assert grant.granted_by == alice
    assert timedelta(hours=3, minutes=59) < grant.expires_at - timezone.now() <= timedelta(hours=4)

    client.force_login(sam)
    assert client.get(f"/s/{store.slug}/").status_code == 200
    used = AuditEvent.objects.get(action="support.access", actor=sam)
    assert used.actor_is_platform_staff
    assert used.store == store
    assert used.detail["grant"] == grant.pk
    assert used.detail["page"] == "store_home"

    SupportGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now())
    assert client.get(f"/s/{store.slug}/").status_code == 404

    # The account sees the grant and the staff access, marked as platform staff.
    html = login(client, alice).get("/a/acme/gdpr/").content.decode()
    log = html.split('id="access-log"', 1)[1].split("</section>", 1)[0]
    assert 'class="staff-access"' in log
    assert "sam@platform.example" in log and "Platform staff" in log
    assert "reason: Ticket 4711" in log
    support = html.split('id="support"', 1)[1].split("</section>", 1)[0]
    assert "Ticket 4711" in support and "expired" in support


def test_it_keeps_a_grant_to_its_store(client, alice, sam, store, outlet):
    login(client, alice).post("/a/acme/gdpr/support-grants/", grant_form(store))
    client.force_login(sam)
    assert client.get(f"/s/{outlet.slug}/").status_code == 404


def test_it_lets_the_owner_revoke_a_grant(client, alice, sam, store):
    login(client, alice).post("/a/acme/gdpr/support-grants/", grant_form(store))
    grant = SupportGrant.objects.get(staff_user=sam)
    response = client.post(f"/a/acme/gdpr/support-grants/{grant.pk}/revoke/")
    assert response.status_code == 302
    client.force_login(sam)
    assert client.get(f"/s/{store.slug}/").status_code == 404
    assert AuditEvent.objects.filter(action="support_grant.revoke", actor=alice).exists()


@pytest.mark.parametrize("hours", [0, 25])
def test_it_refuses_grants_longer_than_24_hours(client, alice, store, hours):
    response = login(client, alice).post(
        "/a/acme/gdpr/support-grants/", grant_form(store, hours=hours)
    )
    assert response.status_code == 400
    assert not SupportGrant.objects.exists()


def test_it_refuses_grants_to_people_who_are_not_platform_staff(client, alice, store):
    response = login(client, alice).post(
        "/a/acme/gdpr/support-grants/", grant_form(store, staff_email="charlie@globex.example")
    )
    assert response.status_code == 400
    assert b"No platform staff member has this e-mail address" in response.content
    assert not SupportGrant.objects.exists()


def test_it_refuses_grants_for_another_accounts_store(client, alice, foreign_store):
    response = login(client, alice).post("/a/acme/gdpr/support-grants/", grant_form(foreign_store))
    assert response.status_code == 400
    assert not SupportGrant.objects.exists()


def test_it_lets_only_the_owner_grant_access(client, bob, vera, charlie, store):
    for user, status in [(bob, 403), (vera, 403), (charlie, 404)]:
        response = login(client, user).post("/a/acme/gdpr/support-grants/", grant_form(store))
        assert response.status_code == status
    assert not SupportGrant.objects.exists()


def test_it_shows_the_grant_form_to_the_owner_only(client, alice, bob):
    assert b"Grant support access" in login(client, alice).get("/a/acme/gdpr/").content
    assert b"Grant support access" not in login(client, bob).get("/a/acme/gdpr/").content


def test_it_needs_a_reason(alice, sam, store):
    with pytest.raises(ValidationError):
        support_grant_create(store=store, staff_user=sam, reason="  ", hours=1, granted_by=alice)


def test_it_shows_staff_reading_a_profile_under_a_grant_distinctly(client, alice, sam, store):
    from django.db import connection

    from tests.factories import CustomerFactory, VisitorFactory

    connection.set_tenant(store)
    customer = CustomerFactory(customer_ref="C-GRANT-1")
    VisitorFactory(customer=customer)
    connection.set_schema_to_public()
    login(client, alice).post("/a/acme/gdpr/support-grants/", grant_form(store))
    client.force_login(sam)
    assert client.get(f"/s/{store.slug}/customer/C-GRANT-1/").status_code == 200
    view = AuditEvent.objects.get(action="profile.view", actor=sam)
    assert view.actor_is_platform_staff and view.subject_row_id == customer.pk

    html = login(client, alice).get("/a/acme/gdpr/").content.decode()
    log = html.split('id="access-log"', 1)[1].split("</section>", 1)[0]
    staff_rows = [row for row in log.split("<tr")[1:] if 'class="staff-access"' in row]
    # Named by the customer id, read from the store's schema when the log is shown (the
    # audit row in the public schema holds the row id only).
    assert any("opened a profile" in row and "C-GRANT-1" in row for row in staff_rows)
