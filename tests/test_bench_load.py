"""The load generator (`python -m bench.load`): every call sent on schedule and answered,
shapes sent in turn reported each on its own, failures counted as errors."""

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from clerkgdpr.processes import free_port

ROOT = Path(__file__).resolve().parent.parent


class _Answers(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, bytes]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.seen.append((self.command, self.path, body))
        status = 404 if self.path.startswith("/missing") else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    _Answers.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def _load(port: int, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.load", f"--port={port}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_two_shapes_are_sent_in_turn_each_at_the_rate_and_reported_apart(server):
    result = _load(
        server,
        "--rate=50",
        "--seconds=1",
        "--path-template=/ok?n={n}",
        "--path-template=/missing/{n}",
        "--post-body-template=",
        '--post-body-template={"n": {n}}',
    )
    ok, missing = result["shapes"]
    assert (ok["sent"], ok["errors"]) == (50, 0)
    assert (missing["sent"], missing["errors"], missing["error_statuses"]) == (50, 50, [404])
    assert (result["sent"], result["errors"]) == (100, 50)
    assert 0.9 < result["seconds"] < 3
    gets = sorted(path for method, path, _ in _Answers.seen if method == "GET")
    posts = [(path, body) for method, path, body in _Answers.seen if method == "POST"]
    assert gets == sorted(f"/ok?n={n}" for n in range(50))
    assert sorted(posts) == sorted((f"/missing/{n}", f'{{"n": {n}}}'.encode()) for n in range(50))


def test_one_shape_has_no_shapes_and_a_closed_port_is_an_error_per_call():
    result = _load(free_port(), "--rate=20", "--seconds=1", "--path-template=/ok")
    assert "shapes" not in result
    assert (result["sent"], result["errors"], result["error_statuses"]) == (20, 20, [599])
