"""Retention policy in templates.

``{{ visitor|retention_why:store }}``: the policy's sentence for one visitor.
``{% with kept=row|retention_of:store %}``: days, until and why for a visitor
model or an export row (a dict with the same counters); no query either way.
"""

from dataclasses import dataclass
from datetime import datetime

from django import template

from customers.retention import policy

register = template.Library()


@dataclass(frozen=True)
class Kept:
    days: int
    until: datetime
    why: str


def _field(visitor, name: str):
    return visitor[name] if isinstance(visitor, dict) else getattr(visitor, name)


@register.filter
def retention_of(visitor, store) -> Kept:
    kept = policy.kept_days(
        visit_count=_field(visitor, "visit_count"),
        visit_days=_field(visitor, "visit_days"),
        total_duration_seconds=_field(visitor, "total_duration_seconds"),
        min_days=store.retention_min_days,
        max_days=store.retention_max_days,
    )
    return Kept(
        days=kept.days,
        until=policy.kept_until(_field(visitor, "last_seen"), kept),
        why=kept.why,
    )


@register.filter
def retention_why(visitor, store) -> str:
    return retention_of(visitor, store).why
