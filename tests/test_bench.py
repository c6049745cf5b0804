"""The benchmark harness (`python -m bench`) end to end at a tiny scale: builds, measures,
writes every output."""

import ast
import json
from pathlib import Path

import pytest
from django.db import connection

from bench import dataset
from bench.report import Figure, svg, table
from bench.run import bench_run
from bench.stats import percentile
from stores.models import Account, Store, User


@pytest.mark.slow
@pytest.mark.worker
def test_bench_quick_measures_and_writes_its_report(django_db_setup, django_db_blocker, tmp_path):
    with django_db_blocker.unblock():
        try:
            bench_run(
                quick=True,
                customers=300,
                visitors=700,
                events=2000,
                heavy_events=500,
                small_forgets=10,
                runs=1,
                only={"profile", "search", "forget", "dashboard"},
                out=tmp_path,
            )
        finally:
            connection.set_schema_to_public()
            dataset.drop_store(dataset.BENCH_STORE)
            Account.objects.filter(slug=dataset.BENCH_ACCOUNT).delete()
            User.objects.filter(email=dataset.BENCH_OWNER).delete()
            assert not Store.objects.filter(slug=dataset.BENCH_STORE).exists()
    results = json.loads((tmp_path / "results.json").read_text())
    by_key = {f["key"]: f for f in results["figures"]}
    # The measurements asked for, memory and the build (the rest: `make bench-quick`).
    assert set(by_key) == {
        "profile_ratio",
        "profile_queries",
        "search_p50",
        "search_p95",
        "forget_ratio",
        "forget_heavy_s",
        "forget_many_s",
        "dashboard_ms",
        "web_peak_mb",
        "worker_peak_mb",
        "build_s",
    }
    assert by_key["profile_ratio"]["value"] > 0
    assert by_key["search_p95"]["value"] > 0
    assert by_key["forget_heavy_s"]["value"] > 0
    assert by_key["forget_many_s"]["detail"]["done"] == "10/10"
    assert by_key["dashboard_ms"]["value"] > 0
    assert by_key["web_peak_mb"]["value"] > 0
    for figure in results["figures"]:
        assert figure["value"] is not None, figure
        assert (tmp_path / "charts" / f"{figure['key']}.svg").read_text().startswith("<svg")
    assert "| figure | value | target | verdict |" in (tmp_path / "results.md").read_text()


def test_a_figure_reads_pass_or_fail_against_its_target():
    fast = Figure("x", "Search p95", "ms", 50, value=12.5, runs=[12.0, 12.5, 14.0])
    slow = Figure("y", "Events", "events/s", 3000, higher_is_better=True, value=1200)
    unfinished = Figure("z", "Small forgets", "s", 30, note="only 7 of 10 done within 600 s")
    assert (fast.verdict, slow.verdict, unfinished.verdict) == ("PASS", "FAIL", "—")
    text = table([fast, slow, unfinished])
    assert "12.5 ms" in text and "≤ 50.0 ms" in text and "PASS" in text
    assert "≥ 3,000 events/s" in text and "FAIL" in text
    assert "only 7 of 10 done within 600 s" in text
    assert "<title>Search p95</title>" in svg(fast)


def test_a_percentile_is_one_of_the_measured_values():
    twenty = [float(n) for n in range(1, 21)]
    assert percentile(twenty, 0.95) == 19.0  # the second slowest of 20
    assert percentile(twenty, 0.5) == 11.0  # a middle value, not the mean of the two
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([7.0], 0.99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_the_product_never_imports_the_benchmark_harness():
    """bench/ is not installed with the product, and psutil is a dev dependency only."""
    root = Path(__file__).resolve().parent.parent
    offending = []
    for package in ("clerkgdpr", "stores", "customers", "gdpr_dashboard"):
        for path in (root / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    names = [node.module or ""]
                else:
                    continue
                offending += [
                    f"{path.relative_to(root)}: {name}"
                    for name in names
                    if name.split(".")[0] in ("bench", "psutil")
                ]
    assert offending == []


def test_the_floor_view_is_mounted_only_by_the_benchmark(client):
    """/bench/floor writes rows: the product's URLconf has no such route."""
    from django.urls import Resolver404, resolve

    with pytest.raises(Resolver404):
        resolve("/bench/floor")
    assert client.get("/bench/floor").status_code == 404
    assert resolve("/bench/floor", urlconf="bench.urls").func.__name__ == "floor"
