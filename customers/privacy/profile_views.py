"""Data › Customers, the customer and visitor profiles, their download, /store/... addresses.

Every page here shows personal data: it is fetched through
``get_store_for_user(need=Capability.READ_PERSONAL_DATA)`` (viewers get 403, other
accounts 404) and every read of a subject is written to the access log.
"""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from customers.privacy import export, profiles, selectors
from customers.privacy.access_log import subject_access_record
from customers.privacy.forms import CustomerListFilter
from customers.privacy.subjects import (
    InvalidIdentifier,
    Subject,
    identifier_kind_for_path,
    resolve_subject,
)
from gdpr_dashboard.suppression import forgotten_on
from stores.access import StoreAccess, get_store_for_user, last_store_for, stores_readable_by
from stores.digests import identifier_digest
from stores.roles import Capability

CUSTOMERS_PER_PAGE = 50


@login_required
@require_GET
@vary_on_headers("HX-Request")
def customer_list(request: HttpRequest, store_slug: str) -> HttpResponse:
    access = get_store_for_user(request, store_slug, need=Capability.READ_PERSONAL_DATA)
    form = CustomerListFilter(request.GET)
    form.is_valid()
    customers = selectors.customer_list(
        has_email=form.cleaned_data.get("has_email", False),
        has_orders=form.cleaned_data.get("has_orders", False),
        ordering=form.ordering(),
    )
    page = Paginator(customers, CUSTOMERS_PER_PAGE).get_page(request.GET.get("page"))
    order_counts = selectors.order_counts([c.pk for c in page.object_list])
    rows = [(c, order_counts.get(c.pk, 0)) for c in page.object_list]
    context = {"store": access.store, "form": form, "page": page, "rows": rows}
    template = "customers/customer_list.html"
    return render(request, template + "#results" if request.htmx else template, context)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def customer_profile(request: HttpRequest, store_slug: str, identifier: str) -> HttpResponse:
    access = get_store_for_user(request, store_slug, need=Capability.READ_PERSONAL_DATA)
    kind = identifier_kind_for_path(identifier)
    subject = _find_subject(kind, identifier)
    if subject is None:
        return subject_not_found(request, access, kind, identifier)
    return _profile(request, access, subject, "customers/customer_profile.html")


@login_required
@require_GET
@vary_on_headers("HX-Request")
def visitor_profile(request: HttpRequest, store_slug: str, visitor_ref: str) -> HttpResponse:
    access = get_store_for_user(request, store_slug, need=Capability.READ_PERSONAL_DATA)
    subject = _find_subject("visitor", visitor_ref)
    if subject is None or not subject.visitor_ids:
        return subject_not_found(request, access, "visitor", visitor_ref)
    return _profile(request, access, subject, "customers/visitor_profile.html")


@login_required
@require_GET
def customer_download(request: HttpRequest, store_slug: str, identifier: str) -> HttpResponse:
    access = get_store_for_user(request, store_slug, need=Capability.READ_PERSONAL_DATA)
    kind = identifier_kind_for_path(identifier)
    subject = _find_subject(kind, identifier)
    if subject is None:
        return subject_not_found(request, access, kind, identifier)
    return _download(request, access, subject)


@login_required
@require_GET
def visitor_download(request: HttpRequest, store_slug: str, visitor_ref: str) -> HttpResponse:
    access = get_store_for_user(request, store_slug, need=Capability.READ_PERSONAL_DATA)
    subject = _find_subject("visitor", visitor_ref)
    if subject is None or not subject.visitor_ids:
        return subject_not_found(request, access, "visitor", visitor_ref)
    return _download(request, access, subject)


@login_required
@require_GET
def current_store_customer(request: HttpRequest, identifier: str) -> HttpResponse:
    """The article's /store/customer/<x>: the same profile in the store used last."""
    return _in_last_store(request, "customer_profile", identifier)


@login_required
@require_GET
def current_store_visitor(request: HttpRequest, visitor_ref: str) -> HttpResponse:
    return _in_last_store(request, "visitor_profile", visitor_ref)


