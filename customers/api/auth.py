"""Who is calling: the API key (and private key) of a store, and the per-key rate limit."""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NoReturn

from django.conf import settings
from django.db import connection
from django.db.models import DateTimeField, Model
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

from clerkgdpr import shared_redis
from customers.api.errors import ApiError
from customers.api.keys import api_key_used, private_key_matches
from gdpr_dashboard.models import Suppression
from stores.digests import identifier_digest
from stores.models import Account, ApiKey, Store

log = logging.getLogger("clerkgdpr.api")

MAX_KEY_LENGTH = 64
MAX_PRIVATE_KEY_LENGTH = 128


def authenticate(
    key, private_key, *, need_private: bool, identifiers: dict | None = None
) -> ApiKey:
    """The live ApiKey for ``key`` (checking ``private_key`` when needed), store selected.

    Sets the connection to the key's store schema and counts the call against
    the key's rate limit. ``identifiers`` ({kind: [values]}: the call's e-mail, customer
    id and visitor id) are checked against the store's suppressions in the key's own
    statement when this process has seen the key before (it knows the store's secret).
    """
    if not key:
        raise ApiError(401, "MissingKey", "The call needs the store's API key (key).")
    # Keys are printable ASCII; anything else (a NUL above all, which PostgreSQL refuses in
    # text) is no key of ours and never reaches the database.
    if (
        not isinstance(key, str)
        or len(key) > MAX_KEY_LENGTH
        or not (key.isascii() and key.isprintable())
    ):
        raise ApiError(401, "InvalidKey", "Unknown or revoked API key.")
    api_key = _live_key(key, identifiers or {})
    if api_key is None:
        raise ApiError(401, "InvalidKey", "Unknown or revoked API key.")
    if need_private:
        if not private_key:
            raise ApiError(
                403, "PrivateKeyRequired", "This call needs the private key (private_key)."
            )
        if (
            not isinstance(private_key, str)
            or len(private_key) > MAX_PRIVATE_KEY_LENGTH
            or not private_key_matches(api_key, private_key)
        ):
            raise ApiError(403, "InvalidPrivateKey", "The private key does not match the key.")
    rate_limit(api_key)
    api_key_used(api_key=api_key)
    if connection.schema_name != api_key.store.schema_name:
        connection.set_tenant(api_key.store)
    return api_key


# Which store a key belongs to never changes: remembering it per process lets
# the key's own lookup run on the store's search path (public tables stay
# visible there), so a call switches search_path once instead of twice. The
# key row itself (revocation) and the store (its settings) are read fresh on
# every call.
_key_store: dict[str, Store] = {}
KEY_STORE_MAX = 10_000


def _live_key(key: str, identifiers: dict) -> ApiKey | None:
    store = _key_store.get(key)
    asked: list[tuple[str, str]] = []
    if store is not None:
        connection.set_tenant(store)
        asked = sorted(
            {
                (kind, identifier_digest(store.secret, kind, value))
                for kind, values in identifiers.items()
                for value in values
                if value
            }
        )
    api_key = _key_row(key, asked)
    if api_key is not None and store is None:
        if len(_key_store) >= KEY_STORE_MAX:
            _key_store.clear()
        _key_store[key] = api_key.store
    return api_key


def _key_row(key: str, asked: list[tuple[str, str]]) -> ApiKey | None:
    """The live key with its store and account, read fresh: one query, no ORM compile.

    Every API call runs this (revocation and collection settings apply to the very
    next call); hand-written so the hot path of tracking calls spends its time on the
    database, not on building SQL. Equivalent to
    ``ApiKey.objects.select_related("store__account").filter(key=key, revoked_at=None)``.
    """
    sql, parts = _key_query()
    with connection.prepared_cursor() as cursor:
        cursor.execute(sql, [[k for k, _ in asked], [d for _, d in asked], key])
        row = cursor.fetchone()
    if row is None:
        return None
    objects, start, alias = [], 0, connection.alias
    for model, names, converters in parts:
        values = list(row[start : start + len(names)])
        for i, field, convert in converters:
            values[i] = convert(values[i], field, connection)
        objects.append(_loaded(model, alias, names, values))
        start += len(names)
    api_key, store, account = objects
    store.account = account
    # Whether the store has any suppression in force, and which of the asked (kind, digest)
    # pairs are suppressed since when: the call's suppression check needs no query of its
    # own for what was asked here (gdpr_dashboard/suppression.py).
    in_force, suppressed = row[start], row[start + 1] or []
    store.suppressions_in_force = in_force
    store.suppressions_checked = (
        set(asked),
        {(kind, digest): datetime.fromisoformat(at) for kind, digest, at in suppressed},
    )
    api_key.store = store
    return api_key


def _loaded(model, alias: str, names: list[str], values: list):
    """``model.from_db(alias, names, values)`` for every concrete field, without
    ``Model.__init__`` setting them one by one (a third of the key lookup's Python): the
    same instance, as long as nothing listens to ``pre_init`` / ``post_init`` for the model
    and it keeps Django's ``__init__`` and ``from_db`` (else it goes through them)."""
    if (
        model.__init__ is not Model.__init__
        or model.from_db.__func__ is not Model.from_db.__func__
        or pre_init.has_listeners(model)
        or post_init.has_listeners(model)
    ):
        return model.from_db(alias, names, values)
    instance = model.__new__(model)
    instance._state = ModelState()
    instance._state.adding = False
    instance._state.db = alias
    instance.__dict__.update(zip(names, values, strict=True))
    return instance


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _datetime_from_microseconds(value, field, connection) -> datetime | None:
    # What Django's timestamptz loader gives (UTC), from an integer: psycopg parses a
    # timestamp's text through Python under Django's loader, most of the row's cost.
    return None if value is None else _EPOCH + timedelta(microseconds=value)


