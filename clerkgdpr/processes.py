"""The processes the launcher, the tests and the benchmark start: their command lines, how
to start one and wait until it is ready, and how to stop it."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from clerkgdpr.runtime import BASE_DIR

QUEUES = "forget,maintenance"


class NotReady(RuntimeError):
    """A started process exited, or was not ready in time; the message ends with its log."""


def celery_command(*args: str) -> list[str]:
    """``celery -A clerkgdpr <args>`` with this interpreter."""
    return [sys.executable, "-m", "celery", "-A", "clerkgdpr", *args]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_command(*, port: int, workers: int = 2, host: str = "127.0.0.1") -> list[str]:
    """gunicorn with our settings (redacting access log, sync workers woken one at a time) on
    ``host:port``."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:clerkgdpr.gunicorn_conf",
        "-w",
        str(workers),
        "-b",
        f"{host}:{port}",
        "clerkgdpr.wsgi",
    ]


def stop_process(proc: subprocess.Popen, *, timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``timeout`` seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def worker_args(*, concurrency: int = 1, loglevel: str = "INFO", quiet: bool = True) -> list[str]:
    """A worker on both queues; ``quiet`` drops the gossip a lone test worker does not need."""
    args = ["worker", "-Q", QUEUES, "-c", str(concurrency), "-l", loglevel]
    if quiet:
        args += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    return args


def start_celery(
    args: list[str], *, env: dict, log_path: Path, ready: str = "ready", timeout: float = 60
) -> subprocess.Popen:
    """``celery -A clerkgdpr <args>``, its output in ``log_path``; returns once the log shows
    ``ready`` (a worker logs "celery@host ready." at INFO; beat logs "Starting")."""
    return _start(
        celery_command(*args),
        env=env,
        log_path=log_path,
        ready=lambda: ready in log_path.read_text(),
        what=f"celery {args[0]}",
        timeout=timeout,
    )


def start_web(
    command: list[str], *, port: int, env: dict, log_path: Path, timeout: float = 60
) -> subprocess.Popen:
    """A web server listening on 127.0.0.1:``port``; returns once ``/healthz`` answers 200."""
    return _start(
        command,
        env=env,
        log_path=log_path,
        ready=lambda: _healthy(port),
        what="web server",
        timeout=timeout,
    )


def start_gunicorn(
    *, port: int, env: dict, log_path: Path, workers: int = 2, timeout: float = 60
) -> subprocess.Popen:
    """gunicorn (``gunicorn_command``) started and answering ``/healthz``."""
    return start_web(
        gunicorn_command(port=port, workers=workers),
        port=port,
        env=env,
        log_path=log_path,
        timeout=timeout,
    )


def _start(
    command: list[str],
    *,
    env: dict,
    log_path: Path,
    ready: Callable[[], bool],
    what: str,
    timeout: float,
) -> subprocess.Popen:
    with open(log_path, "w") as log:  # the child has its own copy of the descriptor
        proc = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            # Not handed to the caller, so stopped here; the log says why.
            if proc.poll() is None:
                state = f"not ready within {timeout:.0f} s"
            else:
                state = f"exited ({proc.returncode}) before it was ready"
            stop_process(proc)
            raise NotReady(f"{what} {state}; {log_path}:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.2)
    return proc


def _healthy(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()
