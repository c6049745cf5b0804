"""Load figures for the store API (a measurement, not a test). No Django: HTTP only.

Run from the repository root against a server (gunicorn, 2 workers) on a seeded database:

    python -m bench.store_api events --url http://127.0.0.1:8005 --key K --private-key P
    python -m bench.store_api click  --url ... --key K --rate 200 --seconds 30
    python -m bench.store_api info   --url ... --key K --private-key P --events 50000

``events``: batches of 1,000 mixed events from ``--clients`` connections for
``--seconds``; prints events/s. ``click``: an open-loop schedule of single
``/v2/log/click`` calls at ``--rate`` per second; latency is measured from each
call's scheduled time (no coordinated omission); prints p50/p95/p99.
``info``: loads ``--events`` events for one subject through /api/v1/events,
then times ``/v2/privacy/info`` for it (whole body read).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import random
import statistics
import threading
import time
import urllib.parse

from bench.stats import percentile


def _conn(url: str) -> http.client.HTTPConnection:
    parts = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=60)


def _batch(
    rng: random.Random, size: int, visitors: int, t: int, per_visitor: int = 1
) -> list[dict]:
    """``per_visitor`` consecutive events per visitor: 1 is the worst case (every event
    updates another visitor), 10 is closer to real traffic (a few clicks per visit)."""
    events = []
    visitor = ""
    for i in range(size):
        if i % per_visitor == 0:
            visitor = f"bench-{rng.randrange(visitors)}"
        roll = rng.random()
        if roll < 0.5:
            e = {"kind": "page", "url": f"/c/{rng.randrange(500)}", "title": "Bench"}
        elif roll < 0.8:
            e = {"kind": "product", "product": rng.randrange(1000, 1400), "api": "search/search"}
        else:
            e = {"kind": "click", "product": rng.randrange(1000, 1400), "n": rng.randrange(12)}
        e.update(visitor=visitor, time=t)
        events.append(e)
    return events


def post_events(url, auth, body: bytes, conn=None):
    conn = conn or _conn(url)
    conn.request(
        "POST",
        "/api/v1/events",
        body=body,
        headers={"Authorization": auth, "Content-Type": "application/json"},
    )
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise SystemExit(f"events: HTTP {response.status}: {data[:300]!r}")
    return conn


def bench_events(args) -> None:
    auth = f"Bearer {args.key}:{args.private_key}"
    rng = random.Random(1)
    now = int(time.time()) - 3600
    bodies = [
        json.dumps({"events": _batch(rng, 1000, args.visitors, now + i, args.per_visitor)}).encode()
        for i in range(40)
    ]
    done = [0]
    lock = threading.Lock()
    stop = time.monotonic() + args.seconds

    def client(n: int) -> None:
        conn = _conn(args.url)
        i = n
        while time.monotonic() < stop:
            conn = post_events(args.url, auth, bodies[i % len(bodies)], conn)
            i += args.clients
            with lock:
                done[0] += 1000

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    print(
        f"events: {done[0]:,} events in {elapsed:.1f}s = {done[0] / elapsed:,.0f} events/s "
        f"({args.clients} clients, batches of 1,000, {args.per_visitor} per visitor)"
    )


async def _click_worker(host, port, queue: asyncio.Queue, latencies: list, errors: list):
    reader, writer = await asyncio.open_connection(host, port)
    while True:
        item = await queue.get()
        if item is None:
            writer.close()
            return
        scheduled, path = item
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n\r\n".encode()
        )
        await writer.drain()
        status_line = await reader.readline()
        length = 0
        close = False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            lowered = line.lower()
            if lowered.startswith(b"content-length:"):
                length = int(line.split(b":")[1])
            elif lowered.startswith(b"connection:") and b"close" in lowered:
                close = True
        await reader.readexactly(length)
        latencies.append(time.monotonic() - scheduled)
        if b" 200 " not in status_line:
            errors.append(status_line)
        if close:  # gunicorn's sync workers close after every response
            writer.close()
            reader, writer = await asyncio.open_connection(host, port)


async def _bench_click(args) -> None:
    parts = urllib.parse.urlsplit(args.url)
    queue: asyncio.Queue = asyncio.Queue()
    latencies: list[float] = []
    errors: list = []
    workers = [
        asyncio.create_task(_click_worker(parts.hostname, parts.port, queue, latencies, errors))
        for _ in range(args.connections)
    ]
    rng = random.Random(2)
    total = int(args.rate * args.seconds)
    start = time.monotonic() + 0.5
    for i in range(total):
        scheduled = start + i / args.rate
        delay = scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        query = urllib.parse.urlencode(
            {
                "key": args.key,
                "product": rng.randrange(1000, 1400),
                "visitor": f"click-{rng.randrange(5000)}",
                "api": "search/search",
                "n": rng.randrange(12),
            }
        )
        queue.put_nowait((scheduled, f"/v2/log/click?{query}"))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    achieved = len(latencies) / (time.monotonic() - start)
    p50, p95, p99 = (percentile(latencies, q) * 1000 for q in (0.5, 0.95, 0.99))
    print(
        f"click: {len(latencies):,} calls at {args.rate}/s target ({achieved:.0f}/s done), "
        f"{len(errors)} non-200; latency p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
        f"p99 {p99:.1f} ms, max {max(latencies) * 1000:.1f} ms"
    )


def bench_info(args) -> None:
    auth = f"Bearer {args.key}:{args.private_key}"
    subject = f"info-{int(time.time())}"
    email = f"{subject}@bench.example"
    now = int(time.time()) - 86400
    conn = _conn(args.url)
    first = [{"kind": "email", "visitor": subject, "email": email, "time": now}]
    post_events(args.url, auth, json.dumps({"events": first}).encode(), conn)
    rng = random.Random(3)
    sent = 0
    while sent < args.events:
        batch = _batch(rng, min(1000, args.events - sent), 1, now + 1 + sent // 1000)
        for e in batch:
            e["visitor"] = subject
        post_events(args.url, auth, json.dumps({"events": batch}).encode(), conn)
        sent += len(batch)
    query = urllib.parse.urlencode({"key": args.key, "private_key": args.private_key})
    times = []
    size = 0
    for kind, value in (("email", email), ("visitor", subject)) * args.repeat:
        started = time.monotonic()
        conn.request("GET", f"/v2/privacy/info?{query}&{kind}={urllib.parse.quote(value)}")
        response = conn.getresponse()
        body = response.read()
        times.append(time.monotonic() - started)
        size = len(body)
        doc = json.loads(body)
        assert response.status == 200 and len(doc["activity"]) == args.events, response.status
    times.sort()
    print(
        f"info: subject with {args.events:,} events ({size / 1e6:.1f} MB answer): "
        f"median {statistics.median(times) * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms "
        f"over {len(times)} calls"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=["events", "click", "info"])
    parser.add_argument("--url", default="http://127.0.0.1:8005")
    parser.add_argument("--key", required=True)
    parser.add_argument("--private-key", default="")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--visitors", type=int, default=20_000)
    parser.add_argument("--per-visitor", type=int, default=1, help="events per visitor in a row")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.scenario == "events":
        bench_events(args)
    elif args.scenario == "click":
        asyncio.run(_bench_click(args))
    else:
        bench_info(args)


if __name__ == "__main__":
    main()
