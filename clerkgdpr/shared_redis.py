"""The "shared" cache's Redis, for the hot paths that need one round trip where Django's
cache API takes two or three: a windowed counter, and set-if-absent that reads the value held.

Django's ``RedisCache`` builds a new redis-py client for every operation (about a quarter
of a millisecond of Python each) and its ``incr`` asks ``EXISTS`` first. Here one client
per cache instance (a settings change makes a new instance, and with it a new client) sends
pipelined commands on the cache's own connection pool, under the cache's key prefix. Values
are plain strings, never pickles. Redis errors propagate: the callers fail open.
"""

from __future__ import annotations

import redis
from django.core.cache import caches

ALIAS = "shared"
Error = redis.RedisError


def _client():
    cache = caches[ALIAS]
    client = getattr(cache, "_hot_path_client", None)
    if client is None:
        client = cache._cache.get_client(write=True)
        cache._hot_path_client = client
    return cache, client


def count_in_window(name: str, *, ttl: int, add: int = 1) -> int:
    """Add ``add`` to the counter ``name`` (made with a ``ttl`` of seconds); the new count."""
    cache, client = _client()
    key = cache.make_key(name)
    # MULTI/EXEC: the key cannot expire between the two, which would leave a counter
    # without an expiry.
    pipe = client.pipeline(transaction=True)
    pipe.set(key, 0, ex=ttl, nx=True)
    pipe.incrby(key, add)
    return int(pipe.execute()[1])


def set_unless_present(name: str, value: str, *, ttl: int) -> tuple[bool, str | None]:
    """Store ``value`` under ``name`` unless a value is there: (stored, the value held now)."""
    cache, client = _client()
    key = cache.make_key(name)
    pipe = client.pipeline(transaction=False)
    pipe.set(key, value, ex=ttl, nx=True)
    pipe.get(key)
    stored, held = pipe.execute()
    try:
        return bool(stored), None if held is None else held.decode()
    except UnicodeDecodeError:  # not a value of ours: as if none were held
        return bool(stored), None


def delete(name: str) -> None:
    cache, client = _client()
    client.delete(cache.make_key(name))
