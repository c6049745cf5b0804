"""Every answer that may show a person tells caches and browsers not to keep it."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.conftest import login
from tests.factories import CustomerFactory, VisitorFactory

EMAIL = "cache.me@example.com"


@pytest.fixture
def subject(store):
    connection.set_tenant(store)
    customer = CustomerFactory(email=EMAIL, customer_ref="C-CACHE-1")
    VisitorFactory(visitor_ref="v-cache-1", customer=customer)
    connection.set_schema_to_public()


def _no_store_private(response) -> bool:
    parts = {p.strip() for p in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= parts


CONSOLE_PAGES = [
    f"/s/acme-main/customer/{EMAIL}/",
    f"/s/acme-main/customer/{EMAIL}/?clicks_page=2",
    f"/s/acme-main/customer/{EMAIL}/download/",
    f"/s/acme-main/customer/{EMAIL}/forget/",
    "/s/acme-main/visitor/v-cache-1/",
    "/s/acme-main/visitor/v-cache-1/download/",
    "/s/acme-main/visitor/v-cache-1/forget/",
    "/s/acme-main/customer/nobody@example.com/",  # the not-found page names who was asked for
    "/s/acme-main/customer/nobody@example.com/forget/",
    "/s/acme-main/customers/",
    "/s/acme-main/requests/",
    "/s/acme-main/suppressions/",
    "/s/acme-main/api-keys/",
    f"/search?q={EMAIL}",
    f"/store/customer/{EMAIL}",
    "/a/acme/gdpr/",
    "/",
]


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_console_pages_with_personal_data_are_not_stored(client, alice, subject, path):
    response = login(client, alice).get(path)
    assert response.status_code in (200, 302, 404), response.status_code
    assert _no_store_private(response), (path, response.get("Cache-Control"))


def test_privacy_api_answers_are_not_stored(client, api_key, subject):
    keys = {"key": api_key.api_key.key, "private_key": api_key.private_key}
    v2 = client.get("/v2/privacy/info", {**keys, "email": EMAIL})
    assert v2.status_code == 200 and _no_store_private(v2)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {api_key.api_key.key}:{api_key.private_key}"}
    v1 = client.get("/api/v1/privacy/subjects", {"email": EMAIL}, **bearer)
    assert v1.status_code == 200 and _no_store_private(v1)
    refused = client.get("/v2/privacy/info", {"key": "nope", "email": EMAIL})
    assert refused.status_code == 401 and _no_store_private(refused)


def test_the_public_trust_page_may_be_cached(client, db):
    assert not _no_store_private(client.get("/trust/"))
