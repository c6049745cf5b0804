"""Open-loop HTTP load from a second process: GET a path at a fixed rate, report latencies.

``python -m bench.load --port P --rate 200 --seconds 10 --path-template
'/v2/log/click?key=K&product={n}&visitor=v-load-{n}'`` prints one JSON object:
sent, errors, p50_ms, p95_ms, max_ms.  Requests start on schedule whatever the
latency of earlier ones, so a slow server shows up as latency, not as a lower rate.

Several ``--path-template`` (each with its ``--post-body-template``, "" for a GET) are
sent in turn, each at ``--rate``: two request shapes compared in the same seconds see
the same machine, whatever it drifts to. The answer then also holds ``shapes``, the
summary of each.

Each request is written and its answer read on a socket of its own (``Connection:
close``, as gunicorn's sync workers answer anyway), all of them from one thread waiting
on the sockets (``selectors``): the generator shares the machine's two cores with the
server, so it spends no CPU on threads handing work over and parses no more of an answer
than its status line (``http.client`` from a thread pool cost 0.36 ms of CPU per request,
a raw socket per thread 0.25 ms).
"""

from __future__ import annotations

import argparse
import errno
import json
import selectors
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.stats import percentile

TIMEOUT = 30.0


@dataclass
class _Exchange:
    n: int
    started: float
    request: bytes
    answer: bytearray = field(default_factory=bytearray)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--path-template", action="append", required=True)
    parser.add_argument(
        "--post-body-template",
        action="append",
        default=[],
        help="POST this JSON body ({n} replaced), one per --path-template; '' for a GET",
    )
    parser.add_argument(
        "--until", default="", help="keep going (up to --seconds) until this file exists"
    )
    args = parser.parse_args()
    stop = Path(args.until) if args.until else None

    paths = args.path_template
    bodies = [*args.post_body_template, *[""] * len(paths)][: len(paths)]
    shapes = len(paths)

    def request(n: int) -> bytes:
        # Call n is shape n % shapes, numbered n // shapes within it.
        path, body = paths[n % shapes], bodies[n % shapes]
        number = str(n // shapes)
        if body:
            return _request(
                "POST", path.format(n=number), args.port, body.replace("{n}", number).encode()
            )
        return _request("GET", path.format(n=number), args.port)

    rate = args.rate * shapes
    calls = _run(
        ("127.0.0.1", args.port),
        request,
        total=int(rate * args.seconds),
        rate=rate,
        stop=lambda n: stop is not None and n % int(rate) == 0 and stop.exists(),
    )
    seconds = calls.pop()
    result = {**_summary(calls), "seconds": seconds}
    if shapes > 1:
        result["shapes"] = [_summary(calls[i::shapes]) for i in range(shapes)]
    print(json.dumps(result))


def _summary(calls: list[tuple[float, int]]) -> dict:
    latencies = [ms for ms, _ in calls]
    errors = [status for _, status in calls if status >= 400]

    def pct(q: float) -> float:
        return percentile(latencies, q) if latencies else 0.0

    return {
        "sent": len(calls),
        "errors": len(errors),
        "error_statuses": sorted(set(errors)),
        "p50_ms": pct(0.5),
        "p95_ms": pct(0.95),
        "max_ms": max(latencies, default=0.0),
    }


def _run(address, request, *, total: int, rate: float, stop) -> list:
    """Send ``request(n)`` for n in 0..total-1 at ``rate``, each on a new connection: each
    call's (milliseconds, status) in call order, then the seconds it all took. Every call
    ends answered, refused or timed out, so every entry is set when it returns."""
    selector = selectors.DefaultSelector()
    calls: list = [None] * total

    def done(sock: socket.socket, exchange: _Exchange, status: int) -> None:
        selector.unregister(sock)
        sock.close()
        calls[exchange.n] = ((time.perf_counter() - exchange.started) * 1000, status)

    start = time.perf_counter()
    sent = 0
    while True:
        now = time.perf_counter()
        while sent < total and start + sent / rate <= now:
            if stop(sent):
                total = sent
                break
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            exchange = _Exchange(n=sent, started=now, request=request(sent))
            code = sock.connect_ex(address)
            if code not in (0, errno.EINPROGRESS):
                sock.close()
                calls[sent] = (0.0, 599)
            else:
                selector.register(sock, selectors.EVENT_WRITE, exchange)
            sent += 1
        waiting = selector.get_map()
        if sent >= total and not waiting:
            break
        wait = start + sent / rate - time.perf_counter() if sent < total else TIMEOUT
        for key, _ in selector.select(max(0.0, min(wait, TIMEOUT))):
            sock, exchange = key.fileobj, key.data
            try:
                if key.events == selectors.EVENT_WRITE:
                    sock.sendall(exchange.request)
                    selector.modify(sock, selectors.EVENT_READ, exchange)
                    continue
                chunk = sock.recv(65536)
            except OSError:
                done(sock, exchange, 599)
                continue
            if chunk:
                exchange.answer += chunk
                continue
            done(sock, exchange, _status(exchange.answer))
        late = time.perf_counter() - TIMEOUT
        for key in [k for k in list(waiting.values()) if k.data.started < late]:
            done(key.fileobj, key.data, 599)
    return [*calls[:total], time.perf_counter() - start]


def _request(method: str, path: str, port: int, body: bytes = b"") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def _status(answer: bytes) -> int:
    """The answer's status, 599 for anything that is no HTTP answer."""
    if not answer.startswith(b"HTTP/1.") or not answer[9:12].isdigit():
        return 599
    return int(answer[9:12])


if __name__ == "__main__":
    main()
