"""Reads for the customer and visitor profiles: a fixed number of queries whatever the history.

One query counts every list, then one query per shown list reads its page
(orders one more for their lines), through ``customers.privacy.export.section_page``
so the page shows exactly what "Download all data" contains.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from customers.models import Click, ContentView, PageView, Visitor
from customers.privacy import export
from customers.privacy.subjects import Subject
from customers.retention.selectors import visitors_with_retention

PER_PAGE = 20

SECTION_LABELS = {
    "visitors": _("Visitor ids"),
    "orders": _("Orders"),
    "clicks": _("Clicks"),
    "content_views": _("Content viewed"),
    "page_views": _("Pages visited"),
    "baskets": _("Baskets"),
    "subscriptions": _("Newsletter"),
}
CUSTOMER_SECTIONS = (
    "visitors",
    "orders",
    "clicks",
    "content_views",
    "page_views",
    "baskets",
    "subscriptions",
)
VISITOR_SECTIONS = ("page_views", "content_views", "clicks", "orders", "baskets")


class SectionRows:
    """A lazily read list section for Django's Paginator: the count is known, pages are read."""

    def __init__(self, name: str, subject: Subject, count: int):
        self.name = name
        self.subject = subject
        self.total = count

    def count(self) -> int:
        return self.total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, item: slice) -> list[dict]:
        start, stop = item.start or 0, item.stop
        if stop is None or stop <= start:
            return []
        return export.section_page(self.name, self.subject, offset=start, limit=stop - start)


@dataclass
class Section:
    name: str
    label: str
    count: int
    page: Page

    @property
    def param(self) -> str:
        return f"{self.name}_page"


def _count_querysets(subject: Subject, names: tuple[str, ...]) -> dict[str, QuerySet]:
    """The lists' filters without their joins: counts read only the (visitor, time) indexes."""
    ids = subject.visitor_ids
    plain = {
        "visitors": lambda: Visitor.objects.filter(pk__in=ids),
        "orders": subject.orders,
        "clicks": lambda: Click.objects.filter(visitor_id__in=ids),
        "content_views": lambda: ContentView.objects.filter(visitor_id__in=ids),
        "page_views": lambda: PageView.objects.filter(visitor_id__in=ids),
        "baskets": lambda: export.baskets_query(subject),
        "subscriptions": lambda: export.subscriptions_query(subject),
    }
    return {name: plain[name]() for name in names}


def section_counts(subject: Subject, names: tuple[str, ...]) -> dict[str, int]:
    """Every count in one query (scalar subqueries over the same filters as the lists)."""
    if not names:
        return {}
    parts, params = [], []
    for name, queryset in _count_querysets(subject, names).items():
        try:
            sql, sql_params = queryset.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:  # no visitor ids: nothing to count
            parts.append("0")
            continue
        parts.append(f"(SELECT count(*) FROM ({sql}) AS {name})")
        params.extend(sql_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return dict(zip(names, row, strict=True))


def profile_sections(
    subject: Subject, *, names: tuple[str, ...], page_numbers: dict[str, str | None]
) -> list[Section]:
    counts = section_counts(subject, names)
    sections = []
    for name in names:
        paginator = Paginator(SectionRows(name, subject, counts[name]), PER_PAGE)
        page = paginator.get_page(page_numbers.get(name))
        list(page.object_list)  # read now, so the query count does not depend on the template
        sections.append(
            Section(name=name, label=SECTION_LABELS[name], count=counts[name], page=page)
        )
    return sections


def visitor_row(subject: Subject) -> Visitor | None:
    """The visitor of a visitor subject, with its customer (if linked)."""
    if not subject.visitor_ids:
        return None
    # With the retention policy's kept_until / kept_days (same query, computed in SQL).
    return visitors_with_retention(
        store=connection.tenant,
        visitors=Visitor.objects.select_related("customer").filter(pk=subject.visitor_ids[0]),
    ).first()
