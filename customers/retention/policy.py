"""The retention policy: how long a visitor's data is kept, and why.

A visitor's data is kept for ``kept_days`` after their last visit:

    raw = 30                                   one visit on one day: one month
        + 30 per further day they came         a regular comes back on many days
        +  5 per further visit on a day they already came
        + 10 per full hour spent on the store in total

then clamped to the store's bounds (``retention_min_days`` ..
``retention_max_days``, themselves within 30..365).  So one short visit is
kept 30 days, twelve visit days reach a year, and a store that wants shorter
(or longer) retention than the policy picks gets its bound.

The same arithmetic exists twice: :func:`kept_days` in Python (for the "why"
shown on the profile) and :func:`kept_days_sql` in SQL (for the nightly
expiry, which works from the visitor's own counters, so it covers every row
whatever path wrote it; no expiry date is stored that could go stale).
``tests/test_retention_policy.py`` checks that both agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# The bounds every store's setting must respect (DESIGN.md: 1 to 12 months).
MIN_DAYS = 30
MAX_DAYS = 365

BASE_DAYS = 30
DAYS_PER_EXTRA_VISIT_DAY = 30
DAYS_PER_EXTRA_VISIT = 5
DAYS_PER_HOUR = 10


@dataclass(frozen=True)
class Retention:
    days: int
    policy_days: int  # before the store's bounds
    why: str


def _duration_text(seconds: int) -> str:
    if seconds < 3600:
        minutes = seconds // 60
        return ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes}
    return _("%(hours)s h %(minutes)s min") % {
        "hours": seconds // 3600,
        "minutes": f"{seconds % 3600 // 60:02d}",
    }


def kept_days(
    *,
    visit_count: int,
    visit_days: int,
    total_duration_seconds: int,
    min_days: int = MIN_DAYS,
    max_days: int = MAX_DAYS,
) -> Retention:
    """Days a visitor's data is kept after their last visit, and a sentence saying why."""
    visit_days = max(visit_days, 1)
    visit_count = max(visit_count, visit_days)
    hours = max(total_duration_seconds, 0) // 3600
    policy = (
        BASE_DAYS
        + DAYS_PER_EXTRA_VISIT_DAY * (visit_days - 1)
        + DAYS_PER_EXTRA_VISIT * (visit_count - visit_days)
        + DAYS_PER_HOUR * hours
    )
    days = min(max(policy, min_days), max_days)
    came = _("%(visits)s on %(days)s, %(duration)s in total") % {
        "visits": ngettext("%(n)s visit", "%(n)s visits", visit_count) % {"n": visit_count},
        "days": ngettext("%(n)s day", "%(n)s days", visit_days) % {"n": visit_days},
        "duration": _duration_text(max(total_duration_seconds, 0)),
    }
    numbers = {"came": came, "policy": policy, "days": days}
    if days > policy:
        why = _(
            "%(came)s: the policy gives %(policy)s days, raised to the store's minimum of %(days)s."
        )
    elif days < policy:
        why = _(
            "%(came)s: the policy gives %(policy)s days, capped at the store's maximum of %(days)s."
        )
    else:
        why = _("%(came)s: kept %(days)s days after the last visit.")
    why = why % numbers
    return Retention(days=days, policy_days=policy, why=why)


def kept_until(last_seen: datetime, retention: Retention) -> datetime:
    return last_seen + timedelta(days=retention.days)


def kept_days_sql(alias: str = "") -> str:
    """The policy as a SQL integer expression over a visitor row.

    Takes two parameters, in order: the store's min and max days.  ``alias`` is
    the visitor table's alias (with no dot), if the query joins.
    """
    p = f"{alias}." if alias else ""
    visit_days = f"GREATEST({p}visit_days, 1)"
    visit_count = f"GREATEST({p}visit_count, {visit_days})"
    policy = (
        f"({BASE_DAYS} + {DAYS_PER_EXTRA_VISIT_DAY} * ({visit_days} - 1)"
        f" + {DAYS_PER_EXTRA_VISIT} * ({visit_count} - {visit_days})"
        f" + {DAYS_PER_HOUR} * (GREATEST({p}total_duration_seconds, 0) / 3600))"
    )
    return f"LEAST(GREATEST({policy}, %s::int), %s::int)"


def expires_at_sql(alias: str = "") -> str:
    """When a visitor row expires, in SQL; parameters as for :func:`kept_days_sql`."""
    p = f"{alias}." if alias else ""
    return f"({p}last_seen + make_interval(days => {kept_days_sql(alias)}))"
