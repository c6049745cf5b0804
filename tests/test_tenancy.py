"""Store pages: the store is set on the connection only after the membership check."""

from django.db import connection

from customers.models import Customer
from stores.access import stores_visible_to
from tests.conftest import login
from tests.factories import CustomerFactory


def test_it_shows_a_member_the_store_home(client, alice, store):
    response = login(client, alice).get(f"/s/{store.slug}/")
    assert response.status_code == 200
    assert b"Acme Main" in response.content


def test_it_sends_anonymous_users_to_login(client, store):
    response = client.get(f"/s/{store.slug}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_it_gives_404_for_another_accounts_store(client, charlie, store):
    response = login(client, charlie).get(f"/s/{store.slug}/")
    assert response.status_code == 404
    assert b"Acme" not in response.content


def test_it_gives_404_for_an_unknown_store(client, alice):
    assert login(client, alice).get("/s/no-such-store/").status_code == 404


def test_it_respects_a_membership_limited_to_some_stores(client, adam, store, outlet):
    login(client, adam)
    assert client.get(f"/s/{outlet.slug}/").status_code == 200
    assert client.get(f"/s/{store.slug}/").status_code == 404
    assert [s.slug for s in stores_visible_to(adam)] == ["acme-outlet"]


def test_it_refuses_platform_staff_without_a_grant(client, sam, store):
    assert login(client, sam).get(f"/s/{store.slug}/").status_code == 404


def test_it_remembers_the_last_store(client, alice, outlet):
    login(client, alice).get(f"/s/{outlet.slug}/")
    assert client.session["last_store"] == "acme-outlet"


def test_it_keeps_each_stores_data_in_its_own_schema(store, outlet):
    connection.set_tenant(store)
    CustomerFactory(email="only-in-main@example.com")
    connection.set_tenant(outlet)
    assert not Customer.objects.filter(email="only-in-main@example.com").exists()
    connection.set_tenant(store)
    assert Customer.objects.filter(email="only-in-main@example.com").exists()


def test_it_resets_the_schema_after_a_store_request(client, alice, store):
    login(client, alice).get(f"/s/{store.slug}/")
    assert connection.schema_name == "public"


def test_it_lists_only_visible_stores_on_home(client, charlie):
    response = login(client, charlie).get("/")
    assert b"Globex Shop" in response.content
    assert b"Acme Main" not in response.content


def test_it_logs_in_with_email_and_password(client, alice):
    response = client.post(
        "/login/", {"username": "alice@acme.example", "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
