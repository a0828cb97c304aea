"""Figures of the container worker: what it adds on top of Docker itself,
with its pool of warm containers (WARM, the default) and without (COLD,
CRONIUM_POOL_SIZE=0). Everything runs against the real app (a subprocess on
a fresh, migrated database) and the real worker (`python -m
orchestrator_worker`, a subprocess), on the local Docker Engine, over real
HTTP. Each figure is measured next to its baseline in the same run,
interleaved where the measurement is serial, so that the load other work
puts on the machine hits both sides alike. bench/README.md describes every
figure.

Phases (sizes full / --quick), in this order, on SQLite:

1. Latency (worker concurrency 8), warm then cold. 30 / 10 rounds after 3
   warm-ups; each runs, in a rotating order, a trivial job end to end (a
   bash event `true`: execute, then poll the job every 5 ms until it is
   terminal) and a raw `docker run --rm --network none IMAGE true`; cold
   rounds also make the worker's Docker calls through the SDK. The job's
   timestamps and metrics split its time into phases.
2. Pool (warm): a waiting warm container's memory and CPU; how fast two
   taken containers are replaced.
3. Throughput (concurrency 8), warm then cold: 200 / 60 trivial jobs queued
   at once, against as many raw `docker run`s 8 at a time (half before,
   half after the jobs).
4. Cancel (warm): 10 / 4 `sleep 300` jobs cancelled once running; time
   until `cancelled` AND the container gone, against `docker stop -t 1` +
   `docker rm` of a raw container.
5. Log ingest (warm): one python job printing 200,000 lines; lines per
   second stored, every line once and in order; against the same program
   under a raw `docker run`. Measured again on PostgreSQL.
6. Concurrency (a warm worker with concurrency 120): 120 jobs sleeping 45 s
   queued at once: peaks of claimed jobs and of running containers.
7. Completion (a warm worker with concurrency 16): 500 / 100 trivial jobs;
   none lost.

The goals from the issue are printed (met / MISSED) but do not fail the
suite; wrong results do (a job that does not complete, a missing or doubled
log line, a container left behind by a cancel, a lost job).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import docker

from bench import (
    SQLITE,
    databases,
    HttpxHttp,
    Options,
    RawHttp,
    Reply,
    SuiteFailed,
    app_cpu_seconds,
    close_all,
    fresh_app,
    hammer,
    open_callers,
    p50,
    percentile,
)
from bench.suite import Suite, load_average
from cronium_app.jobs.status import TERMINAL
from tests.support.app_server import AppServer
from tests.support.clients import register_user
from tests.support.worker_process import WorkerProcess

IMAGE = "cronium-runtime:latest"
QUEUE_CONCURRENCY = 16  # callers queueing a burst of jobs
POLL_S = 0.005  # e2e / cancel polling interval
LOG_LINES = 200_000
CONCURRENCY_JOBS = 120
# Long enough that the last of 120 containers starts before the first ends
# (starting 120 at once takes 20-30 s on 2 cores).
CONCURRENCY_SLEEP_S = 45
BENCH_LABEL = "cronium.bench"
# The worker's modes: its default pool of warm containers, or none.
WARM, COLD = "warm", "cold"

# figure -> the figure it is shown against (same run).
BASELINES = {
    "e2e_trivial_job_p50_ms": "raw_docker_run_p50_ms",
    "e2e_trivial_job_p95_ms": "raw_docker_run_p95_ms",
    "e2e_trivial_job_cold_p50_ms": "raw_docker_run_cold_p50_ms",
    "e2e_trivial_job_cold_p95_ms": "raw_docker_run_cold_p95_ms",
    "sdk_docker_run_p50_ms": "raw_docker_run_cold_p50_ms",
    "sdk_docker_run_p95_ms": "raw_docker_run_cold_p95_ms",
    "e2e_server_p50_ms": "raw_docker_run_p50_ms",
    "e2e_cold_server_p50_ms": "raw_docker_run_cold_p50_ms",
    "container_cold_startup_p50_ms": "raw_docker_run_cold_p50_ms",
    "throughput_jobs_per_s": "raw_docker_throughput_runs_per_s",
    "throughput_cold_jobs_per_s": "raw_docker_throughput_cold_runs_per_s",
    "cancel_latency_p50_ms": "raw_docker_stop_remove_p50_ms",
    "cancel_latency_p95_ms": "raw_docker_stop_remove_p95_ms",
    "log_ingest_sqlite_lines_per_s": "raw_docker_log_lines_sqlite_per_s",
    "log_ingest_postgres_lines_per_s": "raw_docker_log_lines_postgres_per_s",
}

# figure, "<=" / ">=" / "<" , goal: printed at the end (not a failure).
GOALS = [
    ("e2e_vs_raw_ratio", "<=", 0.5),
    ("throughput_vs_raw_ratio", ">=", 1.5),
    ("throughput_cold_vs_raw_ratio", ">=", 0.95),
    ("log_ingest_sqlite_lines_per_s", ">=", 50_000),
    ("log_ingest_postgres_lines_per_s", ">=", 50_000),
    ("log_ingest_sqlite_missing_count", "<=", 0),
    ("log_ingest_sqlite_doubled_count", "<=", 0),
    ("log_ingest_postgres_missing_count", "<=", 0),
    ("log_ingest_postgres_doubled_count", "<=", 0),
    ("cancel_latency_p50_ms", "<", 1000),
    ("container_cold_startup_p50_ms", "<", 2000),
    ("peak_concurrent_jobs_count", ">=", 100),
    ("peak_running_containers_count", ">=", 100),
    ("completion_rate_pct", ">=", 100),
    ("lost_jobs_count", "<=", 0),
]


def ts(value: str | None) -> float | None:
    """An API timestamp as epoch seconds."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() if value else None


# -- the suite -------------------------------------------------------------------


