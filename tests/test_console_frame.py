"""The console's frame: store navigation by role, product error pages whatever DEBUG says,
languages (Accept-Language, the header's switcher, saved per user), readable values."""

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import translation

from gdpr_dashboard.subject_labels import label_subjects
from stores.models import AuditEvent
from stores.templatetags.readable import duration
from tests.conftest import login
from tests.factories import CustomerFactory, VisitorFactory

NAV = ("Overview", "Customers", "Requests", "Suppressions", "Settings", "Retention", "API keys")


def nav_links(html: str) -> list[str]:
    nav = html.split('class="subnav"', 1)[1].split("</nav>", 1)[0]
    return [label for label in NAV if f">{label}</a>" in nav]


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("alice", NAV),  # owner
        ("bob", ("Overview", "Customers", "Requests")),  # analyst
        ("vera", ("Overview",)),  # viewer
    ],
)
def test_it_shows_each_role_the_store_pages_it_may_open(client, store, user, expected, request):
    html = login(client, request.getfixturevalue(user)).get(f"/s/{store.slug}/").content
    assert nav_links(html.decode()) == list(expected)


def test_it_keeps_the_store_on_the_search_dashboard_and_403_pages(client, bob, store):
    login(client, bob).get(f"/s/{store.slug}/")
    for path, status in (
        ("/search?q=x", 200),
        ("/a/acme/gdpr/", 200),
        (f"/s/{store.slug}/settings/", 403),
    ):
        response = client.get(path)
        assert response.status_code == status, path
        assert nav_links(response.content.decode()) == ["Overview", "Customers", "Requests"]
        assert "Choose a store" not in response.content.decode()


@pytest.mark.parametrize("debug", [True, False])
def test_it_answers_404_with_the_product_page_whatever_debug_says(
    client, alice, sam, store, foreign_store, debug
):
    with override_settings(DEBUG=debug):
        login(client, alice)
        for path in (
            "/no/such/page/",
            "/s/no-such-store/",
            f"/s/{foreign_store.slug}/",
            f"/s/{store.slug}/requests/987654/",
        ):
            response = client.get(path)
            html = response.content.decode()
            assert response.status_code == 404, path
            assert 'id="not-found"' in html and "URLconf" not in html, path
        client.force_login(sam)  # platform staff without a grant
        response = client.get(f"/s/{store.slug}/customers/")
        assert response.status_code == 404 and 'id="not-found"' in response.content.decode()
        # The API keeps its JSON errors.
        assert client.get("/api/v1/nothing-here").json()["type"] == "NotFound"


def test_it_redirects_a_missing_slash_even_with_debug_on(client, alice, store):
    with override_settings(DEBUG=True):
        response = login(client, alice).get(f"/s/{store.slug}")
    assert response.status_code == 301 and response["Location"].endswith(f"/s/{store.slug}/")


def test_it_answers_in_the_browsers_language(client, alice, store):
    login(client, alice)
    html = client.get(f"/s/{store.slug}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert '<html lang="de">' in html and ">Übersicht</a>" in html
    html = client.get(f"/s/{store.slug}/", HTTP_ACCEPT_LANGUAGE="da").content.decode()
    assert ">Overblik</a>" in html


def test_it_remembers_the_language_a_user_chose(client, alice, store):
    login(client, alice)
    response = client.post("/language/", {"language": "da", "next": f"/s/{store.slug}/"})
    assert response.status_code == 302 and response["Location"] == f"/s/{store.slug}/"
    alice.refresh_from_db()
    assert alice.language == "da"
    client.cookies.clear()  # another browser: the saved choice wins over Accept-Language
    login(client, alice)
    html = client.get(f"/s/{store.slug}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert ">Overblik</a>" in html


def test_it_refuses_an_unknown_language_and_changes_nothing(client, alice):
    login(client, alice).post("/language/", {"language": "xx", "next": "/"})
    alice.refresh_from_db()
    assert alice.language == ""


def test_it_writes_durations_in_hours_and_minutes():
    assert duration(47) == "47 s"
    assert duration(300) == "5 min"
    assert duration(3 * 3600 + 12 * 60 + 5) == "3 h 12 min"
    assert duration(279425) == "77 h 37 min"
    assert duration(7200) == "2 h"
    with translation.override("de"):
        assert duration(3 * 3600 + 12 * 60) == "3 Std. 12 Min."
        assert duration(5000 * 3600) == "5.000 Std."


def test_it_writes_thousands_separators_on_the_dashboard(client, alice, store):
    from django.utils import timezone

    from gdpr_dashboard.models import InventorySnapshot

    InventorySnapshot.objects.update_or_create(
        store=store,
        defaults={
            "counts": {"visitors": 102279, "page_views": 5000, "customers": 1234},
            "refreshed_at": timezone.now(),
        },
    )
    login(client, alice)
    english = client.get("/a/acme/gdpr/").content.decode()
    assert "102,279 visitors, 5,000 events" in english and "1,234 customers" in english
    german = client.get("/a/acme/gdpr/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "102.279 Besucher, 5.000 Ereignisse" in german and "DSGVO-Dashboard" in german


def test_it_names_downloads_by_the_customer_id(client, bob, store):
    connection.set_tenant(store)
    CustomerFactory(customer_ref="C-77/x", email="dl@example.com")
    VisitorFactory(visitor_ref="vis-dl-1")
    connection.set_schema_to_public()
    login(client, bob)
    response = client.get(f"/s/{store.slug}/customer/dl@example.com/download/")
    assert 'filename="acme-main-customer-C-77_x.json"' in response["Content-Disposition"]
    response = client.get(f"/s/{store.slug}/visitor/vis-dl-1/download/")
    assert 'filename="acme-main-visitor-vis-dl-1.json"' in response["Content-Disposition"]


def test_the_access_log_shows_ids_to_readers_only(client, alice, vera, store):
    connection.set_tenant(store)
    customer = CustomerFactory(customer_ref="C-LOG-1")
    visitor = VisitorFactory(visitor_ref="vis-log-1")
    connection.set_schema_to_public()
    for kind, pk in (("customer", customer.pk), ("visitor", visitor.pk)):
        AuditEvent.objects.create(
            account=store.account,
            store=store,
            actor=alice,
            action="profile.view",
            subject_kind=kind,
            subject_row_id=pk,
        )
    owner_html = login(client, alice).get("/a/acme/gdpr/").content.decode()
    assert "C-LOG-1" in owner_html and "vis-log-1" in owner_html
    viewer_html = login(client, vera).get("/a/acme/gdpr/").content.decode()
    assert "C-LOG-1" not in viewer_html and "vis-log-1" not in viewer_html


def test_the_access_log_survives_a_deleted_store(store, alice):
    event = AuditEvent(action="profile.view", subject_kind="customer", subject_row_id=5)
    event.store = None
    label_subjects([event], reads_personal_data=True)
    assert event.subject_label is None
