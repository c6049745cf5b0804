"""Where tracking calls start to fail: a rate ramp of /v2/log/click against one server.

    python -m bench.saturation [--server gunicorn|runserver] [--workers 3]
                               [--rates 100,200,300,400,600,800] [--seconds 6]

Builds a throw-away store with one key, starts the server (gunicorn as `make run`
serves, or the development server as `make run` used to), sends each rate for
``--seconds`` (open loop, bench/load.py, per-key rate limit off), then drops the store.
Prints per rate: calls sent, answers that were not 200 (by status), p50/p95 and the
PostgreSQL connections of the database after the step. The per-key rate limit's
default (API_RATE_LIMIT_REQUESTS / API_RATE_LIMIT_WINDOW) is set below the rate
where the first step fails (README "Operations").
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from django.db import connection

import bench.django_setup  # noqa: F401, I001  (Django first)
from bench.processes import _env
from clerkgdpr.processes import free_port, start_gunicorn, start_web, stop_process
from clerkgdpr.runtime import BASE_DIR
from customers.api.keys import api_key_create
from stores.models import Account, Store
from stores.services import account_create, store_create

SLUG = "bench-saturation"


def _connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=["gunicorn", "runserver"], default="gunicorn")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--rates", default="100,200,300,400,600,800")
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument(
        "--store", default="", help="an existing store (e.g. the bench store kept by --keep)"
    )
    args = parser.parse_args()

    if args.store:
        store, account = Store.objects.get(slug=args.store), None
    else:
        Store.objects.filter(slug=SLUG).first() and Store.objects.get(slug=SLUG).delete(
            force_drop=True
        )
        account = Account.objects.filter(slug=SLUG).first() or account_create(slug=SLUG, name=SLUG)
        store = store_create(account=account, slug=SLUG, name=SLUG, product_codes=["search"])
    key = api_key_create(store=store, label="saturation").api_key.key
    env = {**_env(), "API_RATE_LIMIT_REQUESTS": "0"}
    port = free_port()
    log = Path(tempfile.mkdtemp()) / "web.log"
    if args.server == "gunicorn":
        proc = start_gunicorn(port=port, workers=args.workers, env=env, log_path=log)
    else:
        command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
        proc = start_web(command, port=port, env=env, log_path=log)
    rows = []
    try:
        for rate in [float(r) for r in args.rates.split(",")]:
            run = subprocess.run(
                [
                    sys.executable, "-m", "bench.load", "--port", str(port),
                    "--rate", str(rate), "--seconds", str(args.seconds),
                    "--path-template",
                    f"/v2/log/click?key={key}&product={{n}}&visitor=v-sat-{{n}}",
                ],
                cwd=BASE_DIR, capture_output=True, text=True, check=True,
            )  # fmt: skip
            result = json.loads(run.stdout.strip().splitlines()[-1])
            achieved = result["sent"] / max(result["seconds"], 1e-9)
            row = {
                "rate": rate,
                "achieved": round(achieved, 1),
                **{k: result[k] for k in ("sent", "errors", "error_statuses")},
                "p50_ms": round(result["p50_ms"], 1),
                "p95_ms": round(result["p95_ms"], 1),
                "connections": _connections(),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        stop_process(proc, timeout=20)
        if account is not None:
            Store.objects.get(slug=SLUG).delete(force_drop=True)
            account.delete()
    print(json.dumps({"server": args.server, "workers": args.workers, "steps": rows}))


if __name__ == "__main__":
    main()
