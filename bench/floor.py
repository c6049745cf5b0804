"""A tracking call against the floor of this stack, its JSONP form, and the highest click rate.

- the floor: ``/bench/floor`` (bench/urls.py), a bare Django view in the same gunicorn
  doing one INSERT, loaded at 200 req/s in the same window as ``/v2/log/click`` at 200
  req/s, the two sent in turn (so the machine's drift from second to second hits both
  alike);
- Clerk.js's JSONP GET (``payload`` + ``callback``) against the same click as a JSON POST,
  the same way;
- a step load of ``/v2/log/click`` (200 req/s more per step) up to the first step whose
  p95 passes 20 ms or that has errors: the highest rate that held is the figure.

Both start on a settled database (``bench.settle``): the measurements before this one delete
and write a lot, and autovacuum or a checkpoint in the middle of a step measures them.
"""

from __future__ import annotations

import json
import statistics
from urllib.parse import quote

from django.db import connection

from bench.processes import load_from_second_process
from bench.report import Figure
from bench.settle import settle_database
from bench.urls import FLOOR_TABLE
from customers.api.keys import api_key_create

STEP_P95_MS = 20.0


def _load(run, template: str, *, rate: float, seconds: float, extra=()) -> dict:
    result = load_from_second_process(
        port=run.web.port, template=template, rate=rate, seconds=seconds, extra=list(extra)
    )
    if result["errors"]:
        raise RuntimeError(f"{template.split('?')[0]} errors: {result}")
    return result


def _side_by_side(run, shapes: list[tuple[str, str]], *, rate: float, seconds: float) -> list:
    """Each (path template, POST body or "" for a GET) at ``rate``, sent in turn in one
    window: the p95 of each."""
    extra = [f"--path-template={template}" for template, _ in shapes[1:]]
    extra += [f"--post-body-template={body}" for _, body in shapes]
    result = _load(run, shapes[0][0], rate=rate, seconds=seconds, extra=extra)
    return [shape["p95_ms"] for shape in result["shapes"]]


def floor(run) -> list[Figure]:
    ratio = Figure(
        "click_vs_floor",
        "/v2/log/click p95 vs a bare one-INSERT view, 200 req/s",
        "x",
        2,
        source="a tracking call costs little more than the stack itself",
    )
    jsonp = Figure(
        "jsonp_vs_post",
        "Clerk.js JSONP GET vs JSON POST of /v2/log/click, p95",
        "x",
        1.1,
        source="the storefront's own wire form is as cheap as the server form",
    )
    steps = Figure(
        "click_max_rate",
        "Highest /v2/log/click rate with p95 ≤ 20 ms (step load)",
        "req/s",
        800,
        higher_is_better=True,
        source="a sale-day peak of tracking calls on these 2 cores",
    )
    key = api_key_create(store=run.data.store, label="bench floor").api_key.key
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS public.{FLOOR_TABLE} "
            "(id bigserial PRIMARY KEY, n bigint NOT NULL, at timestamptz NOT NULL)"
        )
    seconds = 3 if run.quick else 8
    click = f"/v2/log/click?key={key}&product={{n}}&visitor=v-floor-{{n}}"
    # Clerk.js's form: every argument in one JSON ``payload``; NNN becomes the call's number.
    payload = quote(json.dumps({"key": key, "product": 0, "visitor": "v-jsonp-NNN"}))
    payload = payload.replace("%3A%200%2C", "%3A%20NNN%2C").replace("NNN", "{n}")
    jsonp_get = "/v2/log/click?callback=Clerk._cb.c{n}&payload=" + payload
    post_body = json.dumps({"key": key, "product": 0, "visitor": "v-post-NNN"})
    post_body = post_body.replace(": 0,", ": {n},").replace("NNN", "{n}")
    try:
        settle_database()
        floors, clicks, gets, posts = [], [], [], []
        for _ in range(run.runs):
            bare, tracked = _side_by_side(
                run, [("/bench/floor?n={n}", ""), (click, "")], rate=200, seconds=seconds
            )
            floors.append(bare)
            clicks.append(tracked)
            get, post = _side_by_side(
                run, [(jsonp_get, ""), ("/v2/log/click", post_body)], rate=200, seconds=seconds
            )
            gets.append(get)
            posts.append(post)
        ratio.runs = [c / f for c, f in zip(clicks, floors, strict=True)]
        ratio.value = statistics.median(ratio.runs)
        ratio.detail = {
            "click p95 (ms)": clicks,
            "floor p95 (ms)": floors,
            "seconds per window": seconds,
        }
        jsonp.runs = [g / p for g, p in zip(gets, posts, strict=True)]
        jsonp.value = statistics.median(jsonp.runs)
        jsonp.detail = {"JSONP GET p95 (ms)": gets, "JSON POST p95 (ms)": posts}
        steps.value, steps.detail = _step_load(run, click, seconds=seconds)
        steps.runs = [steps.value]
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS public.{FLOOR_TABLE}")
    return [ratio, jsonp, steps]


def _step_load(run, template: str, *, seconds: float) -> tuple[float, dict]:
    held, seen = 0.0, {}
    settle_database()
    for rate in range(200, 2001, 200):
        try:
            result = _load(run, template, rate=rate, seconds=seconds)
        except RuntimeError:
            seen[rate] = "errors"
            break
        seen[rate] = result["p95_ms"]
        # An open-loop generator that could not keep up sent late: that is no pass either.
        on_time = result["seconds"] <= seconds * 1.15
        if result["p95_ms"] > STEP_P95_MS or not on_time:
            break
        held = float(rate)
    return held, {"p95 (ms) per rate (req/s)": seen, "seconds per step": seconds}
