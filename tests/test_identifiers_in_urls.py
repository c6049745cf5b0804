"""Identifiers in URL paths never change which view answers, and every console link round-trips.

Each identifier of the corpus is a customer id and a visitor id in Acme Main. Every
address the console builds for them (search hits, profile links between customer and
visitor, download and forget links, the /store/... redirects, the not-found page's links)
is followed and must open that person's page of the right kind, and nobody else's.
"""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

import pytest
from django.db import connection
from django.urls import resolve, reverse

from tests.conftest import login
from tests.factories import ClickFactory, CustomerFactory, VisitorFactory
from tests.identifier_corpus import IDENTIFIER_CORPUS

HREF = re.compile(r'href="([^"]+)"')


@pytest.fixture
def people(store):
    """Per identifier: a customer with that id and a visitor with that id, linked."""
    connection.set_tenant(store)
    made = {}
    for n, ident in enumerate(IDENTIFIER_CORPUS):
        customer = CustomerFactory(customer_ref=ident, email=None, name=f"Roundtrip Person{n:02d}")
        visitor = VisitorFactory(visitor_ref=ident, customer=customer)
        ClickFactory(visitor=visitor)
        made[ident] = (customer, visitor)
    # A bystander whose pages an identifier ending in /forget would have reached.
    CustomerFactory(customer_ref="john", name="Bystander John")
    VisitorFactory(visitor_ref="anna")
    connection.set_schema_to_public()
    return made


def _opened(client, href: str):
    """Follow a link (already HTML-unescaped) as a browser would."""
    response = client.get(href)
    # The request's own match: the test client's response.resolver_match re-resolves the raw
    # WSGI path (Latin-1), which garbles unicode the server itself decodes correctly.
    return response, response.wsgi_request.resolver_match


def _links(response) -> list[str]:
    return [html.unescape(h) for h in HREF.findall(response.content.decode())]


@pytest.mark.parametrize("ident", IDENTIFIER_CORPUS)
def test_every_address_of_an_identifier_opens_its_own_view(client, alice, people, ident):
    login(client, alice)
    expected = {
        "customer_profile": "identifier",
        "customer_download": "identifier",
        "customer_forget": "identifier",
        "visitor_profile": "visitor_ref",
        "visitor_download": "visitor_ref",
        "visitor_forget": "visitor_ref",
    }
    for name, arg in expected.items():
        path = reverse(name, args=["acme-main", ident])
        assert "/../" not in path and "/./" not in path and "?" not in path and "#" not in path
        match = resolve(unquote(path))  # the path as the server decodes it
        assert (match.url_name, match.kwargs[arg]) == (name, ident), path
        response = client.get(path)
        assert response.status_code == 200, (name, ident, response.status_code)
        assert response.wsgi_request.resolver_match.url_name == name
    profile = client.get(reverse("customer_profile", args=["acme-main", ident]))
    assert people[ident][0].name.encode() in profile.content
    assert b"Bystander John" not in profile.content


@pytest.mark.parametrize("ident", IDENTIFIER_CORPUS)
def test_every_link_on_the_pages_of_an_identifier_round_trips(client, alice, people, ident):
    login(client, alice)
    customer, _visitor = people[ident]
    checked = set()
    profile = client.get(reverse("customer_profile", args=["acme-main", ident]))
    visitor_page = client.get(reverse("visitor_profile", args=["acme-main", ident]))
    search = client.get("/search", {"q": customer.name})
    for page in (profile, visitor_page, search):
        for href in _links(page):
            if not re.search(r"/(customer|visitor)/", href):
                continue
            response, match = _opened(client, href)
            key = "identifier" if "identifier" in match.kwargs else "visitor_ref"
            assert match.kwargs[key] == ident, (href, match.kwargs)
            assert match.url_name.split("_")[0] in ("customer", "visitor"), match.url_name
            assert response.status_code == 200, (href, response.status_code)
            checked.add(match.url_name)
    # The profile links download and forget; the visitor page links its customer; the
    # search links both profiles.
    assert {"customer_profile", "customer_download", "customer_forget"} <= checked
    assert {"visitor_profile", "visitor_download", "visitor_forget"} <= checked


@pytest.mark.parametrize("ident", IDENTIFIER_CORPUS)
def test_the_article_addresses_redirect_to_the_same_identifier(client, alice, people, ident):
    login(client, alice)
    client.get("/s/acme-main/")  # the current store
    for name, target, arg in (
        ("store_customer", "customer_profile", "identifier"),
        ("store_visitor", "visitor_profile", "visitor_ref"),
    ):
        response = client.get(reverse(name, args=[ident]))
        assert response.status_code == 302, (name, ident)
        opened, match = _opened(client, response["Location"])
        assert (match.url_name, match.kwargs[arg]) == (target, ident)
        assert opened.status_code == 200


def test_the_not_found_page_links_the_same_identifier_in_the_other_stores(client, alice, db):
    login(client, alice)
    for ident in IDENTIFIER_CORPUS:
        response = client.get(reverse("customer_profile", args=["acme-main", ident]))
        assert response.status_code == 404
        others = [h for h in _links(response) if "/customer/" in h]
        assert others, ident
        for href in others:
            match = resolve(unquote(href))
            assert (match.url_name, match.kwargs["identifier"]) == ("customer_profile", ident)