@functools.cache
def _key_query() -> tuple[str, list]:
    qn = connection.ops.quote_name
    parts, columns = [], []
    for model, alias in ((ApiKey, "k"), (Store, "s"), (Account, "a")):
        fields = model._meta.concrete_fields
        converters = []
        for i, f in enumerate(fields):
            column = f"{alias}.{qn(f.column)}"
            if isinstance(f, DateTimeField):
                # Microseconds since the epoch, exactly (extract gives numeric).
                column = f"(extract(epoch FROM {column}) * 1000000)::bigint"
                converters.append((i, f, _datetime_from_microseconds))
            converters += [(i, f, convert) for convert in f.get_db_converters(connection)]
            columns.append(column)
        parts.append((model, [f.attname for f in fields], converters))
    suppression = qn(Suppression._meta.db_table)
    sql = (
        f"SELECT {', '.join(columns)}, EXISTS (SELECT 1 FROM {suppression} x "
        "WHERE x.store_id = s.id AND x.lifted_at IS NULL), "
        "(SELECT json_agg(json_build_array(x.identifier_kind, x.digest, x.forgotten_at)) "
        f"FROM {suppression} x JOIN unnest(%s::text[], %s::text[]) AS w(kind, digest) "
        "ON x.identifier_kind = w.kind AND x.digest = w.digest "
        "WHERE x.store_id = s.id AND x.lifted_at IS NULL) "
        f"FROM {qn(ApiKey._meta.db_table)} k "
        f"JOIN {qn(Store._meta.db_table)} s ON s.id = k.store_id "
        f"JOIN {qn(Account._meta.db_table)} a ON a.id = s.account_id "
        "WHERE k.key = %s AND k.revoked_at IS NULL"
    )
    return sql, parts


# --- rate limit: a fixed window per key, counted in the shared cache (Redis) -------------

_down_until = 0.0
# After a Redis failure, skip the check this long instead of waiting on every call.
REDIS_RETRY_AFTER = 5.0
# A process counts a key's calls on its own between two asks of Redis: for at most this
# many seconds, and for at most 1/COUNT_SHARE of what the window had left at the last ask
# (so every call asks once fewer than COUNT_SHARE calls are left). One process is exact;
# each further process serving the key lets at most 1/COUNT_SHARE of the limit more through
# in a window. The ask is a Redis round trip, about a fifth of a tracking call's CPU.
COUNT_INTERVAL = 0.25
COUNT_SHARE = 32
WINDOWS_MAX = 10_000


@dataclass
class _Window:
    """One key's current window as this process knows it."""

    slot: int
    counted: int  # the key's count in Redis at the last ask, this process's calls included
    asked_at: float
    unsent: int = 0  # calls let through here since the last ask, not yet added in Redis


_windows: dict[int, _Window] = {}
# Threads of one process (the development server, a threaded worker) share the table: an
# ask takes the calls counted since the last one, so no two asks send the same calls.
_windows_lock = threading.Lock()


def rate_limit(api_key: ApiKey) -> None:
    """429 with Retry-After when the key is over its window; fails open if Redis is down."""
    global _down_until
    limit = settings.API_RATE_LIMIT_REQUESTS
    window = settings.API_RATE_LIMIT_WINDOW
    if not limit:
        return
    now = time.time()
    if now < _down_until:
        return
    slot = int(now // window)
    with _windows_lock:
        known = _windows.get(api_key.pk)
        if known is not None and known.slot == slot:
            refused = known.counted >= limit  # counts only grow in a window: no need to ask
            if not refused and (
                now - known.asked_at < COUNT_INTERVAL
                and known.unsent < (limit - known.counted) // COUNT_SHARE
            ):
                known.unsent += 1
                return
            calls, known.unsent = known.unsent + 1, 0
        else:
            refused, calls = False, 1
    if refused:
        _refuse(limit, window, slot, now)
    try:
        count = shared_redis.count_in_window(
            f"ratelimit:{api_key.pk}:{slot}", ttl=window + 1, add=calls
        )
    except shared_redis.Error as exc:
        _down_until = now + REDIS_RETRY_AFTER
        with _windows_lock:
            _windows.pop(api_key.pk, None)
        log.warning("rate limit not checked, Redis unavailable: %s", type(exc).__name__)
        return
    with _windows_lock:
        known = _windows.get(api_key.pk)
        if known is None or known.slot != slot:
            if len(_windows) >= WINDOWS_MAX:
                _windows.clear()
            _windows[api_key.pk] = _Window(slot=slot, counted=count, asked_at=now)
        else:  # calls counted meanwhile by other threads stay unsent, for the next ask
            known.counted = max(known.counted, count)
            known.asked_at = now
    if count > limit:
        _refuse(limit, window, slot, now)


def _refuse(limit: int, window: int, slot: int, now: float) -> NoReturn:
    retry_after = max(1, math.ceil((slot + 1) * window - now))
    raise ApiError(
        429,
        "RateLimited",
        f"More than {limit} calls in {window} seconds with this key; retry later.",
        retry_after=retry_after,
    )
