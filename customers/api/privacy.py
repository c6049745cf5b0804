"""Privacy calls shared by v2 and v1: the info document and forget requests."""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.db import connection

from customers.api.errors import ApiError
from customers.models import Click, ContentView, PageView
from customers.privacy.forget_requests import (
    ForgetError,
    forget_request_create,
    forget_requests_create_bulk,
)
from customers.privacy.subjects import (
    SUBJECT_KINDS,
    InvalidIdentifier,
    Subject,
    clean_identifier,
    resolve_subject,
)
from gdpr_dashboard.models import PrivacyRequest, RequestVia
from stores.models import ApiKey, Store

CHUNK = 5000  # rows per round trip of the server-side cursor (~0.5 MB)


def one_identifier(args: dict) -> tuple[str, str]:
    """Exactly one of email, customer, visitor, as a cleaned (kind, value)."""
    given = [k for k in SUBJECT_KINDS if args.get(k) not in (None, "")]
    if len(given) != 1:
        raise ApiError(
            400,
            "InvalidSubject",
            "Give exactly one of email, customer or visitor.",
        )
    kind = given[0]
    value = args[kind]
    if isinstance(value, int) and not isinstance(value, bool) and kind != "email":
        value = str(value)
    if not isinstance(value, str):
        raise ApiError(400, "InvalidSubject", f"{kind}: must be a string.")
    return kind, value


def subject_for(kind: str, value: str) -> Subject:
    try:
        return resolve_subject(kind=kind, value=value)
    except InvalidIdentifier as exc:
        raise ApiError(400, "InvalidSubject", str(exc)) from None


def checked_identifier(kind: str, value: str) -> str:
    try:
        return clean_identifier(kind, value)
    except InvalidIdentifier as exc:
        raise ApiError(400, "InvalidSubject", str(exc)) from None


def _activity_sql() -> str:
    # Table names come from our models. The rows are sorted lean (visitor, kind, text,
    # time) and only then turned into JSON text by PostgreSQL, so 50,000 rows cost one
    # pass and no Python object per field. The text is assembled by concatenation
    # (to_json() escapes the one free-text field; the visitor id comes JSON-encoded from
    # Python, looked up in the subject's short array): about half the time of
    # json_build_object() per row.
    parts = []
    for model, kind, description in (
        (Click, "click", "'Clicked product ' || e.product_ref"),
        (ContentView, "view", "'Viewed product ' || e.product_ref"),
        (
            PageView,
            "page",
            "CASE WHEN e.category <> '' AND e.url = '' THEN 'Viewed category ' || e.category "
            "ELSE 'Visited ' || e.url END",
        ),
    ):
        parts.append(
            f"SELECT e.visitor_id, '{kind}' AS kind, {description} AS description, "
            f"e.occurred_at FROM {model._meta.db_table} e "
            "WHERE e.visitor_id = ANY(%(ids)s)"
        )
    return (
        "SELECT '{\"visitor\": ' "
        "|| (%(refs)s::text[])[array_position(%(ids)s::bigint[], s.visitor_id)] "
        '|| \', "type": "\' || s.kind || \'", "description": \' '
        "|| to_json(s.description)::text "
        "|| ', \"time\": ' || floor(date_part('epoch', s.occurred_at))::bigint || '}' "
        "FROM (" + " UNION ALL ".join(parts) + " ORDER BY occurred_at DESC) s"
    )


def info_stream(store: Store, subject: Subject) -> Iterator[str]:
    """The v2 info document as text chunks, newest activity first, never all in memory.

    Runs after the view returned (StreamingHttpResponse), when the request's
    middleware has put the connection back on ``public``: it switches itself.
    """
    connection.set_tenant(store)
    try:
        yield '{"status": "ok", "orders": '
        refs = list(subject.orders().order_by("-placed_at").values_list("order_ref", flat=True))
        yield json.dumps(refs)
        yield ', "activity": ['
        if subject.visitor_ids:
            visitor_json = [json.dumps(ref) for ref in subject.visitor_refs]
            params = {"ids": subject.visitor_ids, "refs": visitor_json}
            with connection.chunked_cursor() as cursor:
                cursor.execute(_activity_sql(), params)
                first = True
                while rows := cursor.fetchmany(CHUNK):
                    chunk = ",".join(r[0] for r in rows)
                    yield chunk if first else "," + chunk
                    first = False
        yield "]}\n"
    finally:
        connection.set_schema_to_public()


def forget_one(*, store: Store, api_key: ApiKey, kind: str, value: str) -> PrivacyRequest:
    checked_identifier(kind, value)
    try:
        return forget_request_create(
            store=store, kind=kind, value=value, via=RequestVia.API, api_key=api_key
        )
    except (ForgetError, InvalidIdentifier) as exc:
        raise ApiError(400, "InvalidSubject", str(exc)) from None


def forget_many(
    *, store: Store, api_key: ApiKey, subjects: list[tuple[str, str]]
) -> list[PrivacyRequest]:
    for index, (kind, value) in enumerate(subjects):
        try:
            checked_identifier(kind, value)
        except ApiError as exc:
            exc.message = f"subjects.{index}: {exc.message}"
            exc.errors = [{"index": index, "field": f"subjects.{index}", "message": exc.message}]
            raise
    try:
        return forget_requests_create_bulk(
            store=store, subjects=subjects, via=RequestVia.API, api_key=api_key
        )
    except (ForgetError, InvalidIdentifier) as exc:
        raise ApiError(400, "InvalidSubject", str(exc)) from None
