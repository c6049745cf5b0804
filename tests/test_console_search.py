"""/search: e-mail exact and anywhere, ids, names (any case and accent); readable stores only."""

import pytest
from django.db import connection

from customers.console.search import _customer_branches, _visitor_branches
from stores.models import AuditEvent
from tests.conftest import login
from tests.factories import CustomerFactory, VisitorFactory


@pytest.fixture
def shoppers(store, outlet, foreign_store):
    connection.set_tenant(store)
    jane = CustomerFactory(customer_ref="C-100", email="jane.doe+news@example.com", name="Jane Doe")
    VisitorFactory(visitor_ref="vis-AbC-123", customer=jane)
    CustomerFactory(customer_ref="C-101", email="janet@example.com", name="Janet Roe")
    CustomerFactory(customer_ref="C-102", email="under_score@example.com", name="Percy")
    connection.set_tenant(outlet)
    CustomerFactory(customer_ref="C-500", email="jane.doe+news@example.com", name="Jane Outlet")
    connection.set_tenant(foreign_store)
    CustomerFactory(customer_ref="G-1", email="jane.doe+news@example.com", name="Jane Globex")
    connection.set_schema_to_public()
    return jane


def search(client, q, **extra):
    return client.get("/search", {"q": q}, **extra)


def test_it_finds_an_email_exactly_and_by_prefix(client, bob, shoppers):
    login(client, bob)
    exact = search(client, "jane.doe+news@example.com").content.decode()
    assert "/s/acme-main/customer/C-100/" in exact
    prefix = search(client, "jan").content.decode()
    assert "/s/acme-main/customer/C-100/" in prefix and "/s/acme-main/customer/C-101/" in prefix


def test_it_ignores_case(client, bob, shoppers):
    html = search(login(client, bob), "JANE.DOE+NEWS@EXAMPLE.COM").content.decode()
    assert "/s/acme-main/customer/C-100/" in html


def test_it_finds_customer_ids_visitor_ids_and_names(client, bob, shoppers):
    login(client, bob)
    assert "/s/acme-main/customer/C-101/" in search(client, "C-101").content.decode()
    by_visitor = search(client, "vis-AbC-123").content.decode()
    assert "/s/acme-main/visitor/vis-AbC-123/" in by_visitor
    assert "/s/acme-main/visitor/vis-AbC-123/" in search(client, "VIS-abc").content.decode()
    assert "/s/acme-main/customer/C-102/" in search(client, "perc").content.decode()


def test_it_groups_customers_and_visitors(client, bob, shoppers):
    html = search(login(client, bob), "vis-abc").content.decode()
    assert "<h3>Visitors</h3>" in html and "<h3>Customers</h3>" not in html
    html = search(client, "jane").content.decode()
    assert "<h3>Customers</h3>" in html


def test_it_treats_wildcards_literally(client, bob, shoppers):
    login(client, bob)
    assert "C-100" not in search(client, "%").content.decode()
    assert "C-100" not in search(client, "_").content.decode()
    underscore = search(client, "under_").content.decode()
    assert "C-102" in underscore and "C-100" not in underscore
    assert "C-102" not in search(client, "under%").content.decode()


def test_it_searches_only_stores_whose_personal_data_the_user_reads(client, bob, shoppers):
    html = search(login(client, bob), "jane.doe+news@example.com").content.decode()
    assert "C-100" in html and "C-500" in html  # both Acme stores, and it says which
    assert "Acme Outlet" in html
    assert "G-1" not in html and "Globex" not in html


def test_it_lists_the_current_store_first(client, bob, shoppers, outlet):
    login(client, bob).get(f"/s/{outlet.slug}/")
    html = search(client, "jane.doe+news@example.com").content.decode()
    assert html.index("C-500") < html.index("C-100")
    assert "current store" in html


def test_it_limits_an_admin_to_their_stores(client, adam, shoppers):
    html = search(login(client, adam), "jane").content.decode()
    assert "C-500" in html and "C-100" not in html


def test_it_searches_nothing_for_a_viewer(client, vera, shoppers):
    html = search(login(client, vera), "jane").content.decode()
    assert "C-100" not in html and "does not include personal data" in html
    assert not AuditEvent.objects.filter(action="search").exists()


def test_it_offers_the_gdpr_dashboard_first(client, vera, shoppers):
    html = search(login(client, vera), "GDPR").content.decode()
    assert 'href="/a/acme/gdpr/"' in html
    assert "ACME OUTDOOR › GDPR" in html


