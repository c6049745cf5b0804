"""Owner/admin pages of a store: collection settings and API keys."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from customers.api.keys import api_key_create, api_key_revoke
from customers.console.forms import ApiKeyForm, StoreSettingsForm
from customers.console.services import COLLECTION_FIELDS, store_settings_update
from stores.access import get_store_for_user
from stores.models import ApiKey
from stores.roles import Capability


@login_required
@require_http_methods(["GET", "POST"])
def store_settings(request: HttpRequest, store_slug: str) -> HttpResponse:
    store = get_store_for_user(request, store_slug, need=Capability.MANAGE_STORE).store
    form = StoreSettingsForm(request.POST or None, instance=store)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in COLLECTION_FIELDS}
        changed = store_settings_update(store=store, actor=request.user, values=values)
        messages.success(request, _("Settings saved.") if changed else _("Nothing changed."))
        return redirect("store_settings", store_slug=store.slug)
    return render(request, "customers/store_settings.html", {"store": store, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest, store_slug: str) -> HttpResponse:
    store = get_store_for_user(request, store_slug, need=Capability.MANAGE_STORE).store
    issued, status = None, 200
    if request.method == "POST":
        form = ApiKeyForm(request.POST)
        if form.is_valid():
            issued = api_key_create(
                store=store, label=form.cleaned_data["label"], actor=request.user
            )
        else:
            status = 400
            for error in form.errors.get("label", []):
                messages.error(request, f"Label: {error}")
    keys = ApiKey.objects.filter(store=store).select_related("created_by").order_by("-created_at")
    # The private key is in this one response only; never cache it.
    response = render(
        request,
        "customers/api_keys.html",
        {"store": store, "keys": keys, "issued": issued},
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_key_revoke_view(request: HttpRequest, store_slug: str, key_id: int) -> HttpResponse:
    store = get_store_for_user(request, store_slug, need=Capability.MANAGE_STORE).store
    api_key = get_object_or_404(ApiKey, store=store, pk=key_id)
    api_key_revoke(api_key=api_key, actor=request.user)
    messages.success(
        request, _("Key %(key)s… revoked; calls with it now fail.") % {"key": api_key.key[:8]}
    )
    return redirect("api_keys", store_slug=store.slug)
