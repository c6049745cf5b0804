"""/search?q=: the search field at the top of every page (live results via htmx)."""

from __future__ import annotations

from dataclasses import replace

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from customers.console.search import (
    QueryRejected,
    StoreHits,
    clean_query,
    is_dashboard_query,
    search_stores,
)
from customers.console.search_exact import search_stores_exact
from customers.privacy.access_log import search_access_record
from stores.access import (
    LAST_STORE_SESSION_KEY,
    last_store_for,
    stores_readable_by,
    stores_visible_to,
)
from stores.models import Account, Store
from stores.selectors import store_refs


@login_required
@require_GET
@vary_on_headers("HX-Request")
def search(request: HttpRequest) -> HttpResponse:
    context: dict = {"search_query": request.GET.get("q", "")[:300], "error": None, "hits": []}
    try:
        query = clean_query(request.GET.get("q", ""))
    except QueryRejected as rejected:
        query, context["error"] = "", str(rejected)
    # The store used last comes first; found among the readable stores (no extra query).
    last_slug = request.session.get(LAST_STORE_SESSION_KEY)
    readable = store_refs(stores_readable_by(request.user))
    current = next((s for s in readable if s.slug == last_slug), None)
    readable = _current_first(readable, current)
    if query and is_dashboard_query(query):
        context["dashboards"] = _dashboards(request, current or last_store_for(request))
    if query:
        # Only the stores with something to show: an account may have a thousand stores.
        context["hits"] = _as_stores([found for found in _hits(query, readable) if not found.empty])
        search_access_record(actor=request.user, hits=context["hits"])
    context["found"] = bool(context["hits"])
    context.update(query=query, searched_stores=readable)
    context["current_search_store"] = current and Store(pk=current.pk)
    context["exact_elsewhere"] = len(readable) > FULL_SEARCH_STORES
    context["no_reader_role"] = not readable
    template = "customers/search.html"
    return render(request, template + "#results" if request.htmx else template, context)


# Up to this many readable stores, every store is searched in full (names, parts of
# addresses and ids); beyond, the first (the current store) in full and the others for the
# exact e-mail, customer id or visitor id.
FULL_SEARCH_STORES = 20


def _hits(query: str, readable: list) -> list[StoreHits]:
    if len(readable) <= FULL_SEARCH_STORES:
        return search_stores(query, stores=_models(readable))
    first, others = readable[:1], readable[1:]
    return search_stores(query, stores=_models(first)) + search_stores_exact(query, stores=others)


def _models(refs: list) -> list[Store]:
    """The stores of these rows, in their order (one gone meanwhile is left out)."""
    stores = Store.objects.select_related("account").in_bulk([ref.pk for ref in refs])
    return [stores[ref.pk] for ref in refs if ref.pk in stores]


def _as_stores(hits: list[StoreHits]) -> list[StoreHits]:
    """The hits with a store model each: those found in stores searched exactly had a row."""
    rows = [found.store for found in hits if not isinstance(found.store, Store)]
    stores = {store.pk: store for store in _models(rows)} if rows else {}
    return [
        found if isinstance(found.store, Store) else replace(found, store=stores[found.store.pk])
        for found in hits
        if isinstance(found.store, Store) or found.store.pk in stores
    ]


def _current_first(stores: list, current) -> list:
    return sorted(stores, key=lambda s: current is None or s.pk != current.pk)


def _dashboards(request: HttpRequest, current) -> list[tuple[Account, str]]:
    accounts = {s.account_id: s.account for s in stores_visible_to(request.user)}
    for account in Account.objects.filter(memberships__user=request.user):
        accounts.setdefault(account.pk, account)
    ordered = sorted(
        accounts.values(), key=lambda a: (current is None or a.pk != current.account_id, a.name)
    )
    return [(account, reverse("account_gdpr", args=[account.slug])) for account in ordered]
