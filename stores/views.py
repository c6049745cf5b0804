from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from stores.access import stores_matching
from stores.forms import StoreFilterForm
from stores.models import Store
from stores.services import user_language_set

STORES_PER_PAGE = 60
SWITCHER_FOUND = 12


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The user's stores by account, a page at a time, found by name (``q``). The header's
    store menu asks here too (htmx, ``switcher``): the first matches as list items."""
    form = StoreFilterForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    stores = stores_matching(request.user, query) if form.is_valid() else Store.objects.none()
    if request.htmx and request.GET.get("switcher"):
        found = stores[:SWITCHER_FOUND] if query else []
        return render(request, "stores/_switcher_found.html", {"found": found})
    page = Paginator(stores, STORES_PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "query": query, "form": form}
    return render(request, "stores/home.html", context)


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
