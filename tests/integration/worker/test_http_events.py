"""HTTP events run by the real worker: the response lands in the log and
the result; private addresses are refused unless the admin allows them."""

from __future__ import annotations

import functools
import http.server
import threading
import zlib
from collections.abc import Iterator

import pytest

from tests.support.clients import job_lines, wait_for_job
from tests.support.worker_process import WorkerProcess


BOMB_MB = 200


def _gzip_stream(chunks: Iterator[bytes]) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return b"".join([*(compressor.compress(chunk) for chunk in chunks), compressor.flush()])


@functools.cache
def double_gzip_bomb() -> bytes:
    """BOMB_MB MB of one letter, gzipped twice: a few hundred bytes on the wire."""
    inner = _gzip_stream(b"A" * (1 << 20) for _ in range(BOMB_MB))
    return _gzip_stream(iter([inner]))


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        status = 500 if self.path == "/fail" else 200
        body = b"hello from the test server\nsecond line\n"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        if self.path == "/double-gzip-bomb":
            body = double_gzip_bomb()
            self.send_header("Content-Encoding", "gzip, gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def local_site() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def permissive_worker(worker_app) -> Iterator[WorkerProcess]:
    """A worker whose admin allows HTTP events to private addresses."""
    with WorkerProcess(worker_app.url, env_overrides={"CRONIUM_HTTP_ALLOW_PRIVATE": "true"}) as worker:
        yield worker


def _http_event(user, url: str) -> dict:
    return user.create_event(type="http", script="", httpRequest={"method": "GET", "url": url})


def test_http_event_response_is_logged_and_stored(permissive_worker, worker_user, local_site):
    job_id = worker_user.execute(_http_event(worker_user, f"{local_site}/ok")["id"])
    job = wait_for_job(worker_user, job_id)
    assert job["status"] == "completed" and job["output"]["status"] == 200
    assert "hello from the test server" in [line["line"] for line in job_lines(worker_user, job_id)]


def test_http_event_with_error_status_fails(permissive_worker, worker_user, local_site):
    job = wait_for_job(worker_user, worker_user.execute(_http_event(worker_user, f"{local_site}/fail")["id"]))
    assert job["status"] == "failed" and "500" in job["error"]


def test_http_event_to_loopback_is_refused_by_default(worker_app, worker_user, local_site, permissive_worker):
    permissive_worker.stop()
    with WorkerProcess(worker_app.url):
        job = wait_for_job(worker_user, worker_user.execute(_http_event(worker_user, f"{local_site}/ok")["id"]))
    assert job["status"] == "failed" and "refused" in job["error"]


def _memory_kb(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (the peak so far) of a process, in kB."""
    fields = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status").read().splitlines() if ":" in line)
    return {name: int(fields[name].split()[0]) for name in ("VmRSS", "VmHWM")}


def test_a_double_gzip_bomb_ends_the_job_and_the_worker_stays_small(worker_app, worker_user, local_site):
    double_gzip_bomb()  # made before the measurement
    with WorkerProcess(worker_app.url, env_overrides={"CRONIUM_HTTP_ALLOW_PRIVATE": "true"}) as worker:
        assert worker.process is not None
        before = _memory_kb(worker.process.pid)
        job = wait_for_job(worker_user, worker_user.execute(_http_event(worker_user, f"{local_site}/double-gzip-bomb")["id"]))
        after = _memory_kb(worker.process.pid)

        assert job["status"] == "completed", job
        assert job["output"]["body"] == "A" * 64 * 1024  # the default body cap
        assert job["result"]["metrics"]["body_truncated"] is True
        # The worker inflated no more than the cap: its peak stayed far below the bomb's size.
        assert after["VmHWM"] - before["VmRSS"] < 40 * 1024, (before, after)

        survivor = wait_for_job(worker_user, worker_user.execute(_http_event(worker_user, f"{local_site}/ok")["id"]))
        assert survivor["status"] == "completed" and survivor["attempt"] == 1
        assert worker.process.poll() is None
