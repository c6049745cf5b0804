"""`manage.py bench` end to end at a tiny scale: builds, measures, writes every output."""

import json

import pytest
from django.core.management import call_command
from django.db import connection

from clerkgdpr.benchmark import dataset
from clerkgdpr.benchmark.report import Figure, svg, table
from stores.models import Account, Store, User


@pytest.mark.slow
@pytest.mark.worker
def test_bench_quick_measures_and_writes_its_report(django_db_setup, django_db_blocker, tmp_path):
    with django_db_blocker.unblock():
        try:
            call_command(
                "bench",
                "--quick",
                "--customers=300",
                "--visitors=700",
                "--events=2000",
                "--heavy-events=500",
                "--small-forgets=10",
                "--runs=1",
                "--only=profile,search,forget,dashboard",
                f"--out={tmp_path}",
            )
        finally:
            connection.set_schema_to_public()
            dataset.drop_store(dataset.BENCH_STORE)
            Account.objects.filter(slug=dataset.BENCH_ACCOUNT).delete()
            User.objects.filter(email=dataset.BENCH_OWNER).delete()
            assert not Store.objects.filter(slug=dataset.BENCH_STORE).exists()
    results = json.loads((tmp_path / "results.json").read_text())
    by_key = {f["key"]: f for f in results["figures"]}
    # Measured now that their features are on main (the rest: `make bench-quick`).
    assert by_key["profile_ratio"]["value"] > 0
    assert by_key["search_p95"]["value"] > 0
    assert by_key["forget_heavy_s"]["value"] > 0
    assert by_key["forget_many_s"]["detail"]["done"] == "10/10"
    assert by_key["dashboard_ms"]["value"] > 0
    assert by_key["web_peak_mb"]["value"] > 0
    for figure in results["figures"]:
        assert figure["value"] is not None or "not measured yet" in figure["value_text"]
        assert (tmp_path / "charts" / f"{figure['key']}.svg").read_text().startswith("<svg")
    assert "| figure | value | target | verdict |" in (tmp_path / "results.md").read_text()


def test_a_figure_reads_pass_or_fail_against_its_target():
    fast = Figure("x", "Search p95", "ms", 50, value=12.5, runs=[12.0, 12.5, 14.0])
    slow = Figure("y", "Events", "events/s", 3000, higher_is_better=True, value=1200)
    missing = Figure("z", "Backup", "s", 60, note="not measured yet (feature not on main)")
    assert (fast.verdict, slow.verdict, missing.verdict) == ("PASS", "FAIL", "—")
    text = table([fast, slow, missing])
    assert "12.5 ms" in text and "≤ 50.0 ms" in text and "PASS" in text
    assert "≥ 3,000 events/s" in text and "FAIL" in text
    assert "not measured yet (feature not on main)" in text
    assert "<title>Search p95</title>" in svg(fast)
