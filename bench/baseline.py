"""The cost of a different database set-up (Citus above all) as ratios to a baseline run.

``python -m bench --baseline bench/results.json`` (a single-server run's file, copied
aside first: this run writes its own) adds one figure per compared measurement: this
run's value over the baseline's, target ≤ 1.5 x. Compared: the heavy profile page, the
forget of the big subject, and the tracking call's p95.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.report import Figure

TARGET = 1.5


def _heavy_profile_ms(figure: dict) -> float | None:
    """The big subject's page time, from the profile figure's detail."""
    detail = figure.get("detail") or {}
    values = [v for k, v in detail.items() if k.endswith("events (ms)") and k != "10 events (ms)"]
    return values[0] if values else None


# (figure key, how to read the compared value from that figure, title)
COMPARED = (
    ("profile_ratio", _heavy_profile_ms, "Profile page, big subject"),
    ("forget_heavy_s", lambda f: f["value"], "Forget a subject with many events"),
    ("click_p95", lambda f: f["value"], "/v2/log/click p95 at 200 req/s"),
)


def ratios(results: list[Figure], baseline_path: Path) -> list[Figure]:
    baseline = {f["key"]: f for f in json.loads(baseline_path.read_text())["figures"]}
    here = {f.key: {"value": f.value, "detail": f.detail} for f in results}
    figures = []
    for key, read, title in COMPARED:
        figure = Figure(
            f"{key}_vs_baseline",
            f"{title}: this run vs the baseline run",
            "x",
            TARGET,
            source=f"distribution costs at most {TARGET} x the single-server figure",
        )
        mine = read(here[key]) if key in here else None
        theirs = read(baseline[key]) if key in baseline else None
        if mine is None or not theirs:
            figure.note = "not measured in both runs"
        else:
            figure.value = mine / theirs
            figure.runs = [figure.value]
            figure.detail = {"this run": mine, "baseline": theirs, "file": str(baseline_path)}
        figures.append(figure)
    return figures
