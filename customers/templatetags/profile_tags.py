"""Per-row helpers of the profile lists: a page shows up to 100 rows, so these are cheap."""

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from stores.templatetags.readable import duration

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


# The three event lists are most of a heavy profile (20 rows each per page): their rows are
# built here with format_html (every value escaped) instead of ~20 template lookups per row.


def _or_dash(value) -> object:
    return value if value else "–"


def _click_row(r: dict, href) -> str:
    return format_html(
        '<tr><td>{}</td><td>{}{}</td><td>{}</td><td class="num">{}</td><td>{}</td>'
        '<td><a href="{}">{}</a></td></tr>',
        stamp(r["time"]),
        r["product"],
        format_html(' <span class="badge">{}</span>', _("external")) if r["external"] else "",
        _or_dash(r["placement"]),
        "–" if r["position"] is None else r["position"],
        ", ".join(str(label) for label in r["labels"] or ()),
        href(r["visitor_id"]),
        r["visitor_id"],
    )


def _content_view_row(r: dict, href) -> str:
    return format_html(
        '<tr><td>{}</td><td>{}</td><td>{}</td><td><a href="{}">{}</a></td></tr>',
        stamp(r["time"]),
        r["product"],
        _or_dash(r["placement"]),
        href(r["visitor_id"]),
        r["visitor_id"],
    )


def _page_view_row(r: dict, href) -> str:
    title = format_html('<br><span class="muted small">{}</span>', r["title"]) if r["title"] else ""
    return format_html(
        '<tr><td>{}</td><td><span class="url">{}</span>{}</td><td>{}</td>'
        '<td class="num">{}</td><td><a href="{}">{}</a></td></tr>',
        stamp(r["time"]),
        r["url"],
        title,
        _or_dash(r["category"]),
        duration(r["duration_seconds"]),
        href(r["visitor_id"]),
        r["visitor_id"],
    )


EVENT_ROWS = {
    "clicks": _click_row,
    "content_views": _content_view_row,
    "page_views": _page_view_row,
}


@register.simple_tag(takes_context=True)
def event_rows(context, section, store) -> str:
    """The ``<tr>`` rows of one event list's current page."""
    row = EVENT_ROWS[section.name]

    def href(ref: str) -> str:
        return visitor_href(context, store, ref)

    return mark_safe("".join(row(r, href) for r in section.page.object_list))  # noqa: S308
