"""The web (gunicorn) and worker (Celery) processes a benchmark run measures, and their memory."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import psutil
from celery import current_app
from django.conf import settings

from clerkgdpr import gunicorn_conf
from clerkgdpr.processes import start_celery, start_gunicorn, stop_process, worker_args


def _env() -> dict:
    """The children's environment: this run's database (the test database under pytest)."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    db = settings.DATABASES["default"]
    host = db["HOST"] or "127.0.0.1"
    if host.startswith("/"):
        url = f"postgresql://{db['USER']}@/{db['NAME']}?host={host}&port={db['PORT'] or 5432}"
    else:
        password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
        url = f"postgresql://{db['USER']}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"
    env.update(
        DATABASE_URL=url,
        REDIS_URL=settings.REDIS_URL,
        CELERY_KEY_PREFIX=settings.CELERY_KEY_PREFIX,
        DJANGO_DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SETTINGS_MODULE="clerkgdpr.settings",
        LOG_LEVEL="WARNING",
        # The benchmarks load one key beyond the default per-key limit; the check itself
        # (one Redis call) stays in the measured path.
        API_RATE_LIMIT_REQUESTS="1000000",
    )
    return env


class Web:
    """gunicorn as the product runs it: ``WEB_CONCURRENCY`` sync workers (3 unless set;
    clerkgdpr/gunicorn_conf.py)."""

    def __init__(self, port: int, log_dir: Path, workers: int = gunicorn_conf.workers):
        self.port = port
        # bench.settings: the product's URLs plus the floor view (bench/urls.py).
        env = {**_env(), "DJANGO_SETTINGS_MODULE": "bench.settings"}
        self.proc = start_gunicorn(
            port=port, workers=workers, env=env, log_path=log_dir / "bench-web.log"
        )

    def get(self, path: str, headers: dict | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def stop(self) -> None:
        stop_process(self.proc, timeout=20)


class Worker:
    def __init__(self, log_dir: Path, concurrency: int = 1):
        self.proc = start_celery(
            worker_args(concurrency=concurrency),
            env=_env(),
            log_path=log_dir / "bench-worker.log",
        )

    def stop(self) -> None:
        stop_process(self.proc, timeout=20)


class MemorySampler(threading.Thread):
    """Samples the resident memory of each watched process tree; keeps the peak per name."""

    def __init__(self, interval: float = 0.25):
        super().__init__(daemon=True)
        self.interval = interval
        self.watched: dict[str, int] = {}
        self.peak_mb: dict[str, float] = {}
        self._halt = threading.Event()

    def watch(self, name: str, pid: int) -> None:
        self.watched[name] = pid

    def run(self) -> None:
        while not self._halt.is_set():
            for name, pid in list(self.watched.items()):
                try:
                    root = psutil.Process(pid)
                    procs = [root, *root.children(recursive=True)]
                    biggest = max(p.memory_info().rss for p in procs) / 2**20
                except psutil.Error:
                    continue
                self.peak_mb[name] = max(self.peak_mb.get(name, 0.0), biggest)
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


def load_from_second_process(
    *, port: int, template: str, rate: float, seconds: float, extra: list[str] | None = None
) -> dict:
    """``template`` requested at ``rate`` for ``seconds`` by bench/load.py in a process of its
    own (open loop); its latency summary."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.load",
            f"--port={port}",
            f"--rate={rate}",
            f"--seconds={seconds}",
            f"--path-template={template}",
            *(extra or []),
        ],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=seconds * 10 + 60,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def maintenance_queue_purge() -> None:
    """Drop the nightly spread's queued steps (a bench queues more than it measures)."""
    with current_app.connection_for_write() as conn:
        conn.default_channel.queue_purge("maintenance")
