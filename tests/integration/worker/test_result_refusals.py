"""A result the app refuses (its request size limit, here 16 KiB, against an
HTTP event's 40 KB response kept as the job's output) still ends the job at
once, failed and saying why, on its first attempt: it is not left held
until its lease runs out to run again and be refused again."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from tests.integration.worker.jobkit import app_with, brief
from tests.support.app_server import AppServer
from tests.support.clients import wait_for_job
from tests.support.worker_process import WorkerProcess

APP_REQUEST_MAX = 16 * 1024
BODY = b"x" * 40_000


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def local_site() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def worker_app() -> Iterator[AppServer]:
    with app_with("cronium_result_refusals", {"CRONIUM_REQUEST_MAX_BYTES": str(APP_REQUEST_MAX)}) as server:
        yield server


def test_a_result_over_the_apps_limit_fails_the_job_once_saying_why(worker_app, worker_user, local_site):
    event = worker_user.create_event(name="big answer", type="http", script="", httpRequest={"method": "GET", "url": f"{local_site}/"})
    with WorkerProcess(worker_app.url, env_overrides={"CRONIUM_HTTP_ALLOW_PRIVATE": "true"}) as worker:
        job = wait_for_job(worker_user, worker_user.execute(event["id"]), timeout=60)
        assert job["status"] == "failed", brief(job)
        assert job["error"].startswith("the app refused this job's result (413"), brief(job)
        assert (job["attempt"], job["exitCode"], job["output"]) == (1, None, None), brief(job)
        assert "app refused the result" in worker.log_text()
