"""`make run`: one process that owns the servers and runs web, worker and beat.

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

from clerkgdpr.processes import celery_command, worker_args
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


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clerkgdpr.settings")
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

    children = [
        subprocess.Popen(manage("runserver", f"{HOST}:{PORT}", "--noreload"), cwd=BASE_DIR),
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
            child.terminate()
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
