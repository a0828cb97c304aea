"""Prometheus metrics: the app's /metrics (behind its token) and a worker's
own port, after jobs run through a real worker in real containers. Both
pages must parse with prometheus_client's own parser, and their counts must
be those of the jobs run."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.worker.jobkit import app_with, submit
from tests.support.app_server import REPO_ROOT, AppServer, free_port
from tests.support.clients import UserClient, register_user, wait_for_job
from tests.support.worker_process import WorkerProcess

TOKEN = "metrics-test-token-0123456789"
CONCURRENCY = 4
PASSING, FAILING = 4, 2
LINES_PER_JOB = 2


@pytest.fixture(scope="module")
def app() -> Iterator[AppServer]:
    with app_with("cronium_metrics_test", {"CRONIUM_METRICS_TOKEN": TOKEN, "CRONIUM_REPLICA_NAME": "replica-a"}) as server:
        yield server


@pytest.fixture(scope="module")
def metrics_worker(app) -> Iterator[WorkerProcess]:
    port = free_port()
    worker = WorkerProcess(app.url, concurrency=CONCURRENCY, env_overrides={"CRONIUM_WORKER_METRICS_PORT": str(port)})
    worker.metrics_url = f"http://127.0.0.1:{port}/metrics"
    with worker:
        yield worker


@pytest.fixture(scope="module")
def jobs_run(app, metrics_worker) -> list[dict]:
    """PASSING jobs that complete and FAILING that fail, each printing LINES_PER_JOB lines."""
    user: UserClient = register_user(app.url)
    ids = [submit(user, "echo one; echo two") for _ in range(PASSING)]
    ids += [submit(user, "echo one; echo two; exit 3") for _ in range(FAILING)]
    return [wait_for_job(user, job_id) for job_id in ids]


def scrape(app: AppServer, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.get(f"{app.url}/metrics", headers=headers, timeout=30)


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of the page, parsed by prometheus_client: (name, labels) -> value."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def total(found: dict, name: str, **labels: str) -> float:
    """The sum of `name`'s samples that carry these labels (others summed over)."""
    wanted = set(labels.items())
    return sum(value for (sample, have), value in found.items() if sample == name and wanted <= have)


def test_metrics_are_off_without_a_token_configured(app_server):
    response = httpx.get(f"{app_server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404
    assert "CRONIUM_METRICS_TOKEN" in response.json()["error"]["message"]


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_metrics_refuse_a_missing_or_wrong_token(app, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = httpx.get(f"{app.url}/metrics", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["message"]


def test_app_jobs_total_matches_the_jobs_run(app, jobs_run):
    assert sorted(job["status"] for job in jobs_run) == ["completed"] * PASSING + ["failed"] * FAILING
    found = samples(scrape(app).text)
    assert total(found, "cronium_jobs_total", status="completed", type="bash") == PASSING
    assert total(found, "cronium_jobs_total", status="failed", type="bash") == FAILING
    assert total(found, "cronium_jobs_queued") == 0
    assert total(found, "cronium_jobs_running") == 0


def test_app_histograms_count_each_job_once(app, jobs_run):
    found = samples(scrape(app).text)
    assert total(found, "cronium_job_duration_seconds_count", type="bash", status="completed", replica="replica-a") == PASSING
    assert total(found, "cronium_job_duration_seconds_count", type="bash", status="failed", replica="replica-a") == FAILING
    assert total(found, "cronium_job_queue_wait_seconds_count", type="bash", replica="replica-a") == PASSING + FAILING
    assert total(found, "cronium_log_lines_total", replica="replica-a") == (PASSING + FAILING) * LINES_PER_JOB


def test_app_sees_the_worker_and_its_slots(app, jobs_run):
    deadline = time.monotonic() + 20  # slots are written at most every 5 s per worker
    while True:
        found = samples(scrape(app).text)
        now = (total(found, "cronium_workers_online"), total(found, "cronium_worker_slots_used"),
               total(found, "cronium_worker_slots_available"))
        if now == (1, 0, CONCURRENCY) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert now == (1, 0, CONCURRENCY)


def test_http_requests_are_labelled_by_route_template_without_ids(app, jobs_run):
    text = scrape(app).text
    found = samples(text)
    routes = {dict(labels).get("route") for (name, labels) in found if name == "cronium_http_request_duration_seconds_count"}
    assert "/api/v1/jobs/{job_id}" in routes and "/api/internal/jobs/{job_id}/complete" in routes
    for job in jobs_run:
        assert job["id"] not in text


def test_scheduler_lag_is_zero_with_nothing_overdue(app, jobs_run):
    assert total(samples(scrape(app).text), "cronium_scheduler_lag_seconds") == 0


def test_worker_page_counts_its_jobs_and_lines(metrics_worker, jobs_run):
    found = samples(httpx.get(metrics_worker.metrics_url, timeout=10).text)
    assert total(found, "cronium_worker_jobs_total", status="completed") == PASSING
    assert total(found, "cronium_worker_jobs_total", status="failed") == FAILING
    assert total(found, "cronium_container_start_seconds_count") == PASSING + FAILING
    assert total(found, "cronium_worker_log_lines_sent_total") == (PASSING + FAILING) * LINES_PER_JOB
    assert total(found, "cronium_worker_slots_used") == 0
    assert total(found, "cronium_worker_slots_available") == CONCURRENCY


def test_worker_metrics_listen_on_loopback_only_by_default(metrics_worker):
    port = int(re.search(r":(\d+)/", metrics_worker.metrics_url)[1])
    assert f"metrics on http://127.0.0.1:{port}/metrics" in metrics_worker.log_text()


def test_grafana_dashboard_uses_only_metrics_served(app, metrics_worker, jobs_run):
    served = {name for name, _ in samples(scrape(app).text)}
    served |= {name for name, _ in samples(httpx.get(metrics_worker.metrics_url, timeout=10).text)}
    dashboard = json.loads((REPO_ROOT / "deploy" / "grafana" / "cronium.json").read_text())
    used = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\bcronium_\w+", target["expr"])
    }
    assert used and used <= served, used - served
