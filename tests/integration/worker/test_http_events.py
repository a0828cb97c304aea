"""HTTP events run by the real worker: the response lands in the log and
the result; private addresses are refused unless the admin allows them."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from tests.support.clients import job_lines, wait_for_job
from tests.support.worker_process import WorkerProcess


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        status = 500 if self.path == "/fail" else 200
        body = b"hello from the test server\nsecond line\n"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
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
