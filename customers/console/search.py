"""The top search: customers and visitors by e-mail, customer id, visitor id or name.

Every branch is an index lookup with its own LIMIT, sent as one UNION ALL per
kind and store, so a short query that matches half a million rows costs no
more than a precise one:

- e-mail and customer id, exact: ``lower(email) =`` on ``customer_email_lower_idx``,
  the unique ``customer_ref`` index (exact matches are listed first);
- e-mail and name, anywhere in them, any case and accent (``müller``, ``muller`` and
  ``mueller`` find each other): ``clerk_search_fold(email) LIKE '%abc%'`` on the
  trigram indexes ``customer_email_trgm_idx`` / ``customer_name_trgm_idx``
  (``customers`` migration 0004; the function is ``stores`` migration 0005);
- queries shorter than three characters (no trigram to look up): e-mail and name
  prefixes on ``customer_email_lower_idx`` / ``customer_name_lower_idx``;
- visitor id, exact and prefix: the unique ``visitor_ref`` index and
  ``visitor_ref_lower_idx``.

Django's ``startswith`` / ``contains`` escape ``%``, ``_`` and ``\\`` in the value, so a
query never turns into a wildcard.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Func, QuerySet, TextField, Value
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from customers.models import Customer, Visitor
from stores.models import Store

MAX_QUERY_LENGTH = 254
HITS_PER_KIND = 10
# A trigram index needs three characters; shorter queries match by prefix.
SUBSTRING_MIN_LENGTH = 3

CUSTOMER_FIELDS = ("pk", "customer_ref", "email", "name", "last_seen")
VISITOR_FIELDS = ("pk", "visitor_ref", "last_seen", "customer__customer_ref", "customer__email")


class QueryRejected(ValueError):
    """A query that cannot name anybody (too long, control characters); shown to the user."""


def clean_query(raw: str) -> str:
    query = " ".join((raw or "").split())
    if len(query) > MAX_QUERY_LENGTH:
        raise QueryRejected(
            _("Searches are limited to %(n)s characters.") % {"n": MAX_QUERY_LENGTH}
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in query):
        raise QueryRejected(_("The search contains control characters."))
    return query


def is_dashboard_query(query: str) -> bool:
    return query.strip().lower() in ("gdpr", "dsgvo", "gdpr dashboard")


@dataclass
class StoreHits:
    store: Store
    customers: list[dict] = field(default_factory=list)
    visitors: list[dict] = field(default_factory=list)
    more: bool = False

    @property
    def empty(self) -> bool:
        return not self.customers and not self.visitors


class SearchFold(Func):
    """Lower case, accents and ue/ae/oe/aa folded, as the trigram indexes hold it."""

    function = "public.clerk_search_fold"
    output_field = TextField()


def _customer_branches(query: str) -> QuerySet:
    lowered = query.lower()
    limit = HITS_PER_KIND + 1
    exact_email = (
        Customer.objects.annotate(email_lower=Lower("email"), exact=Value(True))
        .filter(email_lower=lowered)
        .values(*CUSTOMER_FIELDS, "exact")
    )
    by_ref = (
        Customer.objects.annotate(exact=Value(True))
        .filter(customer_ref=query)
        .values(*CUSTOMER_FIELDS, "exact")
    )
    if len(query) >= SUBSTRING_MIN_LENGTH:
        folded = SearchFold(Value(query))
        base = Customer.objects.annotate(
            email_folded=SearchFold("email"), name_folded=SearchFold("name"), exact=Value(False)
        )
        by_email = base.filter(email_folded__contains=folded)
        by_name = base.filter(name_folded__contains=folded)
    else:
        base = Customer.objects.annotate(
            email_lower=Lower("email"), name_lower=Lower("name"), exact=Value(False)
        )
        by_email = base.filter(email_lower__startswith=lowered)
        by_name = base.filter(name_lower__startswith=lowered)
    return exact_email[:limit].union(
        by_ref[:limit],
        by_email.values(*CUSTOMER_FIELDS, "exact")[:limit],
        by_name.values(*CUSTOMER_FIELDS, "exact")[:limit],
        all=True,
    )


def _visitor_branches(query: str) -> QuerySet:
    limit = HITS_PER_KIND + 1
    exact = (
        Visitor.objects.annotate(exact=Value(True))
        .filter(visitor_ref=query)
        .values(*VISITOR_FIELDS, "exact")
    )
    prefix = (
        Visitor.objects.annotate(ref_lower=Lower("visitor_ref"), exact=Value(False))
        .filter(ref_lower__startswith=query.lower())
        .values(*VISITOR_FIELDS, "exact")
    )
    return exact[:limit].union(prefix[:limit], all=True)


def _dedupe(rows: list[dict]) -> tuple[list[dict], bool]:
    """Exact matches first, then the most recently active; one row per record."""
    seen: set[int] = set()
    unique = []
    for row in sorted(rows, key=lambda r: (not r["exact"], -r["last_seen"].timestamp())):
        if row["pk"] not in seen:
            seen.add(row["pk"])
            unique.append(row)
    return unique[:HITS_PER_KIND], len(unique) > HITS_PER_KIND


def search_current_store(query: str) -> tuple[list[dict], list[dict], bool]:
    """(customers, visitors, more) in the store whose schema is set on the connection."""
    customers, more_customers = _dedupe(list(_customer_branches(query)))
    visitors, more_visitors = _dedupe(list(_visitor_branches(query)))
    return customers, visitors, more_customers or more_visitors


def search_stores(query: str, *, stores: list[Store]) -> list[StoreHits]:
    """Search each store in its own schema, in the given order; the connection ends on public."""
    results = []
    try:
        for store in stores:
            connection.set_tenant(store)
            customers, visitors, more = search_current_store(query)
            results.append(
                StoreHits(store=store, customers=customers, visitors=visitors, more=more)
            )
    finally:
        connection.set_schema_to_public()
    return results
