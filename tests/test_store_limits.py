# ruff: noqa: F811 (url_values is a fixture imported from test_security_urls)
"""Store-limited memberships on every page and every POST, the account-level ones included.

Olga owns Acme but is limited to the outlet; Lena is Acme's analyst limited to the outlet
(Adam, the admin limited to the outlet, is walked in test_security_urls). None of them may
see or change anything of Acme Main: its store pages answer 404 to GET and POST, and the
account pages (dashboard, print, DPA, support grants) show and touch the outlet only.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from stores.models import AuditEvent, Membership, Role, SupportGrant, User
from tests.test_security_urls import (  # noqa: F401 (url_values is a fixture)
    SUBJECT_CUSTOMER,
    SUBJECT_EMAIL,
    SUBJECT_NAME,
    SUBJECT_VISITOR,
    url_values,
)
from tests.urlwalk import build_path, url_patterns

MAIN_GRANT_REASON = "Ticket 1: walk"  # the grant url_values makes on Acme Main


def _limited(email: str, role: str, account, outlet) -> User:
    user = User.objects.create_user(email=email, password="correct-horse-battery")
    membership = Membership.objects.create(user=user, account=account, role=role)
    membership.stores.set([outlet])
    return user


@pytest.fixture
def limited_clients(store, outlet) -> dict[str, Client]:
    made = {}
    for name, role in (("limited_owner", Role.OWNER), ("limited_analyst", Role.ANALYST)):
        client = Client()
        client.force_login(_limited(f"{name}@acme.example", role, store.account, outlet))
        made[name] = client
    return made


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _console_urls(url_values):
    for url in url_patterns():
        if url.namespace in ("admin", "api-v1") or url.key.startswith(("admin/", "v2_")):
            continue  # the admin is staff only; the APIs take keys, not sessions
        if url.key in ("logout", "login"):
            continue
        yield url, build_path(url, url_values)


def test_limited_members_get_nothing_of_another_store_on_any_page(limited_clients, url_values):
    secrets = [SUBJECT_EMAIL, SUBJECT_CUSTOMER, SUBJECT_VISITOR, SUBJECT_NAME, MAIN_GRANT_REASON]
    wrong = []
    for actor, client in limited_clients.items():
        for url, path in _console_urls(url_values):
            response = client.get(path, follow=url.key in ("store_customer", "store_visitor"))
            code = response.status_code
            if path.startswith("/s/acme-main/") and code not in (404, 405):
                wrong.append(f"GET {path} as {actor}: {code}, expected 404")
            if code >= 500:
                wrong.append(f"GET {path} as {actor}: {code}")
            body = _body(response)
            for secret in secrets:
                if secret not in path and secret.encode() in body:
                    wrong.append(f"GET {path} as {actor}: shows {secret}")
            html = response.get("Content-Type", "").startswith("text/html")
            if code == 200 and html and b"Acme Main" in body:
                wrong.append(f"GET {path} as {actor}: names the store Acme Main")
    assert not wrong, "\n".join(wrong)


def test_limited_members_change_nothing_of_another_store_by_any_post(
    limited_clients, url_values, store
):
    grant = SupportGrant.objects.get(reason=MAIN_GRANT_REASON)
    events_before = AuditEvent.objects.filter(store=store).count()
    wrong = []
    for actor, client in limited_clients.items():
        for url, path in _console_urls(url_values):
            data = {"store": store.pk, "staff_email": "support@platform.example", "hours": 1}
            response = client.post(path, {**data, "reason": "x", "confirm": "1"})
            code = response.status_code
            if path.startswith("/s/acme-main/") and code not in (404, 405):
                wrong.append(f"POST {path} as {actor}: {code}, expected 404")
            if url.key == "account_support_grant_revoke" and code != (
                404 if actor == "limited_owner" else 403
            ):
                wrong.append(f"POST {path} as {actor}: {code}")
            if code >= 500:
                wrong.append(f"POST {path} as {actor}: {code}")
    grant.refresh_from_db()
    assert grant.revoked_at is None
    assert SupportGrant.objects.filter(store=store).count() == 1
    assert AuditEvent.objects.filter(store=store).count() == events_before
    assert not wrong, "\n".join(wrong)


def test_a_limited_owner_manages_support_access_for_their_own_stores_only(
    limited_clients, store, outlet, url_values
):
    client = limited_clients["limited_owner"]
    staff = User.objects.get(email="support@platform.example")
    refused = client.post(
        "/a/acme/gdpr/support-grants/",
        {"store": store.pk, "staff_email": staff.email, "reason": "outside", "hours": 1},
    )
    assert refused.status_code == 400
    assert not SupportGrant.objects.filter(reason="outside").exists()
    granted = client.post(
        "/a/acme/gdpr/support-grants/",
        {"store": outlet.pk, "staff_email": staff.email, "reason": "inside", "hours": 1},
    )
    assert granted.status_code == 302
    own = SupportGrant.objects.get(reason="inside")
    assert own.store == outlet
    main_grant = SupportGrant.objects.get(reason=MAIN_GRANT_REASON)
    assert client.post(f"/a/acme/gdpr/support-grants/{main_grant.pk}/revoke/").status_code == 404
    main_grant.refresh_from_db()
    assert main_grant.revoked_at is None
    assert client.post(f"/a/acme/gdpr/support-grants/{own.pk}/revoke/").status_code == 302
    own.refresh_from_db()
    assert own.revoked_at is not None
    html = client.get("/a/acme/gdpr/").content.decode()
    assert "inside" in html and MAIN_GRANT_REASON not in html


def test_the_unlimited_owner_still_revokes_any_grant_of_the_account(client, alice, url_values):
    grant = SupportGrant.objects.get(reason=MAIN_GRANT_REASON)
    grant.expires_at = timezone.now() + timedelta(hours=1)
    client.force_login(alice)
    assert client.post(f"/a/acme/gdpr/support-grants/{grant.pk}/revoke/").status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None
