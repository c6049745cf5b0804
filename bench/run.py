"""python -m bench [--quick] [--customers N --visitors N --events N] [--runs N] [...]

Builds the benchmark store (COPY), starts gunicorn and a Celery worker on the configured
PostgreSQL and Redis, measures every figure (each the median of several runs), prints
the table and writes results.json, results.md and one SVG chart per figure.  See the
README's "Benchmarks".
"""

from __future__ import annotations

import bench.django_setup  # noqa: F401 - first: Django set up before the product is imported

# isort: split
import argparse
import dataclasses
import time
from collections.abc import Callable, Collection
from pathlib import Path

from bench import baseline as bench_baseline
from bench import dataset, figures, report
from bench.processes import MemorySampler, Web, Worker
from clerkgdpr.processes import free_port

BENCH_DIR = Path(__file__).resolve().parent


def bench_run(
    *,
    quick: bool = False,
    customers: int | None = None,
    visitors: int | None = None,
    events: int | None = None,
    heavy_events: int | None = None,
    small_forgets: int | None = None,
    runs: int | None = None,
    only: Collection[str] = (),
    port: int = 0,
    out: Path | None = None,
    keep: bool = False,
    baseline: Path | None = None,
    say: Callable[[str], None] = print,
) -> list[report.Figure]:
    """Build the store, measure (``only`` these measurements, memory always), write the report."""
    started = time.perf_counter()
    scale = dataset.Scale.quick() if quick else dataset.Scale()
    overrides = {
        "customers": customers,
        "visitors": visitors,
        "events": events,
        "heavy_events": heavy_events,
        "small_forgets": small_forgets,
    }
    scale = dataclasses.replace(scale, **{k: v for k, v in overrides.items() if v})
    runs = runs or (3 if quick else 5)
    # The forget figure needs a pair of heavy subjects per run (at most three runs).
    scale = dataclasses.replace(scale, forget_copies=2 * min(runs, 3))
    mode = "quick" if quick else "full"
    out_dir = Path(out) if out else BENCH_DIR / ("quick" if quick else "")
    out_dir.mkdir(parents=True, exist_ok=True)

    say(f"Building the bench store ({mode}): {dataclasses.asdict(scale)}")
    data = dataset.build(scale, progress=lambda m: say(f"  {m}"))
    say(f"  built in {data.build_seconds:.1f} s")

    memory = MemorySampler()
    web = Web(port or free_port(), out_dir)
    worker = Worker(out_dir)
    memory.watch("web", web.proc.pid)
    memory.watch("worker", worker.proc.pid)
    memory.start()
    run = figures.Run(
        data=data,
        runs=runs,
        quick=quick,
        web=web,
        worker=worker,
        memory=memory,
        out_dir=out_dir,
        session_cookie=dataset.session_cookie(dataset.BENCH_OWNER),
    )
    results: list[report.Figure] = []
    try:
        for measure in figures.MEASUREMENTS:
            if only and measure.__name__ not in {*only, "memory"}:
                continue
            say(f"measuring {measure.__name__} …")
            results.extend(measure(run))
    finally:
        memory.stop()
        web.stop()
        worker.stop()
        if not keep:
            dataset.drop_store(dataset.BENCH_STORE)
            dataset.drop_dashboard_account()
    # The memory figure reads the sampler's peaks; measured last, so refresh it now.
    results = [f for f in results if not f.key.endswith("_peak_mb")] + figures.memory(run)
    build = report.Figure("build_s", "Building the bench store (COPY)", "s", None)
    build.value = data.build_seconds
    results.append(build)
    if baseline:
        results += bench_baseline.ratios(results, Path(baseline))
    report.write(results, out_dir=out_dir, mode=mode, scale=dataclasses.asdict(scale))
    say("")
    say(report.table(results))
    say("")
    say(
        f"Written to {out_dir}/results.json, results.md and charts/*.svg "
        f"in {time.perf_counter() - started:.0f} s."
    )
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Build a big store and measure the speed targets."
    )
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
    parser.add_argument("--out", type=Path, help="output directory (default bench/…)")
    parser.add_argument("--keep", action="store_true", help="keep the bench store afterwards")
    parser.add_argument(
        "--baseline", type=Path, help="a results.json to compare with (ratios, ≤ 1.5 x)"
    )
    args = parser.parse_args(argv)
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    bench_run(**{**vars(args), "only": only})


if __name__ == "__main__":
    main()
