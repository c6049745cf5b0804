"""The account's GDPR dashboard, its documents, support grants, and the public trust page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from gdpr_dashboard import selectors, services
from gdpr_dashboard.forms import SupportGrantForm
from stores.access import get_account_for_user
from stores.models import Account, Membership, SupportGrant
from stores.roles import Capability


def _owner_account(request: HttpRequest, account_slug: str) -> tuple[Account, Membership]:
    account, membership = get_account_for_user(request, account_slug)
    if not membership.can(Capability.MANAGE_SUPPORT_ACCESS):
        raise PermissionDenied("Only the account owner can manage support access.")
    return account, membership


# The per-store sections page through big accounts (the printable and DPA views list all).
STORES_PER_PAGE = 50


def _grant_form(d: selectors.Dashboard, data=None) -> SupportGrantForm:
    return SupportGrantForm(data, stores=d.all_stores)


@login_required
def dashboard(request: HttpRequest, account_slug: str) -> HttpResponse:
    account, membership = get_account_for_user(request, account_slug)
    d = selectors.dashboard_for(
        account=account,
        membership=membership,
        per_page=STORES_PER_PAGE,
        page=request.GET.get("stores"),
    )
    context = {"d": d}
    if membership.can(Capability.MANAGE_SUPPORT_ACCESS):
        context["grant_form"] = _grant_form(d)
    return render(request, "gdpr_dashboard/dashboard.html", context)


@login_required
def dashboard_print(request: HttpRequest, account_slug: str) -> HttpResponse:
    account, membership = get_account_for_user(request, account_slug)
    d = selectors.dashboard_for(account=account, membership=membership)
    return render(request, "gdpr_dashboard/print.html", {"d": d, "printable": True})


@login_required
def dpa(request: HttpRequest, account_slug: str) -> HttpResponse:
    account, membership = get_account_for_user(request, account_slug)
    d = selectors.dashboard_for(account=account, membership=membership)
    return render(request, "gdpr_dashboard/dpa.html", {"d": d})


@login_required
@require_POST
def support_grant_create(request: HttpRequest, account_slug: str) -> HttpResponse:
    account, membership = _owner_account(request, account_slug)
    d = selectors.dashboard_for(account=account, membership=membership)
    form = _grant_form(d, request.POST)
    if form.is_valid():
        try:
            services.support_grant_create(
                store=form.cleaned_data["store"],
                staff_user=form.cleaned_data["staff_email"],
                reason=form.cleaned_data["reason"],
                hours=form.cleaned_data["hours"],
                granted_by=request.user,
            )
        except ValidationError as e:
            form.add_error(None, e)
        else:
            messages.success(request, gettext("Support access granted."))
            return redirect(reverse("account_gdpr", args=[account.slug]) + "#support")
    return render(
        request, "gdpr_dashboard/dashboard.html", {"d": d, "grant_form": form}, status=400
    )


@login_required
@require_POST
def support_grant_revoke(request: HttpRequest, account_slug: str, grant_id: int) -> HttpResponse:
    account, membership = _owner_account(request, account_slug)
    # Only grants on stores this membership may see: an owner limited to some stores
    # neither sees nor revokes the grants of the others (the same 404 as an unknown grant).
    visible = [s.pk for s in selectors.dashboard_stores(account, membership)]
    grant = get_object_or_404(SupportGrant, pk=grant_id, store__account=account, store__in=visible)
    services.support_grant_revoke(grant=grant, actor=request.user)
    messages.success(request, gettext("Support access revoked."))
    return redirect(reverse("account_gdpr", args=[account.slug]) + "#support")


def trust(request: HttpRequest) -> HttpResponse:
    """Public: what a merchant sends their own DPO."""
    context = selectors.trust_page_data()
    context["now"] = timezone.now()
    return render(request, "gdpr_dashboard/trust.html", context)
