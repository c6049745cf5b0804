"""Forget pages of one store: confirm, request status (htmx polling), requests, suppressions."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST

from customers.privacy import selectors as forget_selectors
from customers.privacy.forget_requests import forget_request_create, suppression_lift
from customers.privacy.subjects import InvalidIdentifier, identifier_kind_for_path, resolve_subject
from gdpr_dashboard.models import RequestStatus, RequestVia
from stores.access import get_store_for_user
from stores.roles import Capability

PAGE_SIZE = 50


@login_required
@require_http_methods(["GET", "POST"])
def customer_forget(request: HttpRequest, store_slug: str, identifier: str) -> HttpResponse:
    return _forget_page(request, store_slug, identifier_kind_for_path(identifier), identifier)


@login_required
@require_http_methods(["GET", "POST"])
def visitor_forget(request: HttpRequest, store_slug: str, visitor_ref: str) -> HttpResponse:
    return _forget_page(request, store_slug, "visitor", visitor_ref)


def _forget_page(request: HttpRequest, store_slug: str, kind: str, value: str) -> HttpResponse:
    """GET: what will be deleted and kept. POST: make the request, go to its status page."""
    access = get_store_for_user(request, store_slug, need=Capability.FORGET)
    try:
        subject = resolve_subject(kind=kind, value=value)
    except InvalidIdentifier:
        raise Http404("No such person.") from None
    context = {"store": access.store, "subject": subject}
    if not subject.exists:
        context["forgotten_at"] = forget_selectors.forgotten_at_for(
            store=access.store, kind=kind, value=subject.value
        )
        # "Forgotten on <date>" is an answer (200); nothing ever held is a 404.
        status = 200 if context["forgotten_at"] else 404
        return render(request, "customers/forget_nothing_held.html", context, status=status)
    if request.method == "POST":
        privacy_request = forget_request_create(
            store=access.store, kind=kind, value=value, via=RequestVia.UI, actor=request.user
        )
        return redirect("privacy_request", access.store.slug, privacy_request.pk)
    context["preview"] = forget_selectors.forget_preview(subject)
    context["backup_days"] = settings.BACKUP_RETENTION_DAYS
    return render(request, "customers/forget_confirm.html", context)


@login_required
def privacy_request(request: HttpRequest, store_slug: str, request_id: int) -> HttpResponse:
    """The status page; htmx polls its #status fragment every second until done or failed."""
    access = get_store_for_user(request, store_slug, need=Capability.READ_PERSONAL_DATA)
    privacy_request = get_object_or_404(
        forget_selectors.store_forget_requests(access.store), pk=request_id
    )
    template = "customers/privacy_request.html"
    response = render(
        request,
        template + "#status" if request.htmx else template,
        {
            "store": access.store,
            "pr": privacy_request,
            "open": privacy_request.status not in (RequestStatus.DONE, RequestStatus.FAILED),
            "backup_days": settings.BACKUP_RETENTION_DAYS,
        },
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
def privacy_requests(request: HttpRequest, store_slug: str) -> HttpResponse:
    access = get_store_for_user(request, store_slug, need=Capability.READ_PERSONAL_DATA)
    page = Paginator(forget_selectors.store_forget_requests(access.store), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "customers/privacy_requests.html", {"store": access.store, "page": page})


@login_required
def suppressions(request: HttpRequest, store_slug: str) -> HttpResponse:
    access = get_store_for_user(request, store_slug, need=Capability.MANAGE_STORE)
    page = Paginator(forget_selectors.store_suppressions(access.store), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    is_owner = access.can(Capability.LIFT_SUPPRESSION)
    return render(
        request,
        "customers/suppressions.html",
        {"store": access.store, "page": page, "is_owner": is_owner},
    )


@login_required
@require_POST
def suppression_lift_view(
    request: HttpRequest, store_slug: str, suppression_id: int
) -> HttpResponse:
    access = get_store_for_user(request, store_slug, need=Capability.MANAGE_STORE)
    if not access.can(Capability.LIFT_SUPPRESSION):
        raise PermissionDenied("Only an owner can lift a suppression.")
    suppression = get_object_or_404(
        forget_selectors.store_suppressions(access.store), pk=suppression_id
    )
    suppression_lift(suppression=suppression, actor=request.user)
    return redirect("suppressions", access.store.slug)
