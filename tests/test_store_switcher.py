"""An account with a thousand stores: the header lists a few and finds the rest by name."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stores.access import LAST_STORE_SESSION_KEY
from stores.context_processors import SWITCHER_STORES
from stores.models import Account, Membership, Role, Store
from tests.conftest import login


def _account(owner, n: int, slug: str = "many") -> Account:
    account = Account.objects.create(slug=slug, name=f"{slug.title()} Brand")
    Membership.objects.create(user=owner, account=account, role=Role.OWNER)
    Store.objects.bulk_create(
        Store(
            account=account,
            slug=f"{slug}-{i:04d}",
            name=f"{slug.title()} store {i:04d}",
            schema_name=f"store_{slug}_{i:04d}",
        )
        for i in range(n)
    )
    return account


def _switcher(html: str) -> str:
    return html[html.index('<nav class="switcher"') : html.index("</nav>")]


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user(email="owner@many.example", password="x" * 12)


def test_the_header_lists_a_few_stores_and_offers_to_find_the_rest(client, owner):
    _account(owner, 1000)
    login(client, owner)
    with CaptureQueriesContext(connection) as many:
        html = client.get("/").content.decode()
    menu = _switcher(html)
    assert len(re.findall(r'href="/s/many-\d+/"', menu)) == SWITCHER_STORES
    assert 'name="q"' in menu and 'href="/"' in menu
    # 60 stores a page on the store list, 17 pages.
    assert html.count('class="tiles"') == 1 and html.count("<strong>Many store") == 60
    assert "page 1 of 17" in html
    Store.objects.filter(account__slug="many").exclude(slug__in=["many-0000", "many-0001"]).delete()
    with CaptureQueriesContext(connection) as few:
        html = client.get("/").content.decode()
    assert 'name="q"' not in _switcher(html)
    assert len(many.captured_queries) <= len(few.captured_queries) + 1  # the page's count


def test_the_store_list_finds_a_store_by_name_and_pages_through_the_rest(client, owner):
    _account(owner, 1000)
    login(client, owner)
    html = client.get("/", {"q": "store 0987"}).content.decode()
    assert 'href="/s/many-0987/"' in html and "1 store" in html
    last = client.get("/", {"page": 17}).content.decode()
    assert 'href="/s/many-0999/"' in last and 'href="/s/many-0959/"' not in last
    assert "No store matches." in client.get("/", {"q": "nowhere"}).content.decode()


def test_the_header_finds_stores_as_you_type(client, owner):
    _account(owner, 1000)
    other = _account(owner, 3, slug="other")
    login(client, owner)
    found = client.get("/", {"q": "0987", "switcher": "1"}, HTTP_HX_REQUEST="true")
    assert found.content.decode().count("<li>") == 1
    assert 'href="/s/many-0987/"' in found.content.decode()
    by_account = client.get("/", {"q": other.name, "switcher": "1"}, HTTP_HX_REQUEST="true")
    assert by_account.content.decode().count("<li>") == 3


def test_it_never_lists_a_store_the_user_does_not_belong_to(client, owner, django_user_model):
    stranger = django_user_model.objects.create_user(email="x@else.example", password="x" * 12)
    _account(stranger, 20, slug="theirs")
    _account(owner, 20)
    login(client, owner)
    for response in (
        client.get("/", {"q": "theirs"}),
        client.get("/", {"q": "theirs", "switcher": "1"}, HTTP_HX_REQUEST="true"),
        client.get("/"),
    ):
        assert "theirs-" not in response.content.decode()


def test_the_store_used_last_stays_in_the_header_beyond_the_first_twelve(client, owner):
    account = _account(owner, 1000)
    login(client, owner)
    session = client.session
    session[LAST_STORE_SESSION_KEY] = "many-0777"
    session.save()
    html = client.get(f"/a/{account.slug}/gdpr/").content.decode()
    summary = _switcher(html).split("</summary>")[0]
    assert "Many store 0777" in summary


def test_a_hostile_filter_is_a_clear_error_not_a_crash(client, owner):
    _account(owner, 30)
    login(client, owner)
    for value in ("a\x00b", "bell\x07", "x" * 500):
        response = client.get("/", {"q": value})
        assert response.status_code == 200
        assert 'class="error"' in response.content.decode()
        found = client.get("/", {"q": value, "switcher": "1"}, HTTP_HX_REQUEST="true")
        assert found.status_code == 200
