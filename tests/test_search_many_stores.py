"""The top search for a user with many stores: exact identifiers in every store, the rest in
the current one; the same exact rows the full search finds, in a few statements."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.console.search import search_stores
from customers.console.search_exact import search_stores_exact
from customers.console.search_views import FULL_SEARCH_STORES
from stores.access import LAST_STORE_SESSION_KEY
from stores.models import Account, Membership, Role, Store
from stores.schemas import on_citus
from stores.services import store_create
from tests.conftest import login
from tests.factories import CustomerFactory, VisitorFactory

N = FULL_SEARCH_STORES + 5


@pytest.fixture
def many(db, django_user_model):
    owner = django_user_model.objects.create_user(email="dpo@many.example", password="x" * 12)
    account = Account.objects.create(slug="chain", name="Chain")
    Membership.objects.create(user=owner, account=account, role=Role.OWNER)
    stores = [
        store_create(account=account, slug=f"chain-{i:02d}", name=f"Chain {i:02d}")
        for i in range(N)
    ]
    people = {
        3: [("C-1", "Ann@Example.com", "Ann Lee", "v-ann-3")],
        17: [("C-9", "ann@example.com", "Ann L.", "v-ann")],
        24: [("C-1", "bob@example.com", "Annabel", "v-bob")],
    }
    for i, rows in people.items():
        connection.set_tenant(stores[i])
        for ref, email, name, visitor in rows:
            VisitorFactory(
                visitor_ref=visitor,
                customer=CustomerFactory(customer_ref=ref, email=email, name=name),
            )
        VisitorFactory(visitor_ref="v-alone")
    connection.set_schema_to_public()
    return owner, stores


QUERIES = [
    "ann@example.com",
    "ANN@example.com",
    "C-1",
    "C-9",
    "v-ann",
    "v-alone",
    "Annabel",
    "nobody",
]


@pytest.mark.parametrize("query", QUERIES)
def test_it_finds_exactly_what_the_full_search_finds_exactly(many, query):
    _, stores = many
    exact = search_stores_exact(query, stores=stores)
    full = search_stores(query, stores=stores)
    for quick, slow in zip(exact, full, strict=True):
        assert quick.store == slow.store
        assert sorted(c["pk"] for c in quick.customers) == sorted(
            c["pk"] for c in slow.customers if c["exact"]
        )
        wanted = {v["pk"]: v for v in slow.visitors if v["exact"]}
        assert {v["pk"]: v for v in quick.visitors} == wanted


def test_it_reads_only_the_stores_the_directory_names_on_one_server(many):
    """One lookup in the public directory of digests, one statement reading the rows of
    the stores it names, only from the tables of the kinds it found there. On Citus (no
    directory) one statement per store (each store's schema lives on one node), and one
    per store with rows found."""
    _, stores = many
    with CaptureQueriesContext(connection) as queries:
        hits = search_stores_exact("ann@example.com", stores=stores)
    # A prepared statement's text is not logged (None): every other line is SET or a savepoint.
    statements = [
        q["sql"]
        for q in queries.captured_queries
        if not (q["sql"] or "").startswith(("SET ", "RESET ", "SAVEPOINT", "RELEASE SAVEPOINT"))
    ]
    if on_citus():
        assert len(statements) == len(stores) + 2
    else:
        assert len(statements) == 2
        assert "stores_subjectdigest" in statements[0]
        assert statements[1].count("UNION ALL") == 1  # two stores, their customers only
        assert "customers_visitor" not in statements[1]
    assert [h.store.slug for h in hits if not h.empty] == ["chain-03", "chain-17"]


def test_nothing_found_reads_no_store(many):
    _, stores = many
    with CaptureQueriesContext(connection) as queries:
        hits = search_stores_exact("nobody@example.com", stores=stores)
    assert all(h.empty for h in hits)
    statements = [
        q
        for q in queries.captured_queries
        if not q["sql"].startswith(("SET ", "SAVEPOINT", "RELEASE SAVEPOINT"))
    ]
    assert len(statements) == (len(stores) if on_citus() else 1)


def test_the_page_searches_the_current_store_in_full_and_the_others_exactly(client, many):
    owner, stores = many
    login(client, owner)
    session = client.session
    session[LAST_STORE_SESSION_KEY] = "chain-24"
    session.save()
    html = client.get("/search", {"q": "annab"}).content.decode()
    assert "Annabel" in html  # a part of a name, in the current store
    html = client.get("/search", {"q": "Ann L"}).content.decode()
    assert "Ann Lee" not in html  # a name in another store: exact identifiers only there
    html = client.get("/search", {"q": "ann@example.com"}).content.decode()
    assert "Chain 03" in html and "Chain 17" in html and "Ann Lee" in html
    assert f"Searched {N} stores" in html


def test_a_store_whose_schema_lacks_the_directory_triggers_is_read_every_time(many):
    """During a deploy, or after a failed migration, a store's schema may not have the
    directory's triggers yet: its people are still found."""
    _, stores = many
    lagging = stores[24]
    with connection.cursor() as cursor:
        for table, trigger in [
            ("customers_customer", "customer_digests_inserted"),
            ("customers_visitor", "visitor_digest_inserted"),
        ]:
            if not on_citus():  # Citus makes no triggers (and refuses to drop one)
                cursor.execute(f'DROP TRIGGER {trigger} ON "{lagging.schema_name}".{table}')
    Store.objects.filter(pk=lagging.pk).update(schema_state="an-older-state")
    lagging.schema_state = "an-older-state"
    connection.set_tenant(lagging)
    VisitorFactory(visitor_ref="v-ann", customer=CustomerFactory(email="ann@example.com"))
    connection.set_schema_to_public()
    hits = search_stores_exact("ann@example.com", stores=stores)
    found = [h.store.slug for h in hits if not h.empty]
    assert found == ["chain-03", "chain-17", "chain-24"]
    assert [c["email"] for c in hits[24].customers] == ["ann@example.com"]
    hits = search_stores_exact("v-ann", stores=stores)
    assert [v["visitor_ref"] for v in hits[24].visitors] == ["v-ann"]


def test_the_page_reads_in_a_fixed_number_of_queries(client, many):
    """Whatever the number of stores: session, user; the readable stores (rows); the
    directory lookup (in a transaction, here a savepoint: jit off, lookup); the rows of the
    stores it names; their models with the current store's (one statement); the current
    store's access (membership with its store limits); its full search (schema, customers,
    visitors, back to public); the audit rows; the header's store menu and account menu.
    The live results (htmx) have no header, so neither its queries nor the current store's
    access."""
    owner, stores = many
    login(client, owner)
    session = client.session
    session[LAST_STORE_SESSION_KEY] = "chain-24"
    session.save()
    client.get("/search", {"q": "ann@example.com"})
    with CaptureQueriesContext(connection) as page:
        assert client.get("/search", {"q": "ann@example.com"}).status_code == 200
    with CaptureQueriesContext(connection) as live:
        response = client.get("/search", {"q": "ann@example.com"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Ann Lee" in response.content.decode()
    if not on_citus():  # on Citus every store is read (no directory): one statement each
        assert (len(page.captured_queries), len(live.captured_queries)) == (17, 14)
