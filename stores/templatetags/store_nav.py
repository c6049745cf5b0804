"""The store navigation under the header: every page of a store the role may open."""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from stores.roles import Capability

register = template.Library()


@dataclass(frozen=True)
class StorePage:
    url_name: str
    label: str
    need: Capability
    # Pages that belong under this entry (the entry is marked current on them).
    also: tuple[str, ...] = ()


STORE_PAGES = (
    StorePage("store_home", _("Overview"), Capability.VIEW_DASHBOARD),
    StorePage(
        "customer_list",
        _("Customers"),
        Capability.READ_PERSONAL_DATA,
        ("customer_profile", "visitor_profile", "customer_forget", "visitor_forget"),
    ),
    StorePage(
        "privacy_requests", _("Requests"), Capability.READ_PERSONAL_DATA, ("privacy_request",)
    ),
    StorePage("suppressions", _("Suppressions"), Capability.MANAGE_STORE),
    StorePage("store_settings", _("Settings"), Capability.MANAGE_STORE),
    StorePage("retention_settings", _("Retention"), Capability.MANAGE_STORE),
    StorePage("api_keys", _("API keys"), Capability.MANAGE_STORE),
)


@register.inclusion_tag("stores/_store_nav.html", takes_context=True)
def store_nav(context) -> dict:
    """Links for ``current_access`` (a ``StoreAccess``), each only where its role may go."""
    access = context.get("current_access")
    if callable(access):  # the context processor's lazy lookup
        access = access()
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    here = match.url_name if match else None
    links = []
    if access:
        for page in STORE_PAGES:
            if access.can(page.need):
                links.append(
                    {
                        "label": page.label,
                        "href": reverse(page.url_name, args=[access.store.slug]),
                        "current": here == page.url_name or here in page.also,
                    }
                )
    return {"links": links}