def run(suite: Suite) -> None:
    with docker_engine(suite) as engine:
        with fresh_app(SQLITE, "cronium_bench_worker") as app:
            WorkerBench(suite, app, engine).measure()
        for db in databases(note=suite.say):
            if db.label != SQLITE.label:
                with fresh_app(db, "cronium_bench_worker") as app:
                    WorkerBench(suite, app, engine).measure_log_ingest(db.label)
    suite.print_goals(GOALS)


@dataclass
class DockerEngine:
    """The local Docker Engine as one suite run uses it."""

    client: docker.DockerClient
    tag: str  # labels the containers the bench starts itself: cronium.bench=<tag>
    worker_ids: list[str] = field(default_factory=list)  # the workers this run started

    def new_worker_id(self, name: str) -> str:
        """An id for a worker of this run; its containers are removed at the end."""
        worker_id = f"bench-{self.tag}-{name}"
        self.worker_ids.append(worker_id)
        return worker_id

    def remove_leftovers(self, say: Callable[[str], None]) -> None:
        """Containers this run started (raw baselines) or its workers left."""
        labels = [f"{BENCH_LABEL}={self.tag}", *(f"cronium.worker={wid}" for wid in self.worker_ids)]
        for label in labels:
            try:
                for info in self.client.api.containers(all=True, filters={"label": label}):
                    with contextlib.suppress(docker.errors.NotFound):
                        self.client.api.remove_container(info["Id"], force=True)
            except Exception as exc:  # best effort on the way out
                say(f"could not clean up containers labelled {label}: {exc}")


@contextlib.contextmanager
def docker_engine(suite: Suite) -> Iterator[DockerEngine]:
    """The local Docker Engine, checked for the runtime image; on the way
    out, whatever the run's containers and workers left is removed. The
    load average is said at both ends: Docker's figures move with it."""
    client = docker.from_env(timeout=120)
    engine = DockerEngine(client, secrets.token_hex(3))
    try:
        try:
            client.images.get(IMAGE)
        except docker.errors.ImageNotFound:
            raise SuiteFailed(f"image {IMAGE} is missing: run `make image` first") from None
        suite.say(f"load average {load_average()} on {os.cpu_count()} CPUs")
        yield engine
    finally:
        engine.remove_leftovers(suite.say)
        client.close()
    suite.say(f"load average at the end: {load_average()}")


@contextlib.contextmanager
def running_worker(app: AppServer, worker_id: str, concurrency: int, mode: str = WARM) -> Iterator[WorkerProcess]:
    """The real worker, with its default pool (WARM) or none (COLD); stopped
    on the way out (SIGTERM, SIGKILL if stuck)."""
    worker = WorkerProcess(
        app.url,
        worker_id=worker_id,
        concurrency=concurrency,
        # The grace only shortens teardown when a phase is cut short; no effect on figures.
        env_overrides={"CRONIUM_WORKER_SHUTDOWN_GRACE": "5", "CRONIUM_POOL_SIZE": None if mode == WARM else "0"},
    )
    try:
        worker.start()
        yield worker
    finally:
        worker.stop(timeout=30)


# -- the user's side of the API -----------------------------------------------------


class Api:
    """A user's API calls over one bench load connection (cheap by default)."""

    def __init__(self, http: RawHttp | HttpxHttp):
        self.http = http

    async def _json(self, method: str, path: str, expect: int = 200, **kwargs) -> Any:
        reply: Reply = await self.http.request(method, path, **kwargs)
        if reply.status_code != expect:
            raise AssertionError(f"{method} {path} -> {reply.status_code}: {reply.text[:300]}")
        return reply.json()

    async def execute(self, event_id: int) -> str:
        return (await self._json("POST", f"/api/v1/events/{event_id}/execute", 202))["jobId"]

    async def job(self, job_id: str) -> dict[str, Any]:
        return await self._json("GET", f"/api/v1/jobs/{job_id}")

    async def cancel(self, job_id: str) -> dict[str, Any]:
        return await self._json("POST", f"/api/v1/jobs/{job_id}/cancel")

    async def stats(self) -> dict[str, Any]:
        return await self._json("GET", "/api/v1/jobs/stats")

    async def jobs_of_event(self, event_id: int) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"eventId": event_id, "limit": 200}
            if cursor:
                params["cursor"] = cursor
            page = await self._json("GET", "/api/v1/jobs", params=params)
            items.extend(page["items"])
            cursor = page.get("nextCursor")
            if not cursor:
                return items

    async def all_lines(self, job_id: str) -> list[dict[str, Any]]:
        lines: list[dict[str, Any]] = []
        after = 0
        while True:
            body = await self._json("GET", f"/api/v1/jobs/{job_id}/logs", params={"after_seq": after, "limit": 10_000})
            lines.extend(body["lines"])
            if not body["lines"]:
                return lines
            after = body["lastSeq"]

    async def wait_idle(self, timeout: float, interval: float = 0.25, stall: float = 60.0,
                        on_sample: Callable[[dict[str, Any]], Any] | None = None) -> bool:
        """Poll the stats until this user has nothing pending or running.
        False at `timeout`, or when nothing moved for `stall` seconds."""
        deadline = time.monotonic() + timeout
        last, last_change = None, time.monotonic()
        while time.monotonic() < deadline:
            stats = await self.stats()
            if on_sample is not None:
                result = on_sample(stats)
                if asyncio.iscoroutine(result):
                    await result
            left = (stats["pending"], stats["running"])
            if left == (0, 0):
                return True
            if left != last:
                last, last_change = left, time.monotonic()
            elif time.monotonic() - last_change > stall:
                return False
            await asyncio.sleep(interval)
        return False


