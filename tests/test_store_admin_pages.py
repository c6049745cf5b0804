"""Settings and API keys pages: owners and admins only, audited, private key shown once."""

import json

import pytest
from django.core.management import call_command

from customers.api.keys import api_key_create, private_key_hash
from stores.models import ApiKey, AuditEvent, Store
from tests.conftest import login


def test_it_shows_what_is_collected_and_what_not(client, alice, outlet):
    response = login(client, alice).get(f"/s/{outlet.slug}/settings/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Removed from every call before anything is written" in text  # no e-mails
    assert "Only the attributes listed are stored" in text


def test_it_saves_settings_and_audits_the_change(client, alice, store):
    response = login(client, alice).post(
        f"/s/{store.slug}/settings/",
        {"track_browsing": "on", "crm_fields": "City, age, zip"},
    )
    assert response.status_code == 302
    store.refresh_from_db()
    assert (store.collect_emails, store.crm_fields) == (False, ["age", "city", "zip"])
    event = AuditEvent.objects.get(action="store.settings_change")
    assert event.actor == alice
    assert event.detail["changed"]["collect_emails"] == {"from": True, "to": False}


def test_it_refuses_bad_crm_field_names(client, alice, store):
    response = login(client, alice).post(
        f"/s/{store.slug}/settings/", {"crm_fields": "age, <script>"}
    )
    assert response.status_code == 200
    assert Store.objects.get(pk=store.pk).crm_fields == ["age", "city"]


@pytest.mark.parametrize("url", ["settings/", "api-keys/"])
def test_it_lets_only_owners_and_admins_in(client, bob, vera, charlie, adam, store, outlet, url):
    assert login(client, bob).get(f"/s/{store.slug}/{url}").status_code == 403
    assert login(client, vera).get(f"/s/{store.slug}/{url}").status_code == 403
    assert login(client, charlie).get(f"/s/{store.slug}/{url}").status_code == 404
    # Adam is admin of the outlet only.
    assert login(client, adam).get(f"/s/{store.slug}/{url}").status_code == 404
    assert login(client, adam).get(f"/s/{outlet.slug}/{url}").status_code == 200


def test_it_shows_a_new_private_key_once_and_stores_its_hash(client, alice, store):
    login(client, alice)
    response = client.post(f"/s/{store.slug}/api-keys/", {"label": "Shop backend"})
    assert response.status_code == 200
    assert {"no-store", "private"} <= {p.strip() for p in response["Cache-Control"].split(",")}
    key = ApiKey.objects.get(store=store, label="Shop backend")
    private = response.context["issued"].private_key
    assert private in response.content.decode()
    assert key.private_key_hash == private_key_hash(private) and private not in str(key.__dict__)
    assert private not in client.get(f"/s/{store.slug}/api-keys/").content.decode()
    assert AuditEvent.objects.filter(action="api_key.create", api_key=key, actor=alice).exists()


def test_it_revokes_a_key(client, alice, store):
    issued = api_key_create(store=store, label="old")
    login(client, alice).post(f"/s/{store.slug}/api-keys/{issued.api_key.pk}/revoke/")
    issued.api_key.refresh_from_db()
    assert issued.api_key.revoked_at is not None
    assert AuditEvent.objects.filter(action="api_key.revoke").count() == 1


def test_it_does_not_revoke_another_stores_key(client, adam, store, outlet):
    issued = api_key_create(store=store)
    response = login(client, adam).post(f"/s/{outlet.slug}/api-keys/{issued.api_key.pk}/revoke/")
    assert response.status_code == 404
    issued.api_key.refresh_from_db()
    assert issued.api_key.revoked_at is None


def test_the_command_prints_one_json_object(store, capsys):
    call_command("create_api_key", store.slug)
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == {"store", "key", "private_key"} and printed["store"] == store.slug
    key = ApiKey.objects.get(key=printed["key"])
    assert key.private_key_hash == private_key_hash(printed["private_key"])
