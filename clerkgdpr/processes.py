"""Command lines of the Celery processes the launcher, the tests and the benchmark start."""

from __future__ import annotations

import sys

QUEUES = "forget,maintenance"


def celery_command(*args: str) -> list[str]:
    """``celery -A clerkgdpr <args>`` with this interpreter."""
    return [sys.executable, "-m", "celery", "-A", "clerkgdpr", *args]


def worker_args(*, concurrency: int = 1, loglevel: str = "INFO", quiet: bool = True) -> list[str]:
    """A worker on both queues; ``quiet`` drops the gossip a lone test worker does not need."""
    args = ["worker", "-Q", QUEUES, "-c", str(concurrency), "-l", loglevel]
    if quiet:
        args += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    return args