async def queue_burst(options: Options, app: AppServer, token: str, event_id: int, count: int) -> tuple[float, list[str]]:
    """`count` executes from 16 concurrent callers; (wall time of the first send, job ids)."""
    created: list[str] = []

    def check(reply: Reply) -> None:
        if reply.status_code != 202:
            raise AssertionError(f"execute -> {reply.status_code}: {reply.text[:300]}")
        created.append(reply.json()["jobId"])

    callers = open_callers(options, app.url, QUEUE_CONCURRENCY, {"Authorization": f"Bearer {token}"})
    first = time.time()
    try:
        await hammer(callers, count, lambda http: http.request("POST", f"/api/v1/events/{event_id}/execute"), check)
    finally:
        await close_all(callers)
    return first, created


@dataclass
class User:
    token: str
    events: dict[str, int] = field(default_factory=dict)


def new_user(app: AppServer, **events: dict[str, Any]) -> User:
    """A newly registered user and its events (name -> the event's fields)."""
    client = register_user(app.url)
    try:
        ids = {name: client.create_event(name=f"bench {name}", **fields)["id"] for name, fields in events.items()}
    finally:
        client.http.close()
    return User(client.token, ids)


def user_connection(options: Options, app: AppServer, user: User) -> RawHttp | HttpxHttp:
    """One load connection that calls the API as `user`."""
    return open_callers(options, app.url, 1, {"Authorization": f"Bearer {user.token}"})[0]


# -- warm containers -------------------------------------------------------------------


async def wait_for_warm(dock: docker.DockerClient, worker_id: str, count: int, *, exclude: frozenset[str] | set[str] = frozenset(),
                        timeout: float = 120) -> list[dict[str, Any]]:
    """The worker's running warm containers (none taken by a job yet, none
    in `exclude`) once there are `count` of them."""
    deadline = time.monotonic() + timeout
    while True:
        found = [
            info
            for info in await asyncio.to_thread(
                dock.api.containers, filters={"label": ["cronium.pool", f"cronium.worker={worker_id}"], "status": "running"})
            if info["Names"][0].startswith("/cronium-pool-") and info["Id"] not in exclude
        ]
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(found)} warm containers of worker {worker_id} after {timeout} s, not {count}")
        await asyncio.sleep(0.01)


def _cgroup_file(container_id: str, controller_v1: str, name: str) -> Path | None:
    for path in (Path("/sys/fs/cgroup") / controller_v1 / "docker" / container_id / name,
                 Path("/sys/fs/cgroup/docker") / container_id / name,
                 Path(f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope") / name):
        if path.exists():
            return path
    return None


def container_memory_bytes(container_id: str) -> int | None:
    """The container's resident memory (its processes' anonymous pages, from
    the cgroup's memory.stat: total_rss on cgroup v1, anon on v2)."""
    path = _cgroup_file(container_id, "memory", "memory.stat")
    if path is None:
        return None
    stats = dict(line.split() for line in path.read_text().splitlines())
    value = stats.get("total_rss", stats.get("anon"))
    return int(value) if value is not None else None


def container_cpu_ns(container_id: str) -> int | None:
    path = _cgroup_file(container_id, "cpuacct", "cpuacct.usage")
    if path is not None:
        return int(path.read_text())
    path = _cgroup_file(container_id, "", "cpu.stat")
    if path is None:
        return None
    stats = dict(line.split() for line in path.read_text().splitlines())
    return int(stats["usage_usec"]) * 1000


# -- docker baselines ------------------------------------------------------------------


async def timed_cli(*args: str) -> float:
    """Seconds one docker CLI command takes; raises if it fails."""
    began = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        "docker", *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    elapsed = time.perf_counter() - began
    if proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args[:3])} ... exited {proc.returncode}: {err.decode()[-300:]}")
    return elapsed


