"""Login throttling keeps no shopper data and counts the client's address behind a proxy."""

from __future__ import annotations

from importlib import import_module

from axes.models import AccessAttempt
from django.db import connection
from django.test import Client

from tests.conftest import PASSWORD
from tests.forget_helpers import find_anywhere

VICTIM = "alice.victim@victim.example"
PROXY = "10.0.0.2"


def test_a_failed_login_after_a_profile_link_stores_no_shopper_data_in_public(client, alice):
    """An anonymous profile visit sends the e-mail to the login page in `next`."""
    response = client.get(f"/s/acme-main/customer/{VICTIM}/")
    assert response.status_code == 302
    login_url = response["Location"]
    assert VICTIM.split("@")[0] in login_url  # the address travels in `next`
    page = client.get(login_url)
    assert page.status_code == 200
    client.post(
        login_url,
        {"username": alice.email, "password": "wrong", "next": f"/s/acme-main/customer/{VICTIM}/"},
    )
    client.post(f"/login/?q={VICTIM}&email={VICTIM}", {"username": alice.email, "password": "x"})
    attempt = AccessAttempt.objects.get(username=alice.email)
    assert attempt.failures_since_start == 2
    stored = attempt.get_data + attempt.post_data
    assert "next" not in stored and "victim" not in stored
    connection.set_schema_to_public()
    assert find_anywhere("public", [VICTIM, "victim.example"]) == []


def test_the_migration_sweeps_query_and_form_data_stored_before(db, alice):
    AccessAttempt.objects.create(
        username=alice.email,
        ip_address="192.0.2.1",
        user_agent="x",
        get_data=f"next=/s/acme-main/customer/{VICTIM}/",
        post_data=f"next=/s/acme-main/customer/{VICTIM}/",
        failures_since_start=1,
    )
    sweep = import_module("stores.migrations.0006_sweep_axes_request_data").SWEEP_SQL
    with connection.cursor() as cursor:
        cursor.execute(sweep)
    assert find_anywhere("public", [VICTIM]) == []


# --- behind the TLS proxy: every request comes from PROXY, the client is in X-Forwarded-For ---


def _behind_proxy(settings):
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")


def _post(client, user, password, client_ip, forwarded=None):
    return client.post(
        "/login/",
        {"username": user.email, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded or client_ip,
    )


def test_behind_the_proxy_five_failures_lock_that_user_from_that_client_only(settings, alice, bob):
    _behind_proxy(settings)
    attacker = Client()
    for _ in range(5):
        _post(attacker, alice, "wrong", "198.51.100.66")
    assert _post(attacker, alice, PASSWORD, "198.51.100.66").status_code == 429
    # Alice at her own desk and Bob through the same proxy still log in.
    assert _post(Client(), alice, PASSWORD, "203.0.113.10").status_code == 302
    assert _post(Client(), bob, PASSWORD, "198.51.100.66").status_code == 302
    assert AccessAttempt.objects.get(username=alice.email).ip_address == "198.51.100.66"


def test_a_forged_forwarded_for_entry_does_not_reset_the_count(settings, alice):
    _behind_proxy(settings)
    attacker = Client()
    for n in range(5):
        # The attacker writes a fresh address into the header; the proxy appends the real one.
        _post(attacker, alice, "wrong", "", forwarded=f"192.0.2.{n + 1}, 198.51.100.66")
    response = _post(attacker, alice, PASSWORD, "", forwarded="192.0.2.99, 198.51.100.66")
    assert response.status_code == 429


def test_the_production_settings_read_the_client_address_behind_the_proxy(monkeypatch):
    from tests.test_security import PRODUCTION_ENV

    for name, value in PRODUCTION_ENV.items():
        monkeypatch.setenv(name, value)
    module = import_module("clerkgdpr.settings_production")
    assert module.AXES_IPWARE_META_PRECEDENCE_ORDER[0] == "HTTP_X_FORWARDED_FOR"
    assert module.AXES_IPWARE_PROXY_ORDER == "right-most"
    assert module.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_after_a_forget_nothing_of_the_person_is_left_in_public_login_records_included(
    client, alice, store
):
    from unittest import mock

    from customers.privacy.forget import forget_execute
    from customers.privacy.forget_requests import forget_request_create
    from tests.factories import CustomerFactory

    connection.set_tenant(store)
    CustomerFactory(email=VICTIM, customer_ref="C-VICTIM-1")
    connection.set_schema_to_public()
    login_url = client.get(f"/s/acme-main/customer/{VICTIM}/")["Location"]
    client.post(login_url, {"username": alice.email, "password": "wrong"})
    with mock.patch("customers.privacy.forget_requests.forget_requests_enqueue"):
        request = forget_request_create(
            store=store, kind="email", value=VICTIM, via="ui", actor=alice
        )
    forget_execute(request=request)
    connection.set_schema_to_public()
    assert find_anywhere("public", [VICTIM, "C-VICTIM-1"]) == []
    connection.set_tenant(store)
    assert find_anywhere(store.schema_name, [VICTIM, "C-VICTIM-1"]) == []
