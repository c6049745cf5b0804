"""Customer and visitor profiles: everything held, paginated in place, downloadable, audited."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from gdpr_dashboard.models import Suppression
from stores.digests import identifier_digest
from stores.models import AuditEvent
from tests.conftest import login
from tests.factories import (
    ClickFactory,
    ContentViewFactory,
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    PageViewFactory,
    VisitorFactory,
)


@pytest.fixture
def shopper(in_store):
    """A customer with two visitors, an order with two lines, and some of every event."""
    now = timezone.now()
    customer = CustomerFactory(
        customer_ref="C-777",
        email="Jane.Doe+shop@Example.com",
        name="Jane Doe",
        attributes={"age": 41, "city": "Köln"},
    )
    v1 = VisitorFactory(visitor_ref="vis-jane-1", customer=customer)
    v2 = VisitorFactory(visitor_ref="vis-jane-2", customer=customer)
    order = OrderFactory(order_ref="O-9001", customer=customer, visitor=v1, total="59.70")
    OrderLineFactory(order=order, product_ref="P-1", quantity=1, price="19.90")
    OrderLineFactory(order=order, product_ref="P-2", quantity=2, price="19.90")
    for i in range(3):
        ClickFactory(visitor=v1, product_ref=f"click-{i}", occurred_at=now - timedelta(hours=i))
    ContentViewFactory(visitor=v2, product_ref="seen-1")
    PageViewFactory(visitor=v2, url="/category/tents", title="Tents")
    connection.set_schema_to_public()
    return customer


def test_it_shows_everything_held_about_a_customer(client, bob, store, shopper):
    response = login(client, bob).get(f"/s/{store.slug}/customer/C-777/")
    assert response.status_code == 200
    html = response.content.decode()
    for expected in [
        "C-777",
        "Jane.Doe+shop@Example.com",
        "Jane Doe",
        "Köln",
        "41",
        "O-9001",
        "59.70",
        "product P-2",
        "click-0",
        "seen-1",
        "/category/tents",
        f'href="/s/{store.slug}/visitor/vis-jane-1/"',
        f'href="/s/{store.slug}/visitor/vis-jane-2/"',
    ]:
        assert expected in html, expected
    # Newest first.
    assert html.index("click-0") < html.index("click-1") < html.index("click-2")
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_it_finds_the_customer_by_email_in_any_case(client, bob, store, shopper):
    response = login(client, bob).get(f"/s/{store.slug}/customer/jane.doe+SHOP@example.COM/")
    assert response.status_code == 200
    assert "C-777" in response.content.decode()


def test_it_puts_the_forget_slot_at_the_very_end(client, alice, store, shopper):
    html = login(client, alice).get(f"/s/{store.slug}/customer/C-777/").content.decode()
    main = html[html.index("<main>") : html.index("</main>")]
    assert '<section id="forget"' in main
    assert main.rindex("<section") == main.index('<section id="forget"')


def test_it_counts_each_kind(client, bob, store, shopper):
    html = login(client, bob).get(f"/s/{store.slug}/customer/C-777/").content.decode()
    for label, n in [("Visitor ids", 2), ("Orders", 1), ("Clicks", 3), ("Content viewed", 1)]:
        assert f'{label}</a> <span class="tally">{n}</span>' in html


def test_it_paginates_a_list_in_place_and_by_plain_link(client, bob, store, in_store):
    customer = CustomerFactory(customer_ref="C-many")
    visitor = VisitorFactory(customer=customer)
    now = timezone.now()
    for i in range(45):
        ClickFactory(
            visitor=visitor, product_ref=f"p{i:02d}", occurred_at=now - timedelta(minutes=i)
        )
    connection.set_schema_to_public()
    login(client, bob)
    url = f"/s/{store.slug}/customer/C-many/"

    page = client.get(url).content.decode()
    assert 'href="?clicks_page=2#section-clicks"' in page
    assert 'hx-get="?clicks_page=2&amp;section=clicks"' in page

    fragment = client.get(url, {"clicks_page": 2, "section": "clicks"}, HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert body.lstrip().startswith('<section class="card profile-list" id="section-clicks">')
    assert "p20" in body and "p39" in body and "p19" not in body and "p40" not in body
    assert "<html" not in body

    fallback = client.get(url, {"clicks_page": 3}).content.decode()
    assert "p40" in fallback and "p44" in fallback and "<html" in fallback


def test_it_survives_a_page_number_out_of_range(client, bob, store, shopper):
    response = login(client, bob).get(
        f"/s/{store.slug}/customer/C-777/", {"clicks_page": "999", "orders_page": "x'--"}
    )
    assert response.status_code == 200


def test_it_downloads_all_data_as_one_json_document(client, bob, store, shopper):
    response = login(client, bob).get(f"/s/{store.slug}/customer/C-777/download/")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "jane" not in response["Content-Disposition"].lower()
    doc = json.loads(b"".join(response.streaming_content))
    assert doc["customer"]["customer_id"] == "C-777"
    assert {v["visitor_id"] for v in doc["visitors"]} == {"vis-jane-1", "vis-jane-2"}
    assert doc["orders"][0]["lines"][1]["product"] == "P-2"
    assert len(doc["clicks"]) == 3
    assert doc["page_views"][0]["url"] == "/category/tents"
    assert connection.schema_name == "public"


def test_it_writes_the_access_log_without_identifiers(client, bob, store, shopper):
    login(client, bob)
    client.get(f"/s/{store.slug}/customer/jane.doe+shop@example.com/")
    client.get(f"/s/{store.slug}/customer/C-777/download/")
    events = list(
        AuditEvent.objects.filter(store=store).exclude(action="store.created").order_by("pk")
    )
    assert [(e.action, e.subject_kind, e.subject_row_id, e.actor) for e in events] == [
        ("profile.view", "customer", shopper.pk, bob),
        ("profile.download", "customer", shopper.pk, bob),
    ]
    stored = json.dumps([e.detail for e in events]) + "".join(e.subject_kind for e in events)
    assert "jane" not in stored.lower() and "C-777" not in stored


def test_it_shows_a_visitor_with_its_customer(client, bob, store, shopper):
    response = login(client, bob).get(f"/s/{store.slug}/visitor/vis-jane-1/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="/s/{store.slug}/customer/C-777/"' in html
    assert "click-2" in html
    assert "O-9001" not in html  # the customer's order, not the device's
    assert "seen-1" not in html  # that was the other visitor
    event = AuditEvent.objects.exclude(action="store.created").get(store=store)
    assert (event.action, event.subject_kind) == ("profile.view", "visitor")


def test_it_downloads_a_visitor(client, bob, store, shopper):
    response = login(client, bob).get(f"/s/{store.slug}/visitor/vis-jane-2/download/")
    doc = json.loads(b"".join(response.streaming_content))
    assert doc["subject"] == {"kind": "visitor", "value": "vis-jane-2"}
    assert [c["product"] for c in doc["content_views"]] == ["seen-1"]


def test_it_says_nothing_is_held_and_names_the_other_stores(client, bob, store):
    response = login(client, bob).get(f"/s/{store.slug}/customer/nobody@example.com/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Nothing held about this person in Acme Main" in html
    assert 'href="/s/acme-outlet/customer/nobody@example.com/"' in html
    assert "Globex" not in html


def test_it_says_when_the_person_was_forgotten(client, bob, store):
    when = timezone.now() - timedelta(days=3)
    Suppression.objects.create(
        store=store,
        identifier_kind="email",
        digest=identifier_digest(store.secret, "email", "gone@example.com"),
        forgotten_at=when,
    )
    response = login(client, bob).get(f"/s/{store.slug}/customer/Gone@Example.com/")
    assert response.status_code == 404
    assert f"This person was forgotten on {when:%-d %B %Y}" in response.content.decode()


def test_it_opens_store_addresses_in_the_last_used_store(client, bob, store, outlet, shopper):
    login(client, bob)
    client.get(f"/s/{store.slug}/")
    response = client.get("/store/customer/C-777")
    assert response.status_code == 302
    assert response["Location"] == f"/s/{store.slug}/customer/C-777/"
    assert client.get("/store/visitor/vis-jane-1")["Location"] == (
        f"/s/{store.slug}/visitor/vis-jane-1/"
    )
    client.get(f"/s/{outlet.slug}/")
    assert client.get("/store/customer/C-777")["Location"] == f"/s/{outlet.slug}/customer/C-777/"


@pytest.mark.parametrize("events", [1, 200])
def test_it_renders_a_profile_with_a_fixed_number_of_queries(
    client, bob, store, in_store, django_assert_num_queries, events
):
    customer = CustomerFactory(customer_ref="C-fixed")
    visitors = [VisitorFactory(customer=customer) for _ in range(2)]
    for i in range(events):
        visitor = visitors[i % 2]
        ClickFactory(visitor=visitor)
        ContentViewFactory(visitor=visitor)
        PageViewFactory(visitor=visitor)
        order = OrderFactory(customer=customer, visitor=visitor)
        OrderLineFactory(order=order)
    connection.set_schema_to_public()
    login(client, bob)
    client.get(f"/s/{store.slug}/")  # the last store is remembered: no session write below
    # 17 queries: session, user, store, membership (its store limits with it), store schema;
    # customer, its visitors; one query for every count; one page each of visitors, orders
    # (+ their lines), clicks, content views, page views; the access-log row; the header's
    # store menu and the account menu's accounts. The session is still on the public
    # schema from the request before (no SET for it). The same for 1 and 200 events.
    with django_assert_num_queries(17):
        response = client.get(f"/s/{store.slug}/customer/C-fixed/")
    assert response.status_code == 200


def test_it_shows_orders_carrying_an_email_without_a_customer(client, bob, store, in_store):
    order = OrderFactory(order_ref="O-GUEST", email="Guest@Example.com")
    OrderLineFactory(order=order, product_ref="P-G")
    connection.set_schema_to_public()
    login(client, bob)
    response = client.get(f"/s/{store.slug}/customer/guest@example.com/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "O-GUEST" in html and "No customer record" in html
    assert 'Clicks</a> <span class="tally">0</span>' in html
    doc = json.loads(
        b"".join(
            client.get(f"/s/{store.slug}/customer/guest@example.com/download/").streaming_content
        )
    )
    assert doc["customer"] is None and doc["orders"][0]["order_id"] == "O-GUEST"
    event = AuditEvent.objects.filter(store=store, action="profile.view").get()
    assert (event.subject_kind, event.subject_row_id) == ("email", None)
