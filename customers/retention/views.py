"""Store settings › Retention: the bounds the policy picks within (linked from settings)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from customers.retention import services
from customers.retention.forms import RetentionSettingsForm
from stores.access import get_store_for_user
from stores.roles import Capability


@login_required
def retention_settings(request: HttpRequest, store_slug: str) -> HttpResponse:
    access = get_store_for_user(request, store_slug, need=Capability.MANAGE_STORE)
    store = access.store
    initial = {"min_days": store.retention_min_days, "max_days": store.retention_max_days}
    form = RetentionSettingsForm(
        request.POST if request.method == "POST" else None, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        services.store_retention_update(
            store=store,
            actor=request.user,
            min_days=form.cleaned_data["min_days"],
            max_days=form.cleaned_data["max_days"],
        )
        messages.success(request, _("Retention settings saved."))
        return redirect("retention_settings", store_slug=store.slug)
    return render(request, "customers/retention_settings.html", {"store": store, "form": form})
