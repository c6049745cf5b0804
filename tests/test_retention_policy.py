"""The retention policy: the boundary table, the store's bounds, and SQL agreeing with Python."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from customers.retention.policy import expires_at_sql, kept_days, kept_days_sql
from customers.retention.selectors import visitor_retention, visitors_with_retention
from tests.factories import VisitorFactory

HOUR = 3600


@pytest.mark.parametrize(
    "visits, days, seconds, expected",
    [
        (1, 1, 0, 30),  # one visit, nothing else: a month
        (1, 1, 60, 30),  # one short visit: a month
        (1, 1, HOUR - 1, 30),  # just under an hour still counts as short
        (1, 1, HOUR, 40),  # a full hour adds ten days
        (2, 1, 120, 35),  # a second visit the same day adds five days
        (2, 2, 120, 60),  # a visit on a second day adds a month
        (6, 6, 2 * HOUR, 200),  # six days, two hours
        (12, 12, 0, 360),  # twelve visit days: almost a year
        (12, 12, HOUR, 365),  # ... plus an hour: capped at a year
        (40, 30, 10 * HOUR, 365),  # a regular with long visits: a year, no more
        (0, 0, 0, 30),  # broken counters are read as one visit
        (1, 3, 0, 90),  # more days than visits: days win (counters out of step)
    ],
)
def test_it_keeps_data_by_visits_days_and_duration(visits, days, seconds, expected):
    assert (
        kept_days(visit_count=visits, visit_days=days, total_duration_seconds=seconds).days
        == expected
    )


@pytest.mark.parametrize(
    "min_days, max_days, visits, days, seconds, expected",
    [
        (90, 365, 1, 1, 60, 90),  # store minimum raises one short visit
        (30, 180, 12, 12, HOUR, 180),  # store maximum caps a regular
        (30, 30, 40, 30, 10 * HOUR, 30),  # a store keeping only a month
        (365, 365, 1, 1, 0, 365),  # a store keeping everything a year
        (60, 120, 2, 2, 0, 60),  # inside the bounds: the policy's own value
    ],
)
def test_it_clamps_to_the_store_bounds(min_days, max_days, visits, days, seconds, expected):
    result = kept_days(
        visit_count=visits,
        visit_days=days,
        total_duration_seconds=seconds,
        min_days=min_days,
        max_days=max_days,
    )
    assert result.days == expected


def test_it_says_why_in_words():
    short = kept_days(visit_count=1, visit_days=1, total_duration_seconds=180)
    assert short.why == "1 visit on 1 day, 3 minutes in total: kept 30 days after the last visit."
    capped = kept_days(
        visit_count=20, visit_days=15, total_duration_seconds=2 * HOUR + 300, max_days=180
    )
    assert capped.why == (
        "20 visits on 15 days, 2 h 05 min in total: the policy gives 495 days, "
        "capped at the store's maximum of 180."
    )
    raised = kept_days(visit_count=1, visit_days=1, total_duration_seconds=0, min_days=60)
    assert "raised to the store's minimum of 60" in raised.why


def test_the_sql_policy_agrees_with_the_python_one(db):
    cases = [
        (v, d, s, lo, hi)
        for v, d in [(0, 0), (1, 1), (3, 1), (2, 2), (7, 5), (12, 12), (50, 40)]
        for s in [0, 59, HOUR - 1, HOUR, 5 * HOUR + 1, 100 * HOUR]
        for lo, hi in [(30, 365), (90, 180), (30, 30)]
    ]
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(cases))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {kept_days_sql('t').replace('%s::int', '{}')} FROM (VALUES {values}) "
            "AS t(visit_count, visit_days, total_duration_seconds, lo, hi)".format(
                "t.lo::int", "t.hi::int"
            ),
            [x for case in cases for x in case],
        )
        from_sql = [row[0] for row in cursor.fetchall()]
    from_python = [
        kept_days(
            visit_count=v, visit_days=d, total_duration_seconds=s, min_days=lo, max_days=hi
        ).days
        for v, d, s, lo, hi in cases
    ]
    assert from_sql == from_python


def test_it_gives_each_visitor_kept_until_and_why(store, in_store):
    last_seen = timezone.now().replace(microsecond=0) - timedelta(days=3)
    regular = VisitorFactory(
        visit_count=8, visit_days=6, total_duration_seconds=3 * HOUR, last_seen=last_seen
    )
    once = VisitorFactory(
        visit_count=1, visit_days=1, total_duration_seconds=50, last_seen=last_seen
    )
    rows = {v.pk: v for v in visitors_with_retention(store=store)}
    assert rows[once.pk].kept_until == last_seen + timedelta(days=30)
    assert rows[regular.pk].kept_days == 30 + 150 + 10 + 30
    assert rows[regular.pk].kept_until == last_seen + timedelta(days=220)
    assert visitor_retention(store=store, visitor=rows[regular.pk]).days == 220
    assert expires_at_sql("v").startswith("(v.last_seen + ")


def test_the_include_shows_the_date_and_the_reason(store, in_store):
    from django.template.loader import render_to_string

    last_seen = timezone.now().replace(microsecond=0) - timedelta(days=1)
    VisitorFactory(visit_count=1, visit_days=1, total_duration_seconds=120, last_seen=last_seen)
    visitor = visitors_with_retention(store=store).get()
    html = render_to_string("customers/_retention.html", {"visitor": visitor, "store": store})
    assert f'kept until <time datetime="{visitor.kept_until.isoformat()}' in html
    assert (last_seen + timedelta(days=30)).strftime("%Y-%m-%d") in html
    assert "1 visit on 1 day, 2 minutes in total: kept 30 days after the last visit." in html


def test_the_visitor_profile_shows_kept_until_and_why(client, bob, store, in_store):
    from tests.conftest import login

    last_seen = timezone.now().replace(microsecond=0) - timedelta(days=5)
    VisitorFactory(
        visitor_ref="vis-kept",
        visit_count=3,
        visit_days=2,
        total_duration_seconds=600,
        last_seen=last_seen,
    )
    connection.set_schema_to_public()
    page = login(client, bob).get(f"/s/{store.slug}/visitor/vis-kept/").content.decode()
    assert (last_seen + timedelta(days=65)).strftime("%Y-%m-%d") in page
    assert "3 visits on 2 days, 10 minutes in total: kept 65 days after the last visit." in page
