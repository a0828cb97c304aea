"""Hostile and broken scripts: each ends with a status that tells what
happened, its container removed, and the worker (and the host) unharmed.

All jobs of the module are queued at once (one worker, concurrency 8); each
test then waits for its own job."""

from __future__ import annotations

import random
import re
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.integration.worker.jobkit import (
    Survival,
    app_with,
    brief,
    job_containers,
    network_gateway,
    submit,
    texts,
    wait_for_container,
)
from tests.support.app_server import AppServer
from tests.support.clients import job_lines, wait_for_job
from tests.support.worker_process import WorkerProcess

STOP_GRACE_S = 3  # SIGTERM → SIGKILL at a timeout
LOG_CAP = 5 * 1024 * 1024  # the default per-job log cap, set explicitly
TMPFS_MB = 64

FORK_BOMB = """\
import os, sys, time
said = False
while True:
    try:
        os.fork()  # parent and every child keep forking
    except OSError as exc:
        if not said:
            print(f"fork failed: {exc}", file=sys.stderr, flush=True)
            said = True
        time.sleep(0.01)
"""

MEMORY_HOG = """\
hog = []
while True:
    hog.append(b"x" * (8 * 1024 * 1024))
"""

# ~1 GB of 1000-character lines; the log cap stops it after ~5 MB.
LOG_FLOOD = """\
line=$(printf 'x%.0s' $(seq 1000))
yes "$line" | head -c 1000000000
"""

NETWORK_TRY = """\
import sys, urllib.request
reached = 0
for url in ["http://{gateway}:{port}/", "http://127.0.0.1:{port}/"]:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            print("reached", url, response.status, flush=True)
            reached += 1
    except Exception as exc:
        print("unreachable", url, type(exc).__name__, exc, file=sys.stderr, flush=True)
sys.exit(0 if reached else 1)
"""

READ_ONLY = """\
touch /tmp/ok && echo "tmp is writable"
touch /work/ok && echo "work is writable"
status=0
for path in /etc/x /opt/x /usr/local/bin/x /x /run/cronium/x; do
    touch "$path" || status=1
done
exit $status
"""

GARBAGE_SEED = 7
GARBAGE_SEEDED = f"""\
import random, sys
sys.stdout.buffer.write(random.Random({GARBAGE_SEED}).randbytes(100_000))
"""

IGNORES_SIGTERM = """\
trap 'echo "got SIGTERM, ignoring it"' TERM
echo started
while :; do sleep 0.2; done
"""


# Allowed (app and worker), so that the worker gets as far as the engine.
MISSING_IMAGE = "no-such-image:latest"
ALLOW_MISSING_IMAGE = {"CRONIUM_ALLOWED_IMAGES": MISSING_IMAGE}


@pytest.fixture(scope="module")
def worker_app() -> Iterator[AppServer]:
    with app_with("cronium_hostile_test", ALLOW_MISSING_IMAGE) as server:
        yield server


