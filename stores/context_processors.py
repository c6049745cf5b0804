from django.http import HttpRequest

from stores.access import stores_visible_to


def console(request: HttpRequest) -> dict:
    """The header's store switcher and account menu (one query, lazily evaluated)."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    access = getattr(request, "store_access", None)
    return {
        "visible_stores": stores_visible_to(request.user),
        "current_store": access.store if access else None,
        "current_access": access,
    }
