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
    store_access_for,
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
    # By id, not by account and name: sorting a thousand stores by name costs more than
    # reading them, and the page lists only the stores it searched in full and those with
    # hits (each read in order); by id, the statements of a user's stores read the same
    # from search to search (prepared plans). The store used last is found among them.
    readable = store_refs(stores_readable_by(request.user).order_by("pk"))
    last_slug = request.session.get(LAST_STORE_SESSION_KEY)
    current = next((s for s in readable if s.slug == last_slug), None)
    if query and is_dashboard_query(query):
        context["dashboards"] = _dashboards(request, current or last_store_for(request))
    in_full, hits = _search(query, request.user, readable, current) if query else ([], [])
    if not request.htmx and current is not None and in_full and in_full[0].pk == current.pk:
        # The header's store is the store used last: its access is read once, here (the
        # live results of the header's box have no header).
        request.store_access = store_access_for(request.user, in_full[0])
    if query:
        # Only the stores with something to show: an account may have a thousand stores.
        context["hits"] = _found(hits)
        search_access_record(actor=request.user, hits=context["hits"])
    context["found"] = bool(context["hits"])
    context.update(query=query, searched_stores=in_full, searched_count=len(readable))
    context["current_search_store"] = current and Store(pk=current.pk)
    context["exact_elsewhere"] = len(readable) > FULL_SEARCH_STORES
    context["no_reader_role"] = not readable
    template = "customers/search.html"
    return render(request, template + "#results" if request.htmx else template, context)


# Up to this many readable stores, every store is searched in full (names, parts of
# addresses and ids); beyond, the first (the current store) in full and the others for the
# exact e-mail, customer id or visitor id.
FULL_SEARCH_STORES = 20


def _search(query: str, user, readable: list, current) -> tuple[list[Store], list[StoreHits]]:
    """(the stores searched in full, the current one first; the hits of every store searched,
    those of the stores searched in full first, then the others by account and name).

    Up to ``FULL_SEARCH_STORES`` every readable store is searched in full. Beyond, the store
    used last (else the first by name) in full and the others for the exact identifier,
    before any store is read as a model: the store used last and the few stores with hits
    are then read in one statement, in the page's order."""
    if len(readable) <= FULL_SEARCH_STORES:
        in_full = sorted(_models(readable), key=lambda s: current is None or s.pk != current.pk)
        return in_full, search_stores(query, stores=in_full)
    # The store used last, else the first by name; gone if deleted since the readable
    # stores were read (then no store is searched in full).
    anchor = current or stores_readable_by(user).first()
    others = [ref for ref in readable if anchor is None or ref.pk != anchor.pk]
    found = _found(search_stores_exact(query, stores=others))
    models = _models([*([anchor] if anchor is not None else []), *(h.store for h in found)])
    in_full = [store for store in models if anchor is not None and store.pk == anchor.pk]
    by_pk = {hits.store.pk: hits for hits in found}
    exact = [replace(by_pk[store.pk], store=store) for store in models if store.pk in by_pk]
    return in_full, search_stores(query, stores=in_full) + exact


def _found(hits: list[StoreHits]) -> list[StoreHits]:
    return [found for found in hits if not found.empty]


def _models(refs: list) -> list[Store]:
    """The stores of these rows by account and name (one gone meanwhile is left out)."""
    if not refs:
        return []
    return list(
        Store.objects.select_related("account")
        .filter(pk__in=[ref.pk for ref in refs])
        .order_by("account__name", "name")
    )


def _dashboards(request: HttpRequest, current) -> list[tuple[Account, str]]:
    accounts = {s.account_id: s.account for s in stores_visible_to(request.user)}
    for account in Account.objects.filter(memberships__user=request.user):
        accounts.setdefault(account.pk, account)
    ordered = sorted(
        accounts.values(), key=lambda a: (current is None or a.pk != current.account_id, a.name)
    )
    return [(account, reverse("account_gdpr", args=[account.slug])) for account in ordered]
