from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from stores.access import stores_visible_to
from stores.models import Account
from stores.services import user_language_set


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The user's accounts and stores."""
    stores = list(stores_visible_to(request.user))
    accounts = Account.objects.filter(memberships__user=request.user).order_by("name")
    return render(request, "stores/home.html", {"stores": stores, "accounts": accounts})


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """The header's language buttons: Django's set_language (cookie, back to the page),
    and for a signed-in user the choice saved on the account, so every browser gets it."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        user_language_set(user=request.user, language=language, actor=request.user)
    return response
