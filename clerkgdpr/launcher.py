"""`make run` / `make dev`: one process that owns the servers and runs web, worker and beat.

`make run` serves as production does: static files collected, gunicorn with sync
workers (whitenoise serves the CSS and htmx). `make dev` (``--dev``) runs Django's
autoreloading development server instead, closing each database connection after its
request (a thread per request would otherwise leave one open each).

Without DATABASE_URL / REDIS_URL it starts the embedded PostgreSQL and Redis
(files under var/) and keeps them alive for as long as it runs; with them it
starts nothing of its own.  Ctrl-C (or SIGTERM) stops every child, then the
embedded servers stop as this process exits.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

from clerkgdpr.processes import celery_command, gunicorn_command, worker_args
from clerkgdpr.runtime import (
    BASE_DIR,
    VAR_DIR,
    ServiceUnavailable,
    check_database,
    check_redis,
    ensure_services,
)

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8000"))
# gunicorn sync workers: each serves one request at a time with one database connection.
WEB_WORKERS = int(os.environ.get("WEB_CONCURRENCY", "3"))


def manage(*args: str) -> list[str]:
    return [sys.executable, str(BASE_DIR / "manage.py"), *args]


def port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) != 0


def run_step(cmd: list[str], what: str) -> None:
    result = subprocess.run(cmd, cwd=BASE_DIR)
    if result.returncode != 0:
        raise SystemExit(
            f"clerkgdpr: {what} failed (exit {result.returncode}); see the output above."
        )


def web_command(*, dev: bool) -> list[str]:
    """The web server: autoreloading runserver for `make dev`, gunicorn for `make run`."""
    if dev:
        return manage("runserver", f"{HOST}:{PORT}")
    return gunicorn_command(port=PORT, workers=WEB_WORKERS, host=HOST)


def _terminate(child: subprocess.Popen) -> None:
    """SIGTERM to the child, and to its process group when it leads one (the web server)."""
    try:
        if os.getpgid(child.pid) == child.pid:
            os.killpg(child.pid, signal.SIGTERM)
            return
    except ProcessLookupError:
        return
    child.terminate()


def main(argv: list[str] | None = None) -> int:
    dev = "--dev" in (sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clerkgdpr.settings")
    if dev:
        os.environ.setdefault("DB_CONN_MAX_AGE", "0")
    embedded = not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL")
    try:
        ensure_services()
        check_database(os.environ["DATABASE_URL"])
        check_redis(os.environ["REDIS_URL"])
    except ServiceUnavailable as exc:
        print(exc.code, file=sys.stderr)
        return 2
    if not port_free(HOST, PORT):
        print(
            f"clerkgdpr: port {PORT} on {HOST} is in use; set PORT to another port.",
            file=sys.stderr,
        )
        return 2
    if embedded:
        print(f"Embedded servers running, data in {VAR_DIR}")
    run_step(manage("migrate_schemas", "--executor=standard", "-v", "0"), "migrating the schemas")
    run_step(manage("seed_demo", "--if-empty"), "seeding demo data")
    if not dev:
        run_step(manage("collectstatic", "--noinput", "-v", "0"), "collecting static files")

    children = [
        # A session of its own: runserver's autoreloader runs the server in a child process,
        # and the whole group is stopped below.
        subprocess.Popen(web_command(dev=dev), cwd=BASE_DIR, start_new_session=True),
        subprocess.Popen(celery_command(*worker_args(concurrency=2, quiet=False)), cwd=BASE_DIR),
        subprocess.Popen(
            celery_command("beat", "-l", "INFO", "-s", str(VAR_DIR / "celerybeat-schedule")),
            cwd=BASE_DIR,
        ),
    ]
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print(
        f"\n  clerkgdpr is running at http://{HOST}:{PORT}/\n"
        "  log in as owner@demo.example / demo-password\n"
        "  (also admin@, analyst@, viewer@demo.example; owner@other.example for the\n"
        "  second account; staff@platform.example for /admin/)\n"
        "  Ctrl-C stops everything.\n",
        flush=True,
    )
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.5)
    for child in children:
        if child.poll() is None:
            _terminate(child)
    deadline = time.monotonic() + 15
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    print("clerkgdpr stopped.")
    return 0 if stopping else 1


if __name__ == "__main__":
    sys.exit(main())
