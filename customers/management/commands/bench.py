"""manage.py bench [--quick] [--customers N --visitors N --events N] [--runs N]

Builds the benchmark store (COPY), starts gunicorn and a Celery worker on
the configured PostgreSQL and Redis, measures every figure of issue 8 (each
the median of several runs), prints the table and writes results.json,
results.md and one SVG chart per figure.  See the README's "Benchmarks".
"""

from __future__ import annotations

import dataclasses
import socket
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from clerkgdpr.benchmark import dataset, figures, report
from clerkgdpr.benchmark.processes import MemorySampler, Web, Worker


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Command(BaseCommand):
    help = "Build a big store and measure the console's speed targets."

    def add_arguments(self, parser):
        parser.add_argument("--quick", action="store_true", help="small store, fewer runs (CI)")
        parser.add_argument("--customers", type=int)
        parser.add_argument("--visitors", type=int)
        parser.add_argument("--events", type=int)
        parser.add_argument("--heavy-events", type=int, help="events of the big subject")
        parser.add_argument("--small-forgets", type=int, help="small subjects forgotten at once")
        parser.add_argument("--runs", type=int, help="runs per figure (median reported)")
        parser.add_argument(
            "--only", default="", help="comma-separated measurements, e.g. profile,search"
        )
        parser.add_argument("--port", type=int, default=0, help="gunicorn port (default: free)")
        parser.add_argument("--out", default="", help="output directory (default bench/…)")
        parser.add_argument("--keep", action="store_true", help="keep the bench store afterwards")

    def handle(self, *args, **options):
        started = time.perf_counter()
        scale = dataset.Scale.quick() if options["quick"] else dataset.Scale()
        names = ("customers", "visitors", "events", "heavy_events", "small_forgets")
        overrides = {k: options[k] for k in names if options[k]}
        scale = dataclasses.replace(scale, **overrides)
        runs = options["runs"] or (3 if options["quick"] else 5)
        # The forget figure needs a pair of heavy subjects per run (at most three runs).
        scale = dataclasses.replace(scale, forget_copies=2 * min(runs, 3))
        mode = "quick" if options["quick"] else "full"
        default_out = Path(settings.BASE_DIR) / "bench" / ("quick" if options["quick"] else "")
        out_dir = Path(options["out"]) if options["out"] else default_out
        out_dir.mkdir(parents=True, exist_ok=True)

        self.stdout.write(f"Building the bench store ({mode}): {dataclasses.asdict(scale)}")
        data = dataset.build(scale, progress=lambda m: self.stdout.write(f"  {m}"))
        self.stdout.write(f"  built in {data.build_seconds:.1f} s")

        memory = MemorySampler()
        web = Web(options["port"] or _free_port(), out_dir)
        worker = Worker(out_dir)
        memory.watch("web", web.proc.pid)
        memory.watch("worker", worker.proc.pid)
        memory.start()
        run = figures.Run(
            data=data,
            runs=runs,
            quick=options["quick"],
            web=web,
            worker=worker,
            memory=memory,
            out_dir=out_dir,
            session_cookie=figures.Run.session_for_owner(),
        )
        results: list[report.Figure] = []
        try:
            only = {n.strip() for n in options["only"].split(",") if n.strip()}
            for measure in figures.MEASUREMENTS:
                if only and measure.__name__ not in only | {"memory"}:
                    continue
                self.stdout.write(f"measuring {measure.__name__} …")
                try:
                    results.extend(measure(run))
                except figures.NotYet:
                    results.extend(_not_yet(measure))
        finally:
            memory.stop()
            web.stop()
            worker.stop()
            if not options["keep"]:
                dataset.drop_store(dataset.BENCH_STORE)
                dataset.drop_dashboard_account()
        # The memory figure reads the sampler's peaks; measured last, so refresh it now.
        results = [f for f in results if not f.key.endswith("_peak_mb")] + figures.memory(run)
        build = report.Figure("build_s", "Building the bench store (COPY)", "s", None)
        build.value = data.build_seconds
        results.append(build)
        report.write(results, out_dir=out_dir, mode=mode, scale=dataclasses.asdict(scale))
        self.stdout.write("")
        self.stdout.write(report.table(results))
        self.stdout.write("")
        self.stdout.write(
            f"Written to {out_dir}/results.json, results.md and charts/*.svg "
            f"in {time.perf_counter() - started:.0f} s."
        )


def _not_yet(measure) -> list[report.Figure]:
    """The figures a measurement would give, marked as not measured (feature missing)."""
    names = {
        "profile": [("profile_ratio", "Profile page, 50,000 vs 10 events", "x", 1.5)],
        "search": [("search_p95", "Search p95, 1M customers + visitors", "ms", 50)],
        "forget": [("forget_ratio", "Forget 50,000 events vs raw SQL delete", "x", 2)],
        "ingestion": [("ingest_events_per_s", "Batch ingestion /api/v1/events", "events/s", 3000)],
        "dashboard": [("dashboard_ms", "GDPR dashboard, 50 stores", "ms", 150)],
        "backup": [("backup_s", "Backup of the big store", "s", 60)],
        "expiry": [("expiry_s", "Expiry of 1,000,000 events", "s", 60)],
    }.get(measure.__name__, [(measure.__name__, measure.__name__, "", None)])
    return [report.Figure(k, t, u, target, note=report.NOT_YET) for k, t, u, target in names]