def raw_runs_parallel(count: int, parallel: int, tag: str) -> float:
    """Seconds for `count` raw `docker run --rm` from `parallel` threads."""

    def one(_: int) -> None:
        done = subprocess.run(
            ["docker", "run", "--rm", "--network", "none", "--label", f"{BENCH_LABEL}={tag}", IMAGE, "true"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300,
        )
        if done.returncode != 0:
            raise AssertionError(f"raw docker run exited {done.returncode}: {done.stderr.decode()[-300:]}")

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        list(pool.map(one, range(count)))
    return time.perf_counter() - began


class SdkRunner:
    """The Docker calls the worker makes for one job, made by the bench
    itself: the worker's own container config (DockerRunner._create: init,
    read-only root, two tmpfs, the script bind mount, limits, non-root user,
    labels), then attach, start, read the output to its end, wait, inspect,
    and remove. Each step is timed; `run` is create through inspect (what a
    job waits for; the worker removes the container after reporting)."""

    STEPS = ("create", "attach", "start", "wait", "remove")

    def __init__(self, dock: docker.DockerClient, worker_id: str):
        from orchestrator_worker.executors.docker_runner import DockerRunner
        from orchestrator_worker.settings import WorkerSettings

        self.dock = dock
        self.worker_id = worker_id
        self.run_dir = Path(tempfile.mkdtemp(prefix="cronium-bench-sdk-"))
        self.settings = WorkerSettings(CRONIUM_WORKER_ID=worker_id, CRONIUM_WORKER_RUN_DIR=str(self.run_dir), CRONIUM_POOL_SIZE=0,
                                       ORCHESTRATOR_TOKEN="bench-docker-sdk-only")  # talks to Docker, never to an app
        settings = self.settings
        self.runner = DockerRunner(settings)
        self.count = 0

    def run_once(self) -> dict[str, float]:
        from orchestrator_worker.job_limits import job_limits
        from orchestrator_worker.jobs import ClaimedJob

        self.count += 1
        job = ClaimedJob(id=f"{self.worker_id}-{self.count}", attempt=1, type="bash", user_id=0,
                         execution={"type": "bash", "script": "true"}, input=None, log_seq_start=1)
        api = self.runner.client.api
        job_dir = self.runner._job_dir(f"{job.id}-a1")
        self.runner._write_script(job_dir, "bash", "true")
        t0 = time.perf_counter()
        container_id = self.runner._create(job, "bash", IMAGE, job_limits(None, self.settings), job_dir)
        try:
            t1 = time.perf_counter()
            stream = api.attach(container_id, stdout=True, stderr=True, stream=True, logs=True, demux=True)
            t2 = time.perf_counter()
            api.start(container_id)
            t3 = time.perf_counter()
            for _ in stream:
                pass
            status = api.wait(container_id)
            api.inspect_container(container_id)
            t4 = time.perf_counter()
        finally:
            t5 = time.perf_counter()
            with contextlib.suppress(docker.errors.NotFound):
                api.remove_container(container_id, force=True)
            t6 = time.perf_counter()
            shutil.rmtree(job_dir, ignore_errors=True)
        if status.get("StatusCode") != 0:
            raise AssertionError(f"the bench's own job container exited {status}")
        return {"create": t1 - t0, "attach": t2 - t1, "start": t3 - t2, "wait": t4 - t3, "remove": t6 - t5,
                "run": t4 - t0}

    def close(self) -> None:
        self.runner.close()
        shutil.rmtree(self.run_dir, ignore_errors=True)


# -- the measurements ------------------------------------------------------------------


class WorkerBench:
    def __init__(self, suite: Suite, app: AppServer, engine: DockerEngine):
        self.suite = suite
        self.app = app
        self.engine = engine
        self.options = suite.options
        self.figures = suite.figures
        self.dock = engine.client
        self.tag = engine.tag

    def worker(self, concurrency: int, mode: str):
        return running_worker(self.app, self.engine.new_worker_id(f"{mode}{concurrency}"), concurrency, mode)

    def user(self, **events: dict[str, Any]) -> User:
        return new_user(self.app, **events)

    def api(self, user: User) -> Api:
        return Api(user_connection(self.options, self.app, user))

    def measure(self) -> None:
        phase = self.suite.phase
        with self.worker(8, WARM) as worker:
            phase("latency (warm)", lambda: asyncio.run(self.latency(worker, WARM)))
            phase("pool", lambda: asyncio.run(self.pool_figures(worker)))
            phase("throughput (warm)", lambda: asyncio.run(self.throughput(worker, WARM)))
            phase("cancel", lambda: asyncio.run(self.cancel()))
            phase("log ingest", lambda: asyncio.run(self.log_ingest(worker, SQLITE.label)))
        with self.worker(8, COLD) as worker:
            phase("latency (cold)", lambda: asyncio.run(self.latency(worker, COLD)))
            phase("throughput (cold)", lambda: asyncio.run(self.throughput(worker, COLD)))
        with self.worker(CONCURRENCY_JOBS, WARM) as worker:
            phase("concurrency", lambda: asyncio.run(self.concurrency(worker)))
        with self.worker(16, WARM):
            phase("completion", lambda: asyncio.run(self.completion()))

    def measure_log_ingest(self, db_label: str) -> None:
        with self.worker(8, WARM) as worker:
            self.suite.phase(f"log ingest ({db_label})", lambda: asyncio.run(self.log_ingest(worker, db_label)))

    # (a) -----------------------------------------------------------------------------

    async def latency(self, worker: WorkerProcess, mode: str) -> None:
        """Phase 1 for one worker mode: WARM (the pool on) or COLD (off).
        Figures of the cold rounds carry `_cold` in their names."""
        n, warm = self.options.pick(30, 10), 3
        sfx = "" if mode == WARM else "_cold"
        user = await asyncio.to_thread(self.user, trivial={"type": "bash", "script": "true"})
        api = self.api(user)
        sdk = SdkRunner(self.dock, self.engine.new_worker_id("sdk")) if mode == COLD else None
        raw = ["run", "--rm", "--network", "none", "--label", f"{BENCH_LABEL}={self.tag}", IMAGE, "true"]
        e2e: list[dict[str, Any]] = []
        raws: list[float] = []
        sdks: list[dict[str, float]] = []

        async def job_round() -> dict[str, Any]:
            if mode == WARM:
                await wait_for_warm(self.dock, worker.worker_id, 1)
            before = (app_cpu_seconds(self.app), _cpu_seconds(worker))
            row = await self._one_job(api, user.events["trivial"])
            after = (app_cpu_seconds(self.app), _cpu_seconds(worker))
            if None not in before and None not in after:
                row["app_cpu"], row["worker_cpu"] = after[0] - before[0], after[1] - before[1]
            return row

        try:
            for i in range(warm + n):
                steps = [("e2e", job_round), ("raw", lambda: timed_cli(*raw))]
                if sdk is not None:
                    steps.append(("sdk", lambda: asyncio.to_thread(sdk.run_once)))
                shift = i % len(steps)  # rotate the order: none always runs first
                got: dict[str, Any] = {}
                for name, step in steps[shift:] + steps[:shift]:
                    got[name] = await step()
                if i >= warm:
                    e2e.append(got["e2e"])
                    raws.append(got["raw"])
                    if sdk is not None:
                        sdks.append(got["sdk"])
        finally:
            await api.http.aclose()
            if sdk is not None:
                sdk.close()

        bad = [row for row in e2e if row["status"] != "completed"]
        f = self.figures
        ms = lambda values, pct: percentile(values, pct) * 1000.0  # noqa: E731
        total = [row["e2e"] for row in e2e]
        f[f"e2e_trivial_job{sfx}_p50_ms"] = ms(total, 50)
        f[f"e2e_trivial_job{sfx}_p95_ms"] = ms(total, 95)
        f[f"raw_docker_run{sfx}_p50_ms"] = ms(raws, 50)
        f[f"raw_docker_run{sfx}_p95_ms"] = ms(raws, 95)
        f[f"e2e{sfx}_vs_raw_ratio"] = f[f"e2e_trivial_job{sfx}_p50_ms"] / f[f"raw_docker_run{sfx}_p50_ms"]
        f[f"e2e{sfx}_overhead_p50_ms"] = f[f"e2e_trivial_job{sfx}_p50_ms"] - f[f"raw_docker_run{sfx}_p50_ms"]
        f[f"e2e{sfx}_paired_overhead_p50_ms"] = ms([row["e2e"] - r for row, r in zip(e2e, raws)], 50)
        if sdks:
            # The worker's Docker calls, made by the bench itself (no app, no queue).
            sdk_run = [row["run"] for row in sdks]
            f["sdk_docker_run_p50_ms"] = ms(sdk_run, 50)
            f["sdk_docker_run_p95_ms"] = ms(sdk_run, 95)
            for step in SdkRunner.STEPS:
                f[f"sdk_docker_{step}_p50_ms"] = ms([row[step] for row in sdks], 50)
            f["e2e_cold_overhead_vs_sdk_p50_ms"] = f["e2e_trivial_job_cold_p50_ms"] - f["sdk_docker_run_p50_ms"]
        f[f"e2e{sfx}_server_p50_ms"] = ms([row["created_to_completed"] for row in e2e], 50)
        # Where the end-to-end time goes (medians of each phase, per job).
        for key in ("execute_call", "created_to_acknowledged", "acknowledged_to_started", "acknowledged_to_completed",
                    "completed_to_seen"):
            f[f"e2e{sfx}_{key}_p50_ms"] = ms([row[key] for row in e2e], 50)
        metric_rows = [row for row in e2e if {"create_ms", "start_ms", "duration_ms"} <= row["metrics"].keys()]
        if metric_rows:
            m = lambda key: [row["metrics"][key] for row in metric_rows]  # noqa: E731
            f[f"e2e{sfx}_container_create_p50_ms"] = p50(m("create_ms"))
            f[f"e2e{sfx}_container_start_p50_ms"] = p50(m("start_ms"))
            f[f"e2e{sfx}_container_run_p50_ms"] = p50(m("duration_ms"))
            f[f"container{sfx}_startup_p50_ms"] = p50([a + b for a, b in zip(m("create_ms"), m("start_ms"))])
            # acknowledged (claimed) -> completed minus the three steps the
            # worker times: the rest of its critical path (claim reply, job
            # directory, the `complete` call and its DB write).
            f[f"e2e{sfx}_worker_untimed_p50_ms"] = p50([
                row["acknowledged_to_completed"] * 1000.0
                - row["metrics"]["create_ms"] - row["metrics"]["start_ms"] - row["metrics"]["duration_ms"]
                for row in metric_rows])
            f[f"e2e{sfx}_warm_jobs_count"] = sum(1 for row in metric_rows if row["metrics"].get("warm"))
        else:
            self.suite.problems.append("latency: the jobs' results carry no create_ms/start_ms/duration_ms metrics")
        cpu_rows = [row for row in e2e if "app_cpu" in row]
        if cpu_rows:
            f[f"e2e{sfx}_app_cpu_per_job_ms"] = 1000.0 * sum(r["app_cpu"] for r in cpu_rows) / len(cpu_rows)
            f[f"e2e{sfx}_worker_cpu_per_job_ms"] = 1000.0 * sum(r["worker_cpu"] for r in cpu_rows) / len(cpu_rows)
        f[f"e2e{sfx}_polls_per_job_count"] = sum(row["polls"] for row in e2e) / len(e2e)
        f[f"e2e{sfx}_rounds_count"] = len(e2e)
        self.suite.say(f"{mode}: e2e p50 {f[f'e2e_trivial_job{sfx}_p50_ms']:.0f} ms, raw docker run p50 "
                       f"{f[f'raw_docker_run{sfx}_p50_ms']:.0f} ms (ratio {f[f'e2e{sfx}_vs_raw_ratio']:.2f}); "
                       f"load average {load_average()}")
        if bad:
            raise AssertionError(f"{len(bad)} trivial jobs did not complete: {bad[0]['job']}")

    async def _one_job(self, api: Api, event_id: int) -> dict[str, Any]:
        """Execute, then poll every 5 ms until the job is terminal."""
        sent = time.time()
        began = time.perf_counter()
        job_id = await api.execute(event_id)
        answered = time.time()
        polls = 0
        while True:
            job = await api.job(job_id)
            polls += 1
            if job["status"] in TERMINAL:
                break
            if time.perf_counter() - began > 120:
                raise AssertionError(f"job {job_id} still {job['status']} after 120 s")
            await asyncio.sleep(POLL_S)
        elapsed = time.perf_counter() - began
        seen = time.time()
        created, acked, started, completed = (ts(job.get(k)) for k in ("createdAt", "acknowledgedAt", "startedAt", "completedAt"))
        return {
            "job": {k: job.get(k) for k in ("id", "status", "error", "exitCode")},
            "status": job["status"],
            "e2e": elapsed,
            "execute_call": answered - sent,
            "created_to_acknowledged": (acked or created) - created,
            "acknowledged_to_started": (started or acked or created) - (acked or created),
            "started_to_completed": completed - (started or acked or created),
            "acknowledged_to_completed": completed - (acked or created),
            "created_to_completed": completed - created,
            "completed_to_seen": seen - completed,
            "metrics": (job.get("result") or {}).get("metrics") or {},
            "polls": polls,
        }

    # (b) -----------------------------------------------------------------------------

    async def throughput(self, worker: WorkerProcess, mode: str) -> None:
        """Phase 2 for one worker mode (figures of the cold run carry `_cold`)."""
        n = self.options.pick(200, 60)
        sfx = "" if mode == WARM else "_cold"
        user = await asyncio.to_thread(self.user, trivial={"type": "bash", "script": "true"})
        half = n // 2
        raw_first = await asyncio.to_thread(raw_runs_parallel, half, 8, self.tag)
        if mode == WARM:
            await wait_for_warm(self.dock, worker.worker_id, 2)
        cpu_before = (app_cpu_seconds(self.app), _cpu_seconds(worker))
        first, created = await queue_burst(self.options, self.app, user.token, user.events["trivial"], n)
        api = self.api(user)
        try:
            idle = await api.wait_idle(timeout=600)
            cpu_after = (app_cpu_seconds(self.app), _cpu_seconds(worker))
            jobs = await api.jobs_of_event(user.events["trivial"])
        finally:
            await api.http.aclose()
        raw_second = await asyncio.to_thread(raw_runs_parallel, n - half, 8, self.tag)
        done = [job for job in jobs if job["status"] == "completed"]
        last = max((ts(job["completedAt"]) for job in jobs if job["completedAt"]), default=first)
        f = self.figures
        f[f"throughput{sfx}_jobs_per_s"] = len(done) / (last - first) if last > first else 0.0
        f[f"raw_docker_throughput{sfx}_runs_per_s"] = n / (raw_first + raw_second)
        f[f"throughput{sfx}_vs_raw_ratio"] = f[f"throughput{sfx}_jobs_per_s"] / f[f"raw_docker_throughput{sfx}_runs_per_s"]
        f[f"throughput{sfx}_jobs_count"] = len(done)
        f[f"throughput{sfx}_warm_jobs_count"] = sum(1 for job in done if ((job.get("result") or {}).get("metrics") or {}).get("warm"))
        if None not in cpu_before and None not in cpu_after and done:
            # On a CPU-bound machine this is what the jobs take from Docker.
            f[f"throughput{sfx}_app_cpu_per_job_ms"] = 1000.0 * (cpu_after[0] - cpu_before[0]) / len(done)
            f[f"throughput{sfx}_worker_cpu_per_job_ms"] = 1000.0 * (cpu_after[1] - cpu_before[1]) / len(done)
        self.suite.say(f"{mode}: throughput {f[f'throughput{sfx}_jobs_per_s']:.2f} jobs/s "
                       f"({f[f'throughput{sfx}_warm_jobs_count']:.0f} warm) vs raw "
                       f"{f[f'raw_docker_throughput{sfx}_runs_per_s']:.2f} runs/s; load average {load_average()}")
        if not idle or len(done) != n or len(created) != n:
            raise AssertionError(f"{n} queued, {len(created)} created, {len(done)} completed")

    async def pool_figures(self, worker: WorkerProcess) -> None:
        """What a warm container costs while it waits, and how fast the
        pool makes them (the worker's pool drained by a burst, then refilled)."""
        idle = await wait_for_warm(self.dock, worker.worker_id, 2)
        memory = [value for info in idle if (value := container_memory_bytes(info["Id"])) is not None]
        cpu_before = [container_cpu_ns(info["Id"]) for info in idle]
        await asyncio.sleep(2)
        cpu_after = [container_cpu_ns(info["Id"]) for info in idle]
        f = self.figures
        if memory:
            f["pool_idle_container_memory_kb"] = p50(memory) / 1024
        if None not in cpu_before + cpu_after:
            f["pool_idle_container_cpu_ms_per_s"] = sum(a - b for a, b in zip(cpu_after, cpu_before)) / len(idle) / 2 / 1e6
        # Refill: take both warm containers at once, time until two are ready again.
        user = await asyncio.to_thread(self.user, trivial={"type": "bash", "script": "true"})
        refills = []
        for _ in range(self.options.pick(5, 2)):
            ready = {info["Id"] for info in await wait_for_warm(self.dock, worker.worker_id, 2)}
            began = time.perf_counter()
            await queue_burst(self.options, self.app, user.token, user.events["trivial"], 2)
            await wait_for_warm(self.dock, worker.worker_id, 2, exclude=ready)
            refills.append(time.perf_counter() - began)
        f["pool_refill_two_p50_ms"] = p50(refills) * 1000
        f["pool_refill_per_s"] = 2 / p50(refills)
        self.suite.say(f"warm container idle: {f.get('pool_idle_container_memory_kb', 0):.0f} kB; "
                       f"pool refilled 2 in {f['pool_refill_two_p50_ms']:.0f} ms (p50)")

    # (d) -----------------------------------------------------------------------------

    async def cancel(self) -> None:
        n = self.options.pick(10, 4)
        user = await asyncio.to_thread(self.user, sleeper={"type": "bash", "script": "sleep 300", "timeoutSeconds": 900})
        api = self.api(user)
        total, to_status, to_gone, raw = [], [], [], []
        try:
            for i in range(n):
                if i % 2 == 0:
                    raw.append(await self._raw_stop_remove())
                job_id = await api.execute(user.events["sleeper"])
                await self._wait_running(api, job_id)
                began = time.perf_counter()
                await api.cancel(job_id)
                status_at = gone_at = None
                status = None
                while status_at is None or gone_at is None:
                    now = time.perf_counter()
                    if now - began > 30:
                        raise AssertionError(f"cancel of job {job_id}: status {status}, container gone: {gone_at is not None} after 30 s")
                    if status_at is None:
                        status = (await api.job(job_id))["status"]
                        if status == "cancelled":
                            status_at = time.perf_counter()
                        elif status in TERMINAL:
                            raise AssertionError(f"cancelled job {job_id} ended {status}")
                    if gone_at is None and not await asyncio.to_thread(self._job_containers, job_id):
                        gone_at = time.perf_counter()
                    await asyncio.sleep(POLL_S)
                total.append(max(status_at, gone_at) - began)
                to_status.append(status_at - began)
                to_gone.append(gone_at - began)
                if i % 2 == 1:
                    raw.append(await self._raw_stop_remove())
        finally:
            await api.http.aclose()
        f = self.figures
        f["cancel_latency_p50_ms"] = p50(total) * 1000
        f["cancel_latency_p95_ms"] = percentile(total, 95) * 1000
        f["cancel_to_status_p50_ms"] = p50(to_status) * 1000
        f["cancel_to_container_gone_p50_ms"] = p50(to_gone) * 1000
        f["raw_docker_stop_remove_p50_ms"] = p50(raw) * 1000
        f["raw_docker_stop_remove_p95_ms"] = percentile(raw, 95) * 1000
        self.suite.say(f"cancel p50 {f['cancel_latency_p50_ms']:.0f} ms (raw stop+rm {f['raw_docker_stop_remove_p50_ms']:.0f} ms)")

    def _job_containers(self, job_id: str) -> list[dict[str, Any]]:
        """Cold or warm: a job's container has the job's name (a warm one once it is taken)."""
        return self.dock.api.containers(all=True, filters={"name": f"^/cronium-{job_id}-a[0-9]+$"})

    async def _wait_running(self, api: Api, job_id: str, timeout: float = 60) -> None:
        """Until the job says running and its container is up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = await api.job(job_id)
            if job["status"] in TERMINAL:
                raise AssertionError(f"job {job_id} ended {job['status']} before it could be cancelled: {job.get('error')}")
            if job["status"] == "running":
                found = await asyncio.to_thread(self._job_containers, job_id)
                if found and found[0]["State"] == "running":
                    return
            await asyncio.sleep(0.02)
        raise AssertionError(f"job {job_id} was not running within {timeout} s")

    async def _raw_stop_remove(self) -> float:
        """docker stop -t 1 + docker rm of a running `sleep 300` (bash under
        init, like a job), through the SDK as the worker does it."""
        container = await asyncio.to_thread(
            self.dock.containers.run, IMAGE, ["bash", "-c", "sleep 300; true"], detach=True, init=True,
            network_mode="none", labels={BENCH_LABEL: self.tag},
        )
        try:
            began = time.perf_counter()
            await asyncio.to_thread(self.dock.api.stop, container.id, timeout=1)
            await asyncio.to_thread(self.dock.api.remove_container, container.id, force=True)
            return time.perf_counter() - began
        finally:
            with contextlib.suppress(docker.errors.NotFound):
                await asyncio.to_thread(self.dock.api.remove_container, container.id, force=True)

    # (c) -----------------------------------------------------------------------------

    async def log_ingest(self, worker: WorkerProcess, db: str) -> None:
        """Phase 4 on this app's database (`db`: its label, in the figure names)."""
        program = f"for i in range({LOG_LINES}): print(i)"
        raw_lines, raw_s = await self._raw_log_run(program)
        user = await asyncio.to_thread(self.user, printer={"type": "python", "script": program})
        api = self.api(user)
        try:
            cpu_before = (app_cpu_seconds(self.app), _cpu_seconds(worker))
            job_id = await api.execute(user.events["printer"])
            deadline = time.monotonic() + 600
            while (job := await api.job(job_id))["status"] not in TERMINAL:
                if time.monotonic() > deadline:
                    raise AssertionError(f"log job {job_id} still {job['status']} after 600 s")
                # The figure is timed by the job's own timestamps: poll gently
                # (each look costs the app CPU the ingest could use).
                await asyncio.sleep(0.25)
            cpu_after = (app_cpu_seconds(self.app), _cpu_seconds(worker))
            lines = await api.all_lines(job_id)
        finally:
            await api.http.aclose()
        seconds = ts(job["completedAt"]) - ts(job["startedAt"] or job["acknowledgedAt"])
        stdout = [item["line"] for item in lines if item["stream"] == "stdout"]
        expected = [str(i) for i in range(LOG_LINES)]
        seen = set(stdout)
        missing = sum(1 for text in expected if text not in seen)
        seqs = [item["seq"] for item in lines]
        gaps = sum(1 for a, b in zip(seqs, seqs[1:]) if b != a + 1) + (0 if not seqs or seqs[0] == 1 else 1)
        misplaced = sum(1 for got, want in zip(stdout, expected) if got != want) + abs(len(stdout) - len(expected))
        doubled = len(stdout) - len(seen)
        f = self.figures
        f[f"log_ingest_{db}_lines_per_s"] = len(stdout) / seconds if seconds > 0 else 0.0
        f[f"log_ingest_{db}_s"] = seconds
        f[f"raw_docker_log_lines_{db}_per_s"] = raw_lines / raw_s
        f[f"log_ingest_{db}_missing_count"] = missing
        f[f"log_ingest_{db}_doubled_count"] = doubled
        f[f"log_ingest_{db}_misplaced_count"] = misplaced
        f[f"log_ingest_{db}_seq_gaps_count"] = gaps
        # Which side sets the pace: line timestamps are taken by the worker as
        # it reads the container's output; completedAt once all are stored.
        stamped = [ts(item["timestamp"]) for item in lines if item["stream"] == "stdout"]
        if stamped:
            f[f"log_ingest_{db}_read_s"] = stamped[-1] - stamped[0]
            f[f"log_ingest_{db}_delivery_tail_s"] = ts(job["completedAt"]) - stamped[-1]
        if None not in cpu_before and None not in cpu_after:
            f[f"log_ingest_{db}_app_cpu_s"] = cpu_after[0] - cpu_before[0]
            f[f"log_ingest_{db}_worker_cpu_s"] = cpu_after[1] - cpu_before[1]
        self.suite.say(f"log ingest ({db}): read {f.get(f'log_ingest_{db}_read_s', 0):.1f} s, delivery tail "
                       f"{f.get(f'log_ingest_{db}_delivery_tail_s', 0):.1f} s, CPU app {f.get(f'log_ingest_{db}_app_cpu_s', 0):.1f} s, "
                       f"worker {f.get(f'log_ingest_{db}_worker_cpu_s', 0):.1f} s")
        self.suite.say(f"log ingest ({db}) {f[f'log_ingest_{db}_lines_per_s']:.0f} lines/s ({seconds:.1f} s; raw docker "
                       f"{f[f'raw_docker_log_lines_{db}_per_s']:.0f} lines/s); missing {missing}, doubled {doubled}, "
                       f"misplaced {misplaced}, seq gaps {gaps}; load average {load_average()}")
        if job["status"] != "completed" or missing or doubled or misplaced or gaps:
            raise AssertionError(f"log job {job['status']} ({job.get('error')}): {missing} lines missing, "
                                 f"{misplaced} out of place, {gaps} seq gaps")

    async def _raw_log_run(self, program: str) -> tuple[int, float]:
        began = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            "docker", "run", "--rm", "--network", "none", "--label", f"{BENCH_LABEL}={self.tag}",
            IMAGE, "python3", "-c", program, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )
        count = 0
        assert proc.stdout is not None
        while chunk := await proc.stdout.read(1 << 16):
            count += chunk.count(b"\n")
        await proc.wait()
        elapsed = time.perf_counter() - began
        if proc.returncode != 0 or count != LOG_LINES:
            raise AssertionError(f"raw log run exited {proc.returncode} with {count} lines")
        return count, elapsed

    # (e) -----------------------------------------------------------------------------

    async def concurrency(self, worker: WorkerProcess) -> None:
        user = await asyncio.to_thread(
            self.user, sleeper={"type": "bash", "script": f"sleep {CONCURRENCY_SLEEP_S}", "timeoutSeconds": 300})
        first, created = await queue_burst(self.options, self.app, user.token, user.events["sleeper"], CONCURRENCY_JOBS)
        peak = {"stats": 0, "containers": 0, "rss": 0}
        reached: dict[str, float] = {}

        async def sample(stats: dict[str, Any]) -> None:
            now = time.time() - first
            running = [  # not counting the warm containers waiting for a job
                info for info in await asyncio.to_thread(
                    self.dock.api.containers, filters={"label": f"cronium.worker={worker.worker_id}", "status": "running"})
                if not info["Names"][0].startswith("/cronium-pool-")
            ]
            if len(running) >= 100 and "containers_100" not in reached:
                reached["containers_100"] = now
            for key, value in (("stats", stats["running"]), ("containers", len(running)), ("rss", _rss_bytes(worker))):
                if value > peak[key]:
                    peak[key] = value
                    reached[key] = now

        api = self.api(user)
        try:
            idle = await api.wait_idle(timeout=CONCURRENCY_SLEEP_S + 400, interval=0.5, on_sample=sample)
            jobs = await api.jobs_of_event(user.events["sleeper"])
        finally:
            await api.http.aclose()
        done = [job for job in jobs if job["status"] == "completed"]
        startup = [m["create_ms"] + m["start_ms"] for job in done
                   if {"create_ms", "start_ms"} <= (m := (job.get("result") or {}).get("metrics") or {}).keys()]
        last = max((ts(job["completedAt"]) for job in jobs if job["completedAt"]), default=first)
        f = self.figures
        f["peak_concurrent_jobs_count"] = peak["stats"]
        f["peak_running_containers_count"] = peak["containers"]
        f["time_to_peak_concurrency_s"] = reached.get("containers", 0.0)
        f["time_to_peak_claimed_s"] = reached.get("stats", 0.0)
        if "containers_100" in reached:
            f["time_to_100_running_containers_s"] = reached["containers_100"]
        f["concurrency_completed_count"] = len(done)
        f["concurrency_run_s"] = last - first
        if startup:
            f["container_startup_under_load_p50_ms"] = p50(startup)
            f["container_startup_under_load_p95_ms"] = percentile(startup, 95)
        if peak["rss"]:
            f["worker_peak_rss_mb"] = peak["rss"] / 2**20
        self.suite.say(f"concurrency: peak {peak['stats']} claimed (stats 'running') after {reached.get('stats', 0):.1f}s, "
                       f"{peak['containers']} containers running after {reached.get('containers', 0):.1f}s; "
                       f"{len(done)}/{CONCURRENCY_JOBS} completed in {last - first:.0f}s")
        if not idle or len(done) != CONCURRENCY_JOBS or len(created) != CONCURRENCY_JOBS:
            raise AssertionError(f"{CONCURRENCY_JOBS} sleep jobs queued, {len(done)} completed")

    async def completion(self) -> None:
        n = self.options.pick(500, 100)
        user = await asyncio.to_thread(self.user, trivial={"type": "bash", "script": "true"})
        first, created = await queue_burst(self.options, self.app, user.token, user.events["trivial"], n)
        api = self.api(user)
        try:
            await api.wait_idle(timeout=max(300, n * 2), interval=0.5, stall=60)
            jobs = await api.jobs_of_event(user.events["trivial"])
        finally:
            await api.http.aclose()
        by_id = {job["id"]: job for job in jobs}
        final = [by_id[i] for i in created if i in by_id and by_id[i]["status"] in TERMINAL]
        done = [job for job in final if job["status"] == "completed"]
        last = max((ts(job["completedAt"]) for job in final), default=first)
        f = self.figures
        f["completion_jobs_count"] = len(created)
        f["completion_rate_pct"] = 100.0 * len(done) / n
        f["lost_jobs_count"] = n - len(final)
        f["completion_failed_count"] = len(final) - len(done)
        f["completion_retried_count"] = sum(1 for job in final if job.get("attempt", 1) > 1)
        f["completion_jobs_per_s"] = len(done) / (last - first) if last > first else 0.0
        self.suite.say(f"completion: {len(done)}/{n} completed, {n - len(final)} lost, {len(final) - len(done)} failed, "
                       f"{f['completion_retried_count']} retried ({f['completion_jobs_per_s']:.1f} jobs/s at concurrency 16)")
        if len(done) != n:
            failed = [job for job in final if job["status"] != "completed"][:1]
            raise AssertionError(f"{len(done)}/{n} jobs completed, {n - len(final)} lost; e.g. {failed}")


def _cpu_seconds(worker: WorkerProcess) -> float | None:
    """User+system CPU of the worker process so far (threads included)."""
    if worker.process is None:
        return None
    try:
        with open(f"/proc/{worker.process.pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_bytes(worker: WorkerProcess) -> int:
    if worker.process is None:
        return 0
    try:
        with open(f"/proc/{worker.process.pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
