"""Many jobs at once against the real app and the real Docker Engine
(issue 3, acceptance): two workers share 300 jobs and each job runs exactly
once; one worker runs 150 sleeping jobs at the same moment with bounded
memory."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from cronium_app.jobs.status import TERMINAL
from tests.integration.worker.jobkit import remove_containers_of_workers
from tests.support.app_server import REPO_ROOT, AppServer
from tests.support.clients import UserClient, job_lines, register_user
from tests.support.databases import base_url, is_postgres, migrated_database
from tests.support.worker_process import WorkerProcess

STARTING = re.compile(r"job (\S+) attempt (\d+): starting")
WORKER_PREFIX = f"conc-{secrets.token_hex(2)}"
RESULTS = REPO_ROOT / "test-output" / "concurrency.json"


@pytest.fixture(scope="module")
def worker_app() -> Iterator[AppServer]:
    """This module's app: its own database, default lease."""
    with migrated_database("cronium_concurrency_test") as url:
        with AppServer(database_url=url) as server:
            yield server


@pytest.fixture(scope="module")
def docker_api() -> Iterator[docker.APIClient]:
    client = docker.APIClient(base_url="unix:///var/run/docker.sock", timeout=120)
    yield client
    remove_containers_of_workers(client, WORKER_PREFIX)
    client.close()


@pytest.fixture
def workers() -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop(timeout=30)


def start_worker(app: AppServer, started: list[WorkerProcess], concurrency: int, name: str) -> WorkerProcess:
    worker = WorkerProcess(app.url, worker_id=f"{WORKER_PREFIX}-{name}", concurrency=concurrency)
    started.append(worker)
    return worker.start()


def count(user: UserClient, *statuses: str) -> int:
    response = user.http.get("/api/v1/jobs", params={"status": list(statuses), "limit": 1})
    assert response.status_code == 200, response.text
    return response.json()["total"]


def all_jobs(user: UserClient) -> list[dict[str, Any]]:
    jobs: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 200}
        if cursor:
            params["cursor"] = cursor
        body = user.http.get("/api/v1/jobs", params=params).json()
        jobs.extend(body["items"])
        cursor = body["nextCursor"]
        if not cursor:
            return jobs


