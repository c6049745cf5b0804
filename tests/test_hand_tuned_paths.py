"""Paths written by hand for speed give exactly what the plain ORM / template version gives."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.template import Context, Template
from django.utils import timezone
from pydantic import TypeAdapter

from customers.api.auth import _key_row
from customers.api.keys import api_key_revoke
from customers.api.privacy import info_stream
from customers.ingest.events import events_ingest
from customers.ingest.schemas import Event
from customers.privacy.subjects import resolve_subject
from customers.templatetags.profile_tags import EVENT_ROWS
from stores.models import ApiKey
from tests.factories import ClickFactory, ContentViewFactory, PageViewFactory, VisitorFactory

HOSTILE = ['<script>alert("x")</script>', 'O\'Brien & "Sons"', "ünïcødé ☃", "", "a\\b"]


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_the_key_lookup_reads_what_the_orm_reads(store, api_key, alice):
    key = api_key.api_key.key
    orm = ApiKey.objects.select_related("store__account").get(key=key, revoked_at=None)
    ApiKey.objects.filter(pk=orm.pk).update(last_used_at=timezone.now())  # a time with µs
    orm = ApiKey.objects.select_related("store__account").get(key=key, revoked_at=None)
    fast = _key_row(key, [])
    # repr: the same values of the same types (time zones included), the same saved state.
    for fast_obj, orm_obj in (
        (fast, orm),
        (fast.store, orm.store),
        (fast.store.account, orm.store.account),
    ):
        assert repr(_fields(fast_obj)) == repr(_fields(orm_obj))
        assert (fast_obj._state.adding, fast_obj._state.db) == (False, orm_obj._state.db)
    # A revoked or unknown key is None on both ways.
    api_key_revoke(api_key=api_key.api_key, actor=alice)
    assert not ApiKey.objects.filter(key=key, revoked_at=None).exists()
    assert _key_row(key, []) is None
    assert _key_row("no-such-key", []) is None


# The plain template of each row, as the profile page would write it with template tags.
ROW_TEMPLATES = {
    "clicks": (
        '<tr><td>{{ r.time|date:"Y-m-d H:i:s" }}</td><td>{{ r.product }}'
        '{% if r.external %} <span class="badge">external</span>{% endif %}</td>'
        '<td>{{ r.placement|default:"–" }}</td><td class="num">'
        "{% if r.position is None %}–{% else %}{{ r.position }}{% endif %}</td>"
        '<td>{{ r.labels|join:", " }}</td><td><a href="{{ href }}">{{ r.visitor_id }}</a></td></tr>'
    ),
    "content_views": (
        '<tr><td>{{ r.time|date:"Y-m-d H:i:s" }}</td><td>{{ r.product }}</td>'
        '<td>{{ r.placement|default:"–" }}</td>'
        '<td><a href="{{ href }}">{{ r.visitor_id }}</a></td></tr>'
    ),
    "page_views": (
        '<tr><td>{{ r.time|date:"Y-m-d H:i:s" }}</td><td><span class="url">{{ r.url }}</span>'
        '{% if r.title %}<br><span class="muted small">{{ r.title }}</span>{% endif %}</td>'
        '<td>{{ r.category|default:"–" }}</td><td class="num">{{ r.duration_seconds }} s</td>'
        '<td><a href="{{ href }}">{{ r.visitor_id }}</a></td></tr>'
    ),
}


def _rows(text: str, n: int | None) -> list[dict]:
    time = timezone.now().replace(microsecond=0)
    return [
        {
            "time": time,
            "product": text,
            "external": external,
            "placement": text,
            "position": n,
            "labels": [text, "b&c"] if text else [],
            "visitor_id": f"v/{text}",
            "url": f"/p?a={text}",
            "title": text,
            "category": text,
            "duration_seconds": n or 0,
        }
        for external in (False, True)
    ]


@pytest.mark.parametrize("section", sorted(EVENT_ROWS))
@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("n", [None, 0, 7])
def test_the_profile_rows_are_what_the_template_writes(section, text, n):
    def href(ref: str) -> str:
        return f"/s/acme/visitor/{ref}/"

    template = Template(ROW_TEMPLATES[section])
    for r in _rows(text, n):
        expected = template.render(Context({"r": r, "href": href(r["visitor_id"])}))
        assert EVENT_ROWS[section](r, href) == expected


def test_the_activity_json_built_by_postgresql_is_what_python_builds(in_store):
    now = timezone.now().replace(microsecond=0)
    visitors = [VisitorFactory(visitor_ref=ref) for ref in ('v-"1"', "v-ü\\2")]
    texts = iter(HOSTILE * 4)
    step = iter(range(1, 100))
    for visitor in visitors:
        ClickFactory(
            visitor=visitor, product_ref=next(texts), occurred_at=now - timedelta(next(step))
        )
        ContentViewFactory(
            visitor=visitor, product_ref=next(texts), occurred_at=now - timedelta(next(step))
        )
        PageViewFactory(visitor=visitor, url=next(texts), occurred_at=now - timedelta(next(step)))
        PageViewFactory(
            visitor=visitor,
            url="",
            category=next(texts) or "c",
            occurred_at=now - timedelta(next(step)),
        )
    # Every event of the visitors, built in Python from the ORM rows.
    expected = []
    for visitor in visitors:
        for click in visitor.clicks.all():
            expected.append((visitor, "click", f"Clicked product {click.product_ref}", click))
        for view in visitor.content_views.all():
            expected.append((visitor, "view", f"Viewed product {view.product_ref}", view))
        for page in visitor.page_views.all():
            description = (
                f"Viewed category {page.category}"
                if page.category and not page.url
                else f"Visited {page.url}"
            )
            expected.append((visitor, "page", description, page))
    expected.sort(key=lambda row: row[3].occurred_at, reverse=True)
    store = in_store
    subject = resolve_subject(kind="visitor", value=visitors[0].visitor_ref)
    subject.visitor_ids = [v.pk for v in visitors]
    subject.visitor_refs = [v.visitor_ref for v in visitors]
    document = json.loads("".join(info_stream(store, subject)))
    connection.set_tenant(store)
    assert document["activity"] == [
        {
            "visitor": visitor.visitor_ref,
            "type": kind,
            "description": description,
            "time": int(event.occurred_at.timestamp()),
        }
        for visitor, kind, description, event in expected
    ]


BROWSING = [
    {"kind": "page", "url": "https://shop.example/a?b=1", "title": "Ä & <b>", "duration": 7},
    {"kind": "category", "category": "Shoes / Men", "url": "https://shop.example/c"},
    {"kind": "product", "product": 42, "api": "recommendations/popular"},
    {"kind": "click", "product": "sku-9", "api": "search", "n": 3, "labels": ["Home", "Ä"]},
    {"kind": "click", "product": "sku-9", "external": True},
]
EVENT_TABLES = {"page": "pageview", "category": "pageview", "product": "contentview"}


def _stored(store, ref: str, table: str) -> tuple[dict, list[tuple]]:
    skip = {"id", "visitor_ref", "visitor_digest", "visitor_id"}
    connection.set_tenant(store)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM customers_visitor WHERE visitor_ref = %s", [ref])
        names = [c.name for c in cursor.description]
        visitor = dict(zip(names, cursor.fetchone(), strict=True))
        cursor.execute(
            f"SELECT * FROM customers_{table} WHERE visitor_id = %s ORDER BY occurred_at",
            [visitor["id"]],
        )
        names = [c.name for c in cursor.description]
        rows = [
            tuple(v for n, v in zip(names, row, strict=True) if n not in skip)
            for row in cursor.fetchall()
        ]
    connection.set_schema_to_public()
    return {k: v for k, v in visitor.items() if k not in skip}, rows


@pytest.mark.parametrize("event", BROWSING, ids=lambda e: e["kind"])
def test_one_tracking_call_stores_what_a_batch_stores(store, event):
    """A lone browsing event goes through one hand-written statement; a batch through the
    general path: the visitor and the event row come out the same."""
    adapter = TypeAdapter(Event)
    at = timezone.now().replace(microsecond=0) - timedelta(minutes=5)
    for ref in ("lone", "known"):  # a new visitor, then one with earlier activity
        earlier = adapter.validate_python(
            {"kind": "product", "product": 1, "visitor": f"{ref}-a", "time": at}
        )
        if ref == "known":
            events_ingest(store=store, events=[earlier])
            events_ingest(
                store=store,
                events=[earlier.model_copy(update={"visitor": f"{ref}-b"}), _other(adapter, at)],
            )
        lone = adapter.validate_python({**event, "visitor": f"{ref}-a", "time": at})
        events_ingest(store=store, events=[lone])
        batch = [lone.model_copy(update={"visitor": f"{ref}-b"}), _other(adapter, at)]
        events_ingest(store=store, events=batch)
        table = EVENT_TABLES.get(event["kind"], "click")
        assert _stored(store, f"{ref}-a", table) == _stored(store, f"{ref}-b", table)


def _other(adapter, at):
    return adapter.validate_python({"kind": "product", "product": 2, "visitor": "else", "time": at})


@pytest.mark.parametrize("value", [None, "", 2, "3"])
def test_the_plain_select_renders_what_djangos_select_renders(value):
    from html.parser import HTMLParser

    from django import forms

    from gdpr_dashboard.forms import PlainSelect

    class Parsed(HTMLParser):
        def __init__(self, html):
            super().__init__()
            self.tags, self.text = [], []
            self.feed(html)

        def handle_starttag(self, tag, attrs):
            self.tags.append((tag, sorted(attrs)))

        def handle_data(self, data):
            if data.strip():
                self.text.append(data.strip())

    choices = [(1, "Main"), (2, HOSTILE[0]), (3, HOSTILE[1]), (4, HOSTILE[2])]
    attrs = {"id": "id_store", "required": True}
    plain = Parsed(PlainSelect(choices=choices).render("store", value, attrs))
    django = Parsed(forms.Select(choices=choices).render("store", value, attrs))
    assert (plain.tags, plain.text) == (django.tags, django.text)
