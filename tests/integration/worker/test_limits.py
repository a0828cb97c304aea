"""The container's limits as a script sees them (non-root, read-only root,
no capabilities, no network), the job's result (exit code, metrics), and
cancel of a running job."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cronium_app.jobs.status import TERMINAL
from tests.integration.worker.jobkit import (
    Survival,
    brief,
    assert_container_gone,
    job_containers,
    submit,
    texts,
    wait_for_container,
)
from tests.support.app_server import AppServer
from tests.support.clients import job_lines, wait_for_job
from tests.support.databases import migrated_database
from tests.support.worker_process import WorkerProcess

MB = 1024 * 1024

METRICS = """\
import time
block = bytearray(48 * 1024 * 1024)
for i in range(0, len(block), 4096):
    block[i] = 1  # touch every page
end = time.process_time() + 1.2
while time.process_time() < end:
    pass
print("done", flush=True)
"""

# Where the worker reads container metrics on this host (cgroup v1 or v2).
CGROUP_METRICS = any(
    Path(p).is_dir()
    for p in ("/sys/fs/cgroup/memory/docker", "/sys/fs/cgroup/docker", "/sys/fs/cgroup/system.slice")
)


@pytest.fixture(scope="module")
def jobs(running_worker, worker_user) -> dict[str, str]:
    u = worker_user
    return {
        "metrics": submit(u, METRICS, kind="python", name="metrics"),
        "uid": submit(u, "id -u; id -g", name="uid"),
        "root_fs": submit(u, "awk '$2 == \"/\" { print $4 }' /proc/mounts", name="root fs"),
        "caps": submit(u, "grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status", name="caps"),
        "netdev": submit(u, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '", name="interfaces", network="none"),
        "exit3": submit(u, "echo before exit; exit 3", name="exit 3"),
    }


@pytest.fixture(scope="module")
def survival(worker_user, running_worker) -> Survival:
    return Survival(worker_user, running_worker)


def test_runs_as_non_root_and_stores_exit_code_zero(jobs, worker_user, survival):
    job = wait_for_job(worker_user, jobs["uid"], timeout=60)
    assert job["status"] == "completed" and job["error"] is None, brief(job)
    assert job["exitCode"] == 0 and job["result"]["exitCode"] == 0
    assert texts(job_lines(worker_user, job["id"])) == ["10001", "10001"]
    survival.check(job)


def test_root_filesystem_is_read_only(jobs, worker_user, survival):
    job = wait_for_job(worker_user, jobs["root_fs"], timeout=60)
    assert job["status"] == "completed" and job["exitCode"] == 0, brief(job)
    [options] = texts(job_lines(worker_user, job["id"]))
    assert options.split(",")[0] == "ro", options
    survival.check(job)


def test_no_capabilities_and_no_new_privileges(jobs, worker_user, survival):
    job = wait_for_job(worker_user, jobs["caps"], timeout=60)
    assert job["status"] == "completed" and job["exitCode"] == 0, brief(job)
    fields = dict(line.split(":", 1) for line in texts(job_lines(worker_user, job["id"])))
    fields = {key: value.strip() for key, value in fields.items()}
    for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert fields[key] == "0000000000000000", fields
    assert fields["NoNewPrivs"] == "1", fields
    survival.check(job)


def test_network_none_has_only_loopback(jobs, worker_user, survival):
    job = wait_for_job(worker_user, jobs["netdev"], timeout=60)
    assert job["status"] == "completed" and job["exitCode"] == 0, brief(job)
    assert texts(job_lines(worker_user, job["id"])) == ["lo"]
    survival.check(job)


def test_result_has_duration_peak_memory_and_cpu_time(jobs, worker_user, survival):
    job = wait_for_job(worker_user, jobs["metrics"], timeout=60)
    assert job["status"] == "completed" and job["exitCode"] == 0, brief(job)
    result = job["result"]
    assert result["exitCode"] == 0 and result["durationMs"] >= 1000, result
    metrics = result["metrics"]
    assert metrics["duration_ms"] >= 1000, metrics
    if CGROUP_METRICS:  # the engine's cgroups are visible here: both are reported
        assert "peak_memory_bytes" in metrics and "cpu_time_ms" in metrics, metrics
    if "peak_memory_bytes" in metrics:
        assert 48 * MB <= metrics["peak_memory_bytes"] <= 256 * MB, metrics
    if "cpu_time_ms" in metrics:
        assert 800 <= metrics["cpu_time_ms"] <= metrics["duration_ms"] * 1.1 + 300, metrics
    survival.check(job)


def test_script_exiting_3_fails_with_exit_code_3(jobs, worker_user, survival):
    job = wait_for_job(worker_user, jobs["exit3"], timeout=60)
    assert job["status"] == "failed", brief(job)
    assert job["exitCode"] == 3 and job["result"]["exitCode"] == 3
    assert "exited with code 3" in job["error"], job["error"]
    assert texts(job_lines(worker_user, job["id"])) == ["before exit"]
    survival.check(job)


def test_cancel_of_a_running_job_ends_it_and_removes_its_container(jobs, worker_user, running_worker, survival):
    """How fast is `make bench`'s figure (cancel latency against `docker stop`
    + remove in the same run); here, the cancel must end the job long before
    its 60 s script or its 120 s timeout would."""
    job_id = submit(worker_user, "echo started; sleep 60; echo never", name="to cancel", timeoutSeconds=120)
    wait_for_container(job_id)
    deadline = time.monotonic() + 30
    while True:  # running, and its script has started
        lines = texts(job_lines(worker_user, job_id))
        job = worker_user.job(job_id)
        if job["status"] == "running" and lines == ["started"]:
            break
        assert job["status"] not in TERMINAL, brief(job)
        assert time.monotonic() < deadline, (brief(job), lines)
        time.sleep(0.05)

    asked = time.monotonic()
    response = worker_user.http.post(f"/api/v1/jobs/{job_id}/cancel")
    assert response.status_code == 200, response.text
    assert response.json()["cancelRequested"] is True
    try:
        job = wait_for_job(worker_user, job_id, timeout=10)
    except AssertionError as exc:
        worker_log = [line for line in running_worker.log_text().splitlines() if job_id in line or "heartbeat" in line]
        raise AssertionError(f"{exc}; worker log: {worker_log[-10:]}") from None
    assert_container_gone(job_id, timeout=5)
    elapsed = time.monotonic() - asked
    print(f"cancel: status cancelled and container gone {elapsed:.2f} s after the request")
    assert job["status"] == "cancelled", brief(job)
    assert "cancel" in job["error"]
    assert job_containers(job_id) == []
    assert "never" not in texts(job_lines(worker_user, job_id))
    survival.check(job)


def test_a_worker_of_another_installation_leaves_this_jobs_container_alone(jobs, worker_user, survival):
    """Two Cronium installations (two apps, their own workers) on one Docker
    engine: the other worker's reaper must not take this job's container for
    a leftover just because its own app has never heard of the job."""
    with migrated_database("cronium_other_install") as url, AppServer(database_url=url) as other_app:
        job_id = submit(worker_user, "echo started; sleep 4; echo finished", name="long enough", timeoutSeconds=60)
        wait_for_container(job_id)
        wait_for_job(worker_user, job_id, statuses=("running",), timeout=30)
        with WorkerProcess(other_app.url, concurrency=2) as stranger:  # reaps on start
            job = wait_for_job(worker_user, job_id, timeout=60)
            stranger_log = stranger.log_text()
    assert job_id not in stranger_log, stranger_log
    assert job["status"] == "completed" and job["exitCode"] == 0, (job["status"], job["error"])
    assert texts(job_lines(worker_user, job_id)) == ["started", "finished"]
    survival.check(job)
