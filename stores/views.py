from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from stores.access import stores_visible_to
from stores.models import Account


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The user's accounts and stores."""
    stores = list(stores_visible_to(request.user))
    accounts = Account.objects.filter(memberships__user=request.user).order_by("name")
    return render(request, "stores/home.html", {"stores": stores, "accounts": accounts})


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