def test_it_answers_htmx_with_the_results_fragment_only(client, bob, shoppers):
    response = search(login(client, bob), "jan", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "C-100" in body and "<html" not in body
    assert "HX-Request" in response["Vary"]


def test_it_records_searches_that_show_personal_data(client, bob, store, shoppers):
    login(client, bob)
    search(client, "jane.doe+news@example.com")
    search(client, "no-such-person@example.com")
    events = AuditEvent.objects.filter(action="search", actor=bob).order_by("store__slug")
    assert [e.store.slug for e in events] == ["acme-main", "acme-outlet"]
    assert events[0].detail == {"customer_ids": [shoppers.pk], "visitor_ids": []}
    assert "jane" not in str([e.detail for e in events])


def test_it_uses_the_indexes_for_substring_search(store):
    """The plan on 20,000 customers and visitors: index scans only, never a seq scan."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            pytest.skip("this PostgreSQL has no pg_trgm (the embedded pgserver): no trigram index")
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'citus'")
        if cursor.fetchone() is not None:
            pytest.skip("on Citus the workers lack the folding function: no trigram index there")
    connection.set_tenant(store)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customers_customer (customer_ref, email, name, attributes, "
            "email_digest, customer_digest, first_seen, last_seen) "
            "SELECT 'X-' || i, 'user' || i || '@example.com', 'Name ' || i, '{}', '', '', "
            "now(), now() FROM generate_series(1, 20000) AS i"
        )
        cursor.execute(
            "INSERT INTO customers_visitor (visitor_ref, visitor_digest, first_seen, last_seen, "
            "visit_count, visit_days, total_duration_seconds) "
            "SELECT 'v-' || md5(i::text), '', now(), now(), 1, 1, 0 "
            "FROM generate_series(1, 20000) AS i"
        )
        cursor.execute("ANALYZE customers_customer")
        cursor.execute("ANALYZE customers_visitor")
    plans = []
    for queryset in (_customer_branches("user123"), _visitor_branches("v-abc")):
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            # On 20,000 rows a scan can cost about as much as the trigram index (GIN's pending
            # list after a bulk insert weighs in): the test asks whether every branch *can*
            # use its index; the 1,000,000-row bench measures what the planner picks there.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    customer_plan, visitor_plan = plans
    assert "customer_email_lower_idx" in customer_plan  # the exact e-mail
    assert "customer_email_trgm_idx" in customer_plan, customer_plan  # anywhere in the e-mail
    assert "customer_name_trgm_idx" in customer_plan
    assert "customer_ref_unique" in customer_plan
    assert "visitor_ref_lower_idx" in visitor_plan
    assert "Seq Scan" not in customer_plan + visitor_plan


def test_it_puts_the_dashboard_before_any_person_named_gdpr(client, bob, store, shoppers):
    connection.set_tenant(store)
    CustomerFactory(customer_ref="C-GDPR", email="gdpr@example.com")
    connection.set_schema_to_public()
    html = search(login(client, bob), "gdpr", HTTP_HX_REQUEST="true").content.decode()
    assert "C-GDPR" in html
    assert html.index('href="/a/acme/gdpr/"') < html.index("/customer/C-GDPR/")


def test_it_searches_with_two_queries_per_store(client, bob, shoppers, django_assert_num_queries):
    login(client, bob)
    client.get("/search", {"q": "nobody-at-all"}, HTTP_HX_REQUEST="true")
    # Public schema reset, session, user, readable stores (as rows), the stores searched in
    # full (as models); per store (2): schema switch, customers, visitors. No hits: no
    # access-log row (and the switch back to public is only sent with the next query).
    with django_assert_num_queries(11):
        client.get("/search", {"q": "nobody-at-all"}, HTTP_HX_REQUEST="true")


def test_it_finds_an_email_without_its_first_letters(client, bob, shoppers):
    html = search(login(client, bob), "e.doe+news@exam").content.decode()
    assert "/s/acme-main/customer/C-100/" in html


@pytest.mark.parametrize("query", ["mueller", "muller", "MÜLLER", "üller", "Jorgen", "Jørgen"])
def test_it_finds_names_whatever_the_accents(client, bob, store, query):
    connection.set_tenant(store)
    CustomerFactory(customer_ref="C-MU", email="k.mueller@example.com", name="Käthe Müller")
    CustomerFactory(customer_ref="C-JO", email="jorgen@example.dk", name="Jørgen Ærø")
    connection.set_schema_to_public()
    html = search(login(client, bob), query).content.decode()
    wanted = "C-JO" if query.lower().startswith(("jorgen", "jørgen")) else "C-MU"
    assert f"/s/acme-main/customer/{wanted}/" in html


def test_it_lists_the_exact_customer_id_first(client, bob, store):
    connection.set_tenant(store)
    CustomerFactory(customer_ref="C-7", email="other.c-7x@example.com")
    CustomerFactory(customer_ref="X-1", email="c-7@example.com")
    connection.set_schema_to_public()
    html = search(login(client, bob), "C-7").content.decode()
    assert html.index("/customer/C-7/") < html.index("/customer/X-1/")


def test_it_never_says_nothing_found_while_it_offers_the_dashboard(client, bob, shoppers):
    html = search(login(client, bob), "GDPR").content.decode()
    assert 'href="/a/acme/gdpr/"' in html
    assert "Nothing found" not in html


def test_it_gives_viewers_no_personal_data_search(client, vera, store):
    html = login(client, vera).get(f"/s/{store.slug}/").content.decode()
    assert 'name="q"' not in html
    assert "/a/acme/gdpr/" in html  # the dashboard stays one click away


def test_it_gives_readers_the_search_on_every_page(client, bob, store):
    login(client, bob)
    for path in ("/", f"/s/{store.slug}/", "/a/acme/gdpr/"):
        assert 'role="search"' in client.get(path).content.decode(), path