@pytest.fixture(scope="module")
def running_worker(worker_app) -> Iterator[WorkerProcess]:
    overrides = {
        **ALLOW_MISSING_IMAGE,
        "CRONIUM_WORKER_STOP_GRACE": str(STOP_GRACE_S),
        "CRONIUM_JOB_LOG_MAX_BYTES": str(LOG_CAP),
        "CRONIUM_JOB_TMPFS_MB": str(TMPFS_MB),
        "CRONIUM_ALLOW_EGRESS": "true",
    }
    with WorkerProcess(worker_app.url, concurrency=8, env_overrides=overrides) as worker:
        yield worker


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = b"hello from the host\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def host_listener() -> Iterator[tuple[str, int]]:
    """An HTTP server on every host address, which no job may reach: not
    without a network, nor with one through a bridge gateway (this machine)."""
    server = ThreadingHTTPServer(("0.0.0.0", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield network_gateway("bridge"), server.server_address[1]  # docker0, e.g. 172.17.0.1
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def jobs(running_worker, worker_user, host_listener) -> dict[str, str]:
    """Queue every hostile job up front, longest first."""
    gateway, port = host_listener
    network_script = NETWORK_TRY.format(gateway=gateway, port=port)
    u = worker_user
    return {
        "fork_bomb": submit(u, FORK_BOMB, kind="python", name="fork bomb", pidsLimit=64, cpus=0.5, timeoutSeconds=6),
        "sigterm": submit(u, IGNORES_SIGTERM, name="ignores SIGTERM", timeoutSeconds=2),
        "cpu_spin": submit(u, "while :; do :; done", name="cpu spin", cpus=0.5, timeoutSeconds=2),
        "log_flood": submit(u, LOG_FLOOD, name="prints 1 GB", timeoutSeconds=120),
        "memory_hog": submit(u, MEMORY_HOG, kind="python", name="memory hog", memoryMb=64),
        "fill_tmp": submit(u, "dd if=/dev/zero of=/tmp/fill bs=1M count=200", name="fills /tmp"),
        "network_none": submit(u, network_script, kind="python", name="tries the network", network="none"),
        "network_egress": submit(u, network_script, kind="python", name="egress control", network="egress"),
        "read_only": submit(u, READ_ONLY, name="writes outside tmpfs"),
        "garbage": submit(u, "head -c 100000 /dev/urandom", name="binary garbage"),
        "garbage_seeded": submit(u, GARBAGE_SEEDED, kind="python", name="binary garbage (seeded)"),
        "no_image": submit(u, "echo never", name="missing image", image=MISSING_IMAGE),
    }


@pytest.fixture(scope="module")
def survival(worker_user, running_worker) -> Survival:
    return Survival(worker_user, running_worker)


def test_fork_bomb_is_held_by_the_pids_limit(jobs, worker_user, survival):
    job_id = jobs["fork_bomb"]
    container = wait_for_container(job_id)
    wait_for_job(worker_user, job_id, statuses=("running",), timeout=30)
    time.sleep(1.5)  # let it hit the limit
    assert worker_user.job(job_id)["status"] == "running"
    pids = container.stats(stream=False, one_shot=True)["pids_stats"]
    assert pids["limit"] == 64 and 0 < pids["current"] <= 64, pids
    assert container.attrs["HostConfig"]["PidsLimit"] == 64
    subprocess.run(["true"], check=True, timeout=10)  # the host still forks

    job = wait_for_job(worker_user, job_id, timeout=60)
    assert job["status"] in ("timed_out", "failed"), brief(job)
    if job["status"] == "timed_out":
        assert "timed out after 6 s" in job["error"]
    else:
        assert "log limit" in job["error"]
    assert any("Resource temporarily unavailable" in line for line in texts(job_lines(worker_user, job_id), "stderr"))
    survival.check(job)


def test_script_ignoring_sigterm_is_killed_after_the_grace_period(jobs, worker_user, survival):
    job_id = jobs["sigterm"]
    job = wait_for_job(worker_user, job_id, timeout=60)
    assert job["status"] == "timed_out", brief(job)
    assert "timed out after 2 s" in job["error"]
    stdout = texts(job_lines(worker_user, job_id), "stdout")
    assert stdout[0] == "started"
    assert "got SIGTERM, ignoring it" in stdout  # SIGTERM came and was ignored...
    duration_s = job["result"]["metrics"]["duration_ms"] / 1000
    assert 2 + STOP_GRACE_S - 0.5 <= duration_s <= 2 + STOP_GRACE_S + 10, job["result"]  # ...then SIGKILL
    survival.check(job)


def test_cpu_spin_is_limited_and_timed_out(jobs, worker_user, survival):
    job_id = jobs["cpu_spin"]
    job = wait_for_job(worker_user, job_id, timeout=60)
    assert job["status"] == "timed_out", brief(job)
    assert "timed out after 2 s" in job["error"]
    metrics = job["result"]["metrics"]
    assert 2000 <= metrics["duration_ms"] <= 2000 + STOP_GRACE_S * 1000 + 5000, metrics
    if "cpu_time_ms" in metrics:  # where the engine reports it: the 0.5 CPU quota held
        assert 0 < metrics["cpu_time_ms"] <= 0.5 * metrics["duration_ms"] * 1.25 + 300, metrics
    survival.check(job)


def test_printing_a_gigabyte_hits_the_log_cap(jobs, worker_user, survival):
    job_id = jobs["log_flood"]
    job = wait_for_job(worker_user, job_id, timeout=90)
    assert job["status"] == "failed", brief(job)
    assert "log limit" in job["error"] and str(LOG_CAP) in job["error"], job["error"]
    lines = job_lines(worker_user, job_id)
    system = [item for item in lines if item["stream"] == "system"]
    assert len(system) == 1 and "log truncated" in system[0]["line"], system
    assert lines[-1] == system[0]  # nothing after the marker
    stored = sum(len(item["line"].encode()) + 1 for item in lines if item["stream"] != "system")
    assert LOG_CAP - 2 * 1001 <= stored <= LOG_CAP, stored
    assert set(texts(lines, "stdout")) == {"x" * 1000}
    assert [item["seq"] for item in lines] == list(range(1, len(lines) + 1))
    survival.check(job)


def test_memory_hog_is_oom_killed_and_reported(jobs, worker_user, survival):
    job_id = jobs["memory_hog"]
    job = wait_for_job(worker_user, job_id, timeout=60)
    assert job["status"] == "failed", brief(job)
    assert job["exitCode"] == 137 and job["result"]["exitCode"] == 137
    assert "out of memory" in job["error"] and "OOMKilled" in job["error"], job["error"]
    assert "64 MB" in job["error"]
    survival.check(job)


def test_filling_tmp_stops_at_the_tmpfs_cap(jobs, worker_user, survival):
    job_id = jobs["fill_tmp"]
    job = wait_for_job(worker_user, job_id, timeout=60)
    assert job["status"] == "failed" and job["exitCode"] == 1, brief(job)
    stderr = texts(job_lines(worker_user, job_id), "stderr")
    assert any("No space left on device" in line for line in stderr), stderr
    copied = [int(m.group(1)) for line in stderr if (m := re.match(r"(\d+) bytes", line))]
    assert copied and copied[0] <= TMPFS_MB * 1024 * 1024, stderr
    survival.check(job)


def test_network_none_cannot_reach_the_host_or_loopback(jobs, worker_user, survival, host_listener):
    gateway, port = host_listener
    job_id = jobs["network_none"]
    job = wait_for_job(worker_user, job_id, timeout=60)
    assert job["status"] == "failed" and job["exitCode"] == 1, brief(job)
    lines = job_lines(worker_user, job_id)
    assert texts(lines, "stdout") == []
    stderr = texts(lines, "stderr")
    assert any(f"unreachable http://{gateway}:{port}/" in line and "Network is unreachable" in line for line in stderr), stderr
    assert any(f"unreachable http://127.0.0.1:{port}/" in line for line in stderr), stderr
    survival.check(job)

    # Control: the listener is there (it answers the host itself), and the
    # same script with egress has a network, yet is refused at once by the
    # job network's firewall (tests/integration/worker/test_egress_policy.py).
    with urllib.request.urlopen(f"http://{gateway}:{port}/", timeout=3) as response:
        assert response.status == 200
    control = wait_for_job(worker_user, jobs["network_egress"], timeout=60)
    assert control["status"] == "failed" and control["exitCode"] == 1, brief(control)
    stderr = texts(job_lines(worker_user, control["id"]), "stderr")
    assert any(f"unreachable http://{gateway}:{port}/" in line and "Connection refused" in line for line in stderr), stderr
    survival.check(control)


def test_writing_outside_the_tmpfs_fails_read_only(jobs, worker_user, survival):
    job_id = jobs["read_only"]
    job = wait_for_job(worker_user, job_id, timeout=60)
    assert job["status"] == "failed" and job["exitCode"] == 1, brief(job)
    lines = job_lines(worker_user, job_id)
    assert texts(lines, "stdout") == ["tmp is writable", "work is writable"]
    stderr = texts(lines, "stderr")
    for path in ("/etc/x", "/opt/x", "/usr/local/bin/x", "/x", "/run/cronium/x"):
        assert f"touch: cannot touch '{path}': Read-only file system" in stderr, stderr
    survival.check(job)


def _expected_lines(data: bytes) -> list[str]:
    """Invalid UTF-8 and NUL become U+FFFD; lines split on \\n."""
    text = data.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    *complete, last = text.split("\n")
    return complete + ([last] if last else [])


def test_binary_garbage_on_stdout_is_stored_cleaned(jobs, worker_user, survival):
    job = wait_for_job(worker_user, jobs["garbage"], timeout=60)
    assert job["status"] == "completed" and job["exitCode"] == 0, brief(job)
    lines = job_lines(worker_user, job["id"])
    assert len(lines) > 100
    assert all("\x00" not in item["line"] for item in lines)
    assert any("\ufffd" in item["line"] for item in lines)
    assert {item["stream"] for item in lines} == {"stdout"}
    survival.check(job)

    # Same, with known bytes: every line is stored exactly, cleaned.
    seeded = wait_for_job(worker_user, jobs["garbage_seeded"], timeout=60)
    assert seeded["status"] == "completed" and seeded["exitCode"] == 0, brief(seeded)
    stored = [line.removesuffix("\r") for line in texts(job_lines(worker_user, seeded["id"]))]
    expected = [line.removesuffix("\r") for line in _expected_lines(random.Random(GARBAGE_SEED).randbytes(100_000))]
    assert stored == expected
    survival.check(seeded)


def test_missing_image_fails_with_a_clear_reason(jobs, worker_user, survival):
    job_id = jobs["no_image"]
    job = wait_for_job(worker_user, job_id, timeout=60)
    assert job["status"] == "failed", brief(job)
    assert "image not found" in job["error"] and "no-such-image:latest" in job["error"], job["error"]
    assert job_containers(job_id) == []
    system = texts(job_lines(worker_user, job_id), "system")
    assert any("no-such-image:latest" in line for line in system), system
    survival.check(job)
