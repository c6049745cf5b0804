from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from customers import selectors
from stores.access import Need, get_store_for_user
from stores.selectors import store_notices


@login_required
def store_home(request: HttpRequest, store_slug: str) -> HttpResponse:
    access = get_store_for_user(request, store_slug, need=Need.DASHBOARD)
    return render(
        request,
        "customers/store_home.html",
        {
            "store": access.store,
            "counts": [
                (name.replace("_", " ").capitalize(), n)
                for name, n in selectors.store_counts().items()
            ],
            "notices": store_notices(store=access.store),
        },
    )
