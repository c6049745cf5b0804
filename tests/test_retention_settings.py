"""Store settings › Retention: owners and admins set the bounds (30..365), audited."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from customers.retention.services import store_retention_update
from stores.models import AuditEvent, Store
from tests.conftest import login

URL = "/s/acme-main/settings/retention/"


def test_it_shows_the_current_bounds(client, alice, store):
    page = login(client, alice).get(URL).content.decode()
    assert 'name="min_days" value="30"' in page
    assert 'name="max_days" value="365"' in page


def test_it_saves_the_bounds_and_audits_the_change(client, alice, store):
    response = login(client, alice).post(URL, {"min_days": "60", "max_days": "180"})
    assert response.status_code == 302
    store.refresh_from_db()
    assert (store.retention_min_days, store.retention_max_days) == (60, 180)
    event = AuditEvent.objects.get(store=store, action="settings.retention")
    assert event.actor == alice
    assert event.detail == {
        "before": {"min_days": 30, "max_days": 365},
        "after": {"min_days": 60, "max_days": 180},
    }


@pytest.mark.parametrize(
    "low, high, error",
    [
        ("29", "365", "greater than or equal to 30"),
        ("30", "366", "less than or equal to 365"),
        ("200", "100", "The minimum cannot be above the maximum."),
        ("", "100", "This field is required."),
    ],
)
def test_it_rejects_bounds_outside_30_to_365(client, alice, store, low, high, error):
    response = login(client, alice).post(URL, {"min_days": low, "max_days": high})
    assert response.status_code == 200
    assert error in response.content.decode()
    store.refresh_from_db()
    assert (store.retention_min_days, store.retention_max_days) == (30, 365)
    assert not AuditEvent.objects.filter(store=store, action="settings.retention").exists()


def test_an_admin_of_the_store_may_change_it(client, adam, outlet):
    response = login(client, adam).post(
        "/s/acme-outlet/settings/retention/", {"min_days": "45", "max_days": "90"}
    )
    assert response.status_code == 302
    outlet.refresh_from_db()
    assert outlet.retention_min_days == 45


def test_an_analyst_may_not(client, bob, store):
    assert login(client, bob).post(URL, {"min_days": "60", "max_days": "90"}).status_code == 403
    store.refresh_from_db()
    assert store.retention_min_days == 30


def test_another_accounts_owner_gets_404(client, charlie, store):
    assert login(client, charlie).get(URL).status_code == 404


def test_the_service_and_the_database_refuse_bad_bounds(alice, store):
    with pytest.raises(ValidationError):
        store_retention_update(store=store, actor=alice, min_days=10, max_days=100)
    with pytest.raises(IntegrityError), transaction.atomic():
        Store.objects.filter(pk=store.pk).update(retention_max_days=400)


def test_the_settings_page_shows_the_bounds_and_links_here(client, alice, store):
    page = login(client, alice).get("/s/acme-main/settings/").content.decode()
    assert "<strong>30</strong> and <strong>365</strong> days" in page
    assert f'href="{URL}"' in page
