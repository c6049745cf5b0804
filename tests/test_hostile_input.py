"""Hostile input over the console: every URL pattern's arguments and query, and every form.

Nothing here may answer 5xx, and nothing sent may come back unescaped.  The
URLs come from the resolver (tests/urlwalk.py), so pages added later are
covered; the corpus is the usual suspects for search boxes and profile paths.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest
from django.test import Client

from tests.urlwalk import build_path, url_patterns

CORPUS = [
    "",
    " ",
    "'; DROP TABLE customers_customer; --",
    "' OR '1'='1",
    '" OR ""="',
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "%",
    "_",
    "%_%",
    "a%b_c\\",
    "\\",
    "x" * 10_000,
    "ü" * 3_000,
    "\x00",
    "a\x00b@example.com",
    "\x01\x1f\x7f",
    "\u202eevil",
    "😀@example.com",
    "Ünïcødé@exämple.com",
    "UPPER+Tag@EXAMPLE.COM",
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "{{7*7}}",
    "${7*7}",
    "{% debug %}",
    "null",
    "[]",
    '{"$ne": null}',
    "-1",
    "0",
    "99999999999999999999999999",
    "1e309",
    "NaN",
]
# The walks over every URL use the sharpest few (the console's own tests, e.g.
# tests/test_console_bad_input.py, run bigger corpora on the pages they own).
WALK_CORPUS = [
    "'; DROP TABLE customers_customer; --",
    "<script>alert(1)</script>",
    "%_%",
    "x" * 10_000,
    "\x00",
    "\x01\x7f",
    "\u202e😀",
    "../../etc/passwd",
    "{{7*7}}",
    "99999999999999999999999999",
]
# The query arguments console pages are known to read (search, pagination, sort, filters).
QUERY_NAMES = ["q", "page", "sort", "order", "filter", "has_email", "has_orders", "kind", "next"]
MARKUP = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')


@pytest.fixture
def owner_client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def _walked(values: dict[str, str]):
    for url in url_patterns():
        if url.namespace == "admin" or url.key.startswith("admin/"):
            continue  # Django's own admin; its login form is covered below
        if all(name in values for name in url.kwargs):
            yield url


def _check(response, sent: str, where: str, problems: list[str]) -> None:
    if response.status_code >= 500:
        problems.append(f"{where}: {response.status_code}")
        return
    if sent in MARKUP and not response.streaming and sent.encode() in response.content:
        problems.append(f"{where}: markup echoed unescaped")


@pytest.fixture
def real_values(store) -> dict[str, str]:
    return {
        "store_slug": store.slug,
        "store": store.slug,
        "slug": store.slug,
        "account_slug": store.account.slug,
        "account": store.account.slug,
    }


def test_no_url_argument_breaks_a_page(owner_client, real_values):
    problems: list[str] = []
    for url in _walked({**real_values, **{n: "x" for u in url_patterns() for n in u.kwargs}}):
        for name in url.kwargs:
            for value in WALK_CORPUS:
                if not value:
                    continue
                values = {n: real_values.get(n, "1") for n in url.kwargs}
                values[name] = quote(value, safe="")
                path = build_path(url, values)
                response = owner_client.get(path)
                _check(response, value, f"{url.key} {name}={value[:30]!r}", problems)
    assert not problems, "\n".join(problems)


def test_no_query_argument_breaks_a_page(owner_client, real_values):
    problems: list[str] = []
    filled = {n: real_values.get(n, "1") for u in url_patterns() for n in u.kwargs}
    for url in _walked({**filled, **real_values}):
        path = build_path(url, {**filled, **real_values})
        for value in WALK_CORPUS:
            query = urlencode({name: value for name in QUERY_NAMES})
            response = owner_client.get(f"{path}?{query}")
            _check(response, value, f"{url.key} ?{value[:30]!r}", problems)
            if value in MARKUP and response.get("Content-Type", "").startswith("text/html"):
                # htmx fragment requests take the same arguments.
                response = owner_client.get(f"{path}?{query}", HTTP_HX_REQUEST="true")
                _check(response, value, f"{url.key} (htmx) ?{value[:30]!r}", problems)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_the_login_forms_survive_hostile_input(db, client, settings, path):
    # Unknown users still cost one hash (timing); a fast hasher keeps this test quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    problems: list[str] = []
    for value in CORPUS:
        response = client.post(path, {"username": value, "password": value, "next": value})
        _check(response, value, f"{path} {value[:30]!r}", problems)
        if response.status_code == 302:
            # An open redirect through ?next= would be a finding too.
            assert not response["Location"].startswith(("http", "//")), response["Location"]
    assert not problems, "\n".join(problems)


def test_a_hostile_next_parameter_never_redirects_off_site(client, alice):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"):
        client.logout()
        response = client.post(
            "/login/",
            {"username": alice.email, "password": "correct-horse-battery", "next": target},
        )
        assert response.status_code == 302
        assert response["Location"] == "/", target


def test_an_api_key_label_from_the_corpus_is_refused_or_stored_never_a_500(owner_client, store):
    from stores.models import ApiKey

    problems: list[str] = []
    for value in CORPUS:
        response = owner_client.post(f"/s/{store.slug}/api-keys/", {"label": value})
        _check(response, value, f"api key label {value[:30]!r}", problems)
        if response.status_code == 400:
            assert b"Label:" in response.content
    assert not problems, "\n".join(problems)
    labels = list(ApiKey.objects.filter(store=store).values_list("label", flat=True))
    assert all("\x00" not in label and len(label) <= 100 for label in labels)
    assert ApiKey.objects.filter(store=store, label="{{7*7}}").exists()
