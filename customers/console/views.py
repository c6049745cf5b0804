from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from customers.inventory import store_counts
from stores.access import get_store_for_user
from stores.roles import Capability
from stores.selectors import store_notices

COUNT_LABELS = {
    "customers": _("Customers"),
    "visitors": _("Visitors"),
    "page_views": _("Page views"),
    "content_views": _("Content views"),
    "clicks": _("Clicks"),
    "orders": _("Orders"),
}


@login_required
def store_home(request: HttpRequest, store_slug: str) -> HttpResponse:
    access = get_store_for_user(request, store_slug, need=Capability.VIEW_DASHBOARD)
    return render(
        request,
        "customers/store_home.html",
        {
            "store": access.store,
            "counts": [(COUNT_LABELS.get(name, name), n) for name, n in store_counts().items()],
            "notices": store_notices(store=access.store),
        },
    )