def wait_all_terminal(user: UserClient, total: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while (done := count(user, *TERMINAL)) < total:
        if time.monotonic() > deadline:
            raise AssertionError(f"only {done} of {total} jobs ended within {timeout}s")
        time.sleep(0.5)


@contextlib.contextmanager
def container_starts() -> Iterator[Counter]:
    """Count, per job id, the containers the Docker Engine gives a job inside
    the block: a cold container's start (labelled with the job), a warm
    one's rename to the job's container name (a live `docker events`
    subscription: the engine's replay buffer for --since is too small for
    hundreds of containers)."""
    starts: Counter = Counter()
    watcher = subprocess.Popen(
        ["docker", "events", "--filter", "type=container", "--filter", "event=start", "--filter", "event=rename",
         "--format", '{{.Action}} {{index .Actor.Attributes "cronium.job"}} {{.Actor.Attributes.name}}'],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        time.sleep(0.5)  # subscribed before the first job can start
        yield starts
        time.sleep(1)  # the last events are on their way
    finally:
        watcher.terminate()
        out, _ = watcher.communicate(timeout=10)
        starts.update(job for line in out.splitlines() if (job := job_given_a_container(line)))


def job_given_a_container(event: str) -> str | None:
    """The job of a `start` (cold) or `rename` (warm) event line, if any."""
    action, _, rest = event.partition(" ")
    job, _, name = rest.partition(" ")
    if action == "start":
        return job or None  # a warm container's start has no job yet
    named = re.fullmatch(r"cronium-(.+)-a[0-9]+", name)
    return named.group(1) if action == "rename" and named else None


def test_two_workers_run_300_jobs_each_exactly_once(worker_app, workers, docker_api):
    total = 300
    user = register_user(worker_app.url)
    pair = [start_worker(worker_app, workers, 8, name) for name in ("a", "b")]
    event = user.create_event(name="once", type="bash", script='echo "ran once"', timeoutSeconds=120)
    with container_starts() as all_starts:
        began = time.monotonic()
        job_ids = [user.execute(event["id"]) for _ in range(total)]
        wait_all_terminal(user, total, timeout=300)
        elapsed = time.monotonic() - began
        for worker in pair:
            worker.signal(signal.SIGTERM)
            assert worker.wait(30) == 0

    jobs = {job["id"]: job for job in all_jobs(user)}
    assert set(jobs) == set(job_ids)
    not_once = {j["id"]: (j["status"], j["attempt"]) for j in jobs.values() if (j["status"], j["attempt"]) != ("completed", 1)}
    assert not not_once, not_once
    # Each job was started once, by one of the two workers ...
    started = {worker.worker_id: Counter(m.group(1) for m in STARTING.finditer(worker.log_text())) for worker in pair}
    overall = sum(started.values(), Counter())
    assert set(overall) == set(job_ids)
    assert {job_id: n for job_id, n in overall.items() if n != 1} == {}
    assert all(started[w.worker_id] for w in pair), {w: sum(c.values()) for w, c in started.items()}
    # ... and the Docker Engine started exactly one container for each.
    starts = Counter({job_id: n for job_id, n in all_starts.items() if job_id in jobs})
    assert set(starts) == set(job_ids)
    assert {job_id: n for job_id, n in starts.items() if n != 1} == {}
    # The side effect of each run: its one output line, stored once.
    logs = {job_id: job_lines(user, job_id) for job_id in job_ids}
    assert {job_id: lines for job_id, lines in logs.items() if [line["line"] for line in lines] != ["ran once"]} == {}
    print(
        f"\n300 jobs, 2 workers x 8: {elapsed:.1f} s ({total / elapsed:.1f} jobs/s); "
        + ", ".join(f"{w}: {sum(c.values())} jobs" for w, c in started.items())
    )


# -- 150 at once -------------------------------------------------------------------


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (kB) and Threads of a process."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "Threads"):
            values[key] = int(value.split()[0])
    return values


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in map(int, children):
            found += [child, *descendants(child)]
    return found


def worker_memory(pid: int) -> dict[str, int]:
    """The worker's and its children's (if any) VmRSS/VmHWM in kB, summed."""
    total = {"VmRSS": 0, "VmHWM": 0, "Threads": 0, "processes": 0}
    for each in [pid, *descendants(pid)]:
        try:
            status = proc_status(each)
        except FileNotFoundError:
            continue
        for key in ("VmRSS", "VmHWM", "Threads"):
            total[key] += status.get(key, 0)
        total["processes"] += 1
    return total


def save_result(result: dict[str, Any]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    try:
        saved = json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        saved = {}
    saved[result["database"]] = result
    RESULTS.write_text(json.dumps(saved, indent=2) + "\n")


def job_containers_running(docker_api, worker_id: str) -> list[dict[str, Any]]:
    """The worker's running containers that have a job (not the warm ones
    still waiting for one)."""
    running = docker_api.containers(filters={"label": f"cronium.worker={worker_id}", "status": "running"})
    return [info for info in running if not info["Names"][0].startswith("/cronium-pool-")]


@pytest.mark.slow
def test_150_sleeping_jobs_all_run_at_once_with_concurrency_150(worker_app, workers, docker_api):
    # Each job sleeps long enough that the first is still running when the
    # 150th container starts, also while another test session shares the
    # machine's 2 cores (CI runs two at once): with 60 s, a busy machine had
    # started 134 when the first ones ended.
    total, sleep_s = 150, 120
    user = register_user(worker_app.url)
    worker = start_worker(worker_app, workers, total, "wide")
    assert worker.process is not None
    pid = worker.process.pid
    event = user.create_event(
        name="sleeper", type="bash", script=f"echo started; sleep {sleep_s}; echo done", timeoutSeconds=300
    )

    began = time.monotonic()
    job_ids = [user.execute(event["id"]) for _ in range(total)]
    queued_s = time.monotonic() - began

    # Until every container is running and every job reads `running`.
    full_at = None
    peak_containers = peak_api = 0
    memory_peak = worker_memory(pid)
    while full_at is None and time.monotonic() - began < 240:
        containers = len(job_containers_running(docker_api, worker.worker_id))
        running = count(user, "running")
        peak_containers, peak_api = max(peak_containers, containers), max(peak_api, running)
        memory = worker_memory(pid)
        memory_peak = {key: max(value, memory[key]) for key, value in memory_peak.items()}
        if containers == total and running == total:
            full_at = time.monotonic() - began
            stats = user.http.get("/api/v1/jobs/stats").json()
        else:
            time.sleep(0.5)
    assert full_at is not None, (
        f"peak {peak_containers} running containers and {peak_api} running jobs of {total}; "
        f"see {worker.log_path}"
    )
    assert stats["running"] == total and stats["pending"] == 0, stats
    started_at = [
        docker_api.inspect_container(info["Id"])["State"]["StartedAt"]
        for info in job_containers_running(docker_api, worker.worker_id)
    ]

    # Then all of them finish, with both lines.
    deadline = time.monotonic() + 300
    while count(user, *TERMINAL) < total:
        assert time.monotonic() < deadline, f"{count(user, *TERMINAL)} of {total} ended"
        memory = worker_memory(pid)
        memory_peak = {key: max(value, memory[key]) for key, value in memory_peak.items()}
        time.sleep(1)
    all_done_s = time.monotonic() - began
    final = worker_memory(pid)
    memory_peak = {key: max(value, final[key]) for key, value in memory_peak.items()}
    jobs = all_jobs(user)
    assert {(job["status"], job["attempt"]) for job in jobs} == {("completed", 1)}, Counter(
        (job["status"], job["attempt"]) for job in jobs
    )
    bad_logs = {job_id: lines for job_id in job_ids if (lines := [l["line"] for l in job_lines(user, job_id)]) != ["started", "done"]}
    assert bad_logs == {}
    worker.signal(signal.SIGTERM)
    assert worker.wait(60) == 0

    result = {
        "database": "postgresql" if is_postgres(base_url()) else "sqlite",
        "jobs": total,
        "worker_concurrency": total,
        "job_sleep_s": sleep_s,
        "cpus": os.cpu_count(),
        "queue_150_jobs_s": round(queued_s, 2),
        "time_to_full_concurrency_s": round(full_at, 2),
        "container_start_spread_s": round(_spread_s(started_at), 2),
        "all_completed_s": round(all_done_s, 2),
        "peak_concurrency": peak_containers,
        "worker_peak_rss_mb": round(final["VmHWM"] / 1024, 1),
        "worker_max_sampled_rss_mb": round(memory_peak["VmRSS"] / 1024, 1),
        "worker_final_rss_mb": round(final["VmRSS"] / 1024, 1),
        "worker_peak_threads": memory_peak["Threads"],
        "worker_processes": final["processes"],
    }
    save_result(result)
    print("\n" + json.dumps(result, indent=2))
    # Bounded: a few MB per running job at most, not a copy of every log.
    assert final["VmHWM"] < 1024 * 1024, result


def _spread_s(timestamps: list[str]) -> float:
    """Seconds between the first and the last container start (RFC 3339, ns)."""
    from datetime import datetime

    def parse(text: str) -> float:
        whole, _, frac = text.rstrip("Z").partition(".")
        return datetime.fromisoformat(whole + "+00:00").timestamp() + float(f"0.{frac or 0}")

    seconds = sorted(parse(text) for text in timestamps)
    return seconds[-1] - seconds[0] if seconds else 0.0