# --- helpers ---------------------------------------------------------------------------


def _find_subject(kind: str, value: str) -> Subject | None:
    try:
        subject = resolve_subject(kind=kind, value=value)
    except InvalidIdentifier:
        return None
    return subject if subject.exists else None


def _profile(request: HttpRequest, access: StoreAccess, subject: Subject, template: str):
    names = profiles.VISITOR_SECTIONS if subject.kind == "visitor" else profiles.CUSTOMER_SECTIONS
    fragment = request.GET.get("section") if request.htmx else None
    shown = (fragment,) if fragment in names else names
    pages = {name: request.GET.get(f"{name}_page") for name in shown}
    sections = profiles.profile_sections(subject, names=shown, page_numbers=pages)
    detail = {"section": fragment} if len(shown) == 1 else None
    subject_access_record(
        actor=request.user,
        store=access.store,
        action="profile.view",
        subject=subject,
        detail=detail,
    )
    context = {
        "store": access.store,
        "access": access,
        "subject": subject,
        "customer": subject.customer,
        "sections": sections,
        "visitor": profiles.visitor_row(subject) if subject.kind == "visitor" else None,
    }
    if detail:
        return render(request, template + "#section", {**context, "section": sections[0]})
    return render(request, template, context)


def _download(request: HttpRequest, access: StoreAccess, subject: Subject) -> HttpResponse:
    subject_access_record(
        actor=request.user, store=access.store, action="profile.download", subject=subject
    )
    filename = download_filename(access.store.slug, subject)
    chunks = export.stream_document(
        subject, store_slug=access.store.slug, generated_at=timezone.now()
    )
    response = StreamingHttpResponse(
        _in_store_schema(access.store, chunks), content_type="application/json"
    )
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "no-store"
    return response


def download_filename(store_slug: str, subject: Subject) -> str:
    """``<store>-customer-<customer id>.json`` (else the e-mail) or ``<store>-visitor-<id>.json``:
    what staff know the person by, never a row id; anything but letters, digits and
    ``.@+-`` becomes ``_`` so the name is safe on every file system."""
    if subject.kind == "visitor":
        kind, label = "visitor", subject.value
    else:
        customer = subject.customer
        label = (customer.customer_ref or customer.email) if customer else subject.value
        kind = "customer"
    safe = re.sub(r"[^A-Za-z0-9.@+\-]", "_", label or "")[:120].strip(".") or "unknown"
    return f"{store_slug}-{kind}-{safe}.json"


def _in_store_schema(store, chunks):
    """Stream in the store's schema: the middleware has reset the connection to public by now."""
    connection.set_tenant(store)
    try:
        yield from chunks
    finally:
        connection.set_schema_to_public()


def subject_not_found(
    request: HttpRequest, access: StoreAccess, kind: str, value: str
) -> HttpResponse:
    """404: nothing held here (or forgotten on <date>), and where else the user could look."""
    store = access.store
    forgotten = None
    if kind in ("email", "customer", "visitor") and value.strip():
        digest = identifier_digest(store.secret, kind, value)
        forgotten = forgotten_on(store=store, kind=kind, digest=digest)
    url_name = "visitor_profile" if kind == "visitor" else "customer_profile"
    others = [
        (other, _reverse_or_none(url_name, other.slug, value))
        for other in stores_readable_by(request.user).filter(account_id=store.account_id)
        if other.pk != store.pk
    ]
    context = {"store": store, "kind": kind, "value": value, "forgotten_on": forgotten}
    context["other_stores"] = others
    return render(request, "customers/subject_not_found.html", context, status=404)


def _reverse_or_none(url_name: str, store_slug: str, value: str) -> str | None:
    value = value.strip()
    return reverse(url_name, args=[store_slug, value]) if value else None


def _in_last_store(request: HttpRequest, url_name: str, identifier: str) -> HttpResponse:
    store = last_store_for(request)
    identifier = identifier.strip()
    if store is None or not identifier:
        raise Http404("No store to open this in.")
    return redirect(reverse(url_name, args=[store.slug, identifier]))
