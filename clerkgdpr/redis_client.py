"""One pooled Redis client per process (and timeout) for the app's own keys.

Celery talks to the broker itself; this is for the rate limit and the
inventory debounce, which must never hold a request up for long.
"""

from __future__ import annotations

from functools import cache

import redis
from django.conf import settings


def redis_client(*, timeout: float) -> redis.Redis:
    """A client on REDIS_URL (kombu's ``redis+socket://`` spelled as redis-py's ``unix://``)."""
    return _client_for(settings.REDIS_URL, timeout)


@cache
def _client_for(url: str, timeout: float) -> redis.Redis:
    if url.startswith("redis+socket://"):
        url = "unix://" + url.removeprefix("redis+socket://")
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
