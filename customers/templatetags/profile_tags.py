"""Per-row helpers of the profile lists: a page shows up to 100 rows, so these are cheap."""

from django import template
from django.urls import reverse
from django.utils import timezone

register = template.Library()


@register.simple_tag(takes_context=True)
def visitor_href(context, store, visitor_ref: str) -> str:
    """The visitor's profile address, reversed once per visitor and page render."""
    known = context.render_context.setdefault("visitor_hrefs", {})
    if visitor_ref not in known:
        known[visitor_ref] = reverse("visitor_profile", args=[store.slug, visitor_ref])
    return known[visitor_ref]


@register.filter
def stamp(value, with_seconds: bool = True) -> str:
    """``Y-m-d H:i[:s]`` in the current time zone (as ``|date``, at a fraction of its cost)."""
    if not value:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return local.strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")
