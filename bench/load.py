"""Open-loop HTTP load from a second process: GET a path at a fixed rate, report latencies.

``python -m bench.load --port P --rate 200 --seconds 10 --path-template
'/v2/log/click?key=K&product={n}&visitor=v-load-{n}'`` prints one JSON object:
sent, errors, p50_ms, p95_ms, max_ms.  Requests start on schedule whatever the
latency of earlier ones (a thread pool sends them), so a slow server shows up
as latency, not as a lower rate.

Each request is written and its answer read on a socket of its own (``Connection:
close``, as gunicorn's sync workers answer anyway): the generator shares the machine's two
cores with the server, so it parses no more of an answer than its status line
(``http.client`` cost three times the CPU per request).
"""

from __future__ import annotations

import argparse
import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.stats import percentile


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--path-template", required=True)
    parser.add_argument("--threads", type=int, default=48)
    parser.add_argument(
        "--post-body-template", default="", help="POST this JSON body (formatted with n)"
    )
    parser.add_argument(
        "--until", default="", help="keep going (up to --seconds) until this file exists"
    )
    args = parser.parse_args()
    latencies: list[float] = []
    errors: list[int] = []

    def one(n: int) -> None:
        path = args.path_template.format(n=n)
        if args.post_body_template:
            body = args.post_body_template.replace("{n}", str(n)).encode()
            request = _request("POST", path, args.port, body)
        else:
            request = _request("GET", path, args.port)
        started = time.perf_counter()
        try:
            status = _exchange(args.port, request)
        except (OSError, ValueError):
            status = 599
        elapsed = (time.perf_counter() - started) * 1000
        if status >= 400:
            errors.append(status)
        latencies.append(elapsed)

    total = int(args.rate * args.seconds)
    stop = Path(args.until) if args.until else None
    start = time.perf_counter()
    sent = 0
    with ThreadPoolExecutor(args.threads) as pool:
        for n in range(total):
            if stop is not None and n % int(args.rate) == 0 and stop.exists():
                break
            delay = start + n / args.rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, n)
            sent += 1
    total = sent

    def pct(q: float) -> float:
        return percentile(latencies, q) if latencies else 0.0

    print(
        json.dumps(
            {
                "sent": total,
                "errors": len(errors),
                "error_statuses": sorted(set(errors)),
                "p50_ms": pct(0.5),
                "p95_ms": pct(0.95),
                "max_ms": max(latencies, default=0.0),
                "seconds": time.perf_counter() - start,
            }
        )
    )


def _request(method: str, path: str, port: int, body: bytes = b"") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def _exchange(port: int, request: bytes) -> int:
    """The answer's status: the request sent on a new connection, the answer read to its
    end (the server closes the connection)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        answer = bytearray()
        while chunk := sock.recv(65536):
            answer += chunk
    if not answer.startswith(b"HTTP/1."):
        raise ValueError("no HTTP answer")
    return int(answer[9:12])


if __name__ == "__main__":
    main()
