"""Command lines of the processes the launcher, the tests and the benchmark start, and
how they are stopped."""

from __future__ import annotations

import subprocess
import sys

QUEUES = "forget,maintenance"


def celery_command(*args: str) -> list[str]:
    """``celery -A clerkgdpr <args>`` with this interpreter."""
    return [sys.executable, "-m", "celery", "-A", "clerkgdpr", *args]


def gunicorn_command(*, port: int, workers: int = 2) -> list[str]:
    """gunicorn with our settings (redacting access log, sync workers) on 127.0.0.1:``port``."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:clerkgdpr.gunicorn_conf",
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
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
