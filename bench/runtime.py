"""Figures of the runtime-API and workflows issue: what a helper call from
inside a container costs, and what the workflow engine adds between the
steps of a chain. One app (a subprocess on a fresh, migrated SQLite
database) and one real worker (`python -m orchestrator_worker`, concurrency
8) on the local Docker Engine, over real HTTP; every figure is measured next
to its baseline in the same run.

Phases (sizes full / --quick), in this order:

1. Helper round trip. One python job sets a variable `k`, then calls
   `cronium.get_variable('k')` 200 / 50 times, timing each call with
   time.perf_counter() inside the container (the helper's unix socket, the
   worker's relay, the app's runtime route, and back), and prints the
   samples as one JSON line, which the bench reads from the job's log.
   Baseline: the same read through the public API from the host, `GET
   /api/v1/variables/k` with the user's API token over one keep-alive
   connection, 200 / 50 times, half before the job and half after it.
2. Chains. A workflow of 10 steps s1 -> s2 -> ... -> s10 (`on_success`
   edges), every step a bash event `true`, run 3 / 1 times; baseline: 10
   standalone executes of the same event, each sent once the client sees the
   previous job completed. Rounds alternate which side goes first. Both
   sides poll every 10 ms (the workflow run, or the current job), so the
   polling load on the app is alike.

The app runs with the runtime rate limit raised (CRONIUM_RUNTIME_RATE and
CRONIUM_RUNTIME_BURST), since 200 calls in a few seconds is over the default
50 per second per job: the figures measure the path, not the limiter.

The suite fails when a helper call raises or reads back another value, an
API read does not answer 200 with the value, or a job or run does not
complete.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from bench import SQLITE, fresh_app, p50, percentile
from bench.suite import Suite
from bench.worker import Api, User, docker_engine, new_user, running_worker, ts, user_connection
from cronium_app.jobs.status import TERMINAL
from tests.support.app_server import AppServer

WORKER_CONCURRENCY = 8
CHAIN_LENGTH = 10
POLL_S = 0.01  # both sides of the chain comparison poll this often
VARIABLE_KEY = "k"
VARIABLE_VALUE = {"bench": "runtime", "numbers": [1, 2, 3], "text": "héllo"}
SAMPLES_KEY = "cronium_bench_samples_ms"

# figure -> the figure it is shown against (same run).
BASELINES = {
    "helper_get_variable_p50_ms": "api_get_variable_p50_ms",
    "helper_get_variable_p95_ms": "api_get_variable_p95_ms",
    "workflow_10_step_wall_ms": "sequential_10_jobs_wall_ms",
    "workflow_10_step_run_sum_ms": "sequential_10_jobs_run_sum_ms",
    "workflow_10_step_overhead_ms": "sequential_10_jobs_overhead_ms",
    "workflow_10_step_gap_p50_ms": "sequential_10_jobs_gap_p50_ms",
    "workflow_10_step_claim_p50_ms": "sequential_10_jobs_claim_p50_ms",
}

# The helper job: set, then time each get inside the container; one JSON line out.
HELPER_SCRIPT = """\
import json, time
value = json.loads({value!r})
cronium.set_variable({key!r}, value)
samples, mismatches = [], 0
for _ in range({count}):
    began = time.perf_counter()
    got = cronium.get_variable({key!r})
    samples.append(round((time.perf_counter() - began) * 1000.0, 3))
    mismatches += got != value
print(json.dumps({{{samples_key!r}: samples, "mismatches": mismatches}}))
"""


def run(suite: Suite) -> None:
    with docker_engine(suite) as engine, \
            fresh_app(SQLITE, "cronium_bench_runtime", CRONIUM_RUNTIME_RATE="100000",
                      CRONIUM_RUNTIME_BURST="100000") as app, \
            running_worker(app, engine.new_worker_id("runtime"), WORKER_CONCURRENCY):
        bench = RuntimeBench(suite, app)
        suite.phase("helper round trip", lambda: asyncio.run(bench.helper_latency()))
        suite.phase("chains", lambda: asyncio.run(bench.chains()))


class RuntimeApi(Api):
    """The user's calls of bench.worker.Api, plus variables and workflows."""

    async def put_variable(self, key: str, value: Any) -> None:
        reply = await self.http.request("PUT", f"/api/v1/variables/{key}", json_body={"value": value})
        if reply.status_code not in (200, 201):
            raise AssertionError(f"PUT /api/v1/variables/{key} -> {reply.status_code}: {reply.text[:300]}")

    async def create_workflow(self, body: dict[str, Any]) -> int:
        return (await self._json("POST", "/api/v1/workflows", 201, json_body=body))["id"]

    async def execute_workflow(self, workflow_id: int) -> str:
        return (await self._json("POST", f"/api/v1/workflows/{workflow_id}/execute", 202))["runId"]

    async def workflow_run(self, run_id: str) -> dict[str, Any]:
        return await self._json("GET", f"/api/v1/workflow-runs/{run_id}")

    async def wait_job(self, job_id: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (job := await self.job(job_id))["status"] not in TERMINAL:
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} still {job['status']} after {timeout:.0f} s")
            await asyncio.sleep(POLL_S)
        return job


def run_time(job: dict[str, Any]) -> float:
    """A job's own run time in seconds: claimed (acknowledgedAt) -> completedAt,
    i.e. the worker's part: container create and start, the script, the report."""
    began = ts(job.get("acknowledgedAt")) or ts(job.get("startedAt")) or ts(job["createdAt"])
    return ts(job["completedAt"]) - began


def chain_breakdown(jobs: list[dict[str, Any]], sent: float, end: float) -> dict[str, Any]:
    """Wall, sum of run times, and the pieces between them, for jobs in chain order."""
    runs = [run_time(job) for job in jobs]
    wall = end - sent
    return {
        "wall": wall,
        "run_sum": sum(runs),
        "overhead": wall - sum(runs),
        # job i completed -> job i+1 created: the engine's advance, or the
        # client's poll seeing it plus its next execute call.
        "gaps": [ts(b["createdAt"]) - ts(a["completedAt"]) for a, b in zip(jobs, jobs[1:])],
        # created -> claimed by the worker (long-poll wake-up).
        "claims": [(ts(job.get("acknowledgedAt")) or ts(job["createdAt"])) - ts(job["createdAt"]) for job in jobs],
        # execute sent -> the first job created.
        "first": ts(jobs[0]["createdAt"]) - sent,
        # the last job completed -> the end (the run settled / the same moment).
        "last": end - ts(jobs[-1]["completedAt"]),
    }


class RuntimeBench:
    def __init__(self, suite: Suite, app: AppServer):
        self.suite = suite
        self.app = app
        self.options = suite.options
        self.figures = suite.figures

    def user(self, **events: dict[str, Any]) -> User:
        return new_user(self.app, **events)

    def api(self, user: User) -> RuntimeApi:
        return RuntimeApi(user_connection(self.options, self.app, user))

    # (1) ------------------------------------------------------------------------------

    async def helper_latency(self) -> None:
        n = self.options.pick(200, 50)
        script = HELPER_SCRIPT.format(value=json.dumps(VARIABLE_VALUE), key=VARIABLE_KEY, count=n,
                                      samples_key=SAMPLES_KEY)
        user = await asyncio.to_thread(self.user, helper={"type": "python", "script": script, "timeoutSeconds": 300})
        api = self.api(user)
        api_samples: list[float] = []
        try:
            # The public API's read needs the variable before the job sets it.
            await api.put_variable(VARIABLE_KEY, VARIABLE_VALUE)
            await self._api_reads(api, n // 2, api_samples)
            job_id = await api.execute(user.events["helper"])
            job = await api.wait_job(job_id, timeout=300)
            lines = await api.all_lines(job_id)
            await self._api_reads(api, n - n // 2, api_samples)
        finally:
            await api.http.aclose()
        if job["status"] != "completed":
            tail = "\n".join(item["line"] for item in lines[-10:])
            raise AssertionError(f"helper job {job_id} ended {job['status']} ({job.get('error')}): {tail}")
        found = None
        for item in lines:
            if item["stream"] == "stdout" and SAMPLES_KEY in item["line"]:
                found = json.loads(item["line"])
        if found is None:
            raise AssertionError(f"helper job {job_id} printed no samples line")
        helper = [float(x) for x in found[SAMPLES_KEY]]
        f = self.figures
        f["helper_get_variable_p50_ms"] = percentile(helper, 50)
        f["helper_get_variable_p95_ms"] = percentile(helper, 95)
        f["helper_get_variable_calls_count"] = len(helper)
        f["api_get_variable_p50_ms"] = percentile(api_samples, 50) * 1000.0
        f["api_get_variable_p95_ms"] = percentile(api_samples, 95) * 1000.0
        f["api_get_variable_calls_count"] = len(api_samples)
        f["helper_relay_cost_p50_ms"] = f["helper_get_variable_p50_ms"] - f["api_get_variable_p50_ms"]
        self.suite.say(f"get_variable from the container p50 {f['helper_get_variable_p50_ms']:.1f} ms / p95 "
                       f"{f['helper_get_variable_p95_ms']:.1f} ms; public API from the host p50 {f['api_get_variable_p50_ms']:.1f} ms"
                       f" / p95 {f['api_get_variable_p95_ms']:.1f} ms")
        if len(helper) != n or found.get("mismatches"):
            raise AssertionError(f"helper job: {len(helper)} of {n} samples, {found.get('mismatches')} reads of another value")

    async def _api_reads(self, api: RuntimeApi, count: int, samples: list[float]) -> None:
        path = f"/api/v1/variables/{VARIABLE_KEY}"
        for _ in range(count):
            began = time.perf_counter()
            reply = await api.http.request("GET", path)
            samples.append(time.perf_counter() - began)
            if reply.status_code != 200 or reply.json().get("value") != VARIABLE_VALUE:
                raise AssertionError(f"GET {path} -> {reply.status_code}: {reply.text[:300]}")

    # (2) ------------------------------------------------------------------------------

    async def chains(self) -> None:
        rounds = self.options.pick(3, 1)
        user = await asyncio.to_thread(self.user, trivial={"type": "bash", "script": "true"})
        api = self.api(user)
        flows: list[dict[str, Any]] = []
        seqs: list[dict[str, Any]] = []
        try:
            names = [f"s{i}" for i in range(1, CHAIN_LENGTH + 1)]
            workflow_id = await api.create_workflow({
                "name": "bench chain",
                "steps": [{"name": name, "eventId": user.events["trivial"]} for name in names],
                "edges": [{"from": a, "to": b, "condition": "on_success"} for a, b in zip(names, names[1:])],
            })
            await api.wait_job(await api.execute(user.events["trivial"]))  # warm-up, untimed
            for i in range(rounds):
                sides = [("workflow", lambda: self._workflow_round(api, workflow_id, names)),
                         ("sequential", lambda: self._sequential_round(api, user.events["trivial"]))]
                for name, side in (sides if i % 2 == 0 else sides[::-1]):
                    row = await side()
                    (flows if name == "workflow" else seqs).append(row)
                    self.suite.say(f"round {i + 1}: {name} wall {row['wall'] * 1000:.0f} ms, run sum {row['run_sum'] * 1000:.0f} ms, "
                                   f"overhead {row['overhead'] * 1000:.0f} ms")
        finally:
            await api.http.aclose()
        f = self.figures
        for prefix, rows in (("workflow_10_step", flows), ("sequential_10_jobs", seqs)):
            f[f"{prefix}_wall_ms"] = p50([row["wall"] for row in rows]) * 1000.0
            f[f"{prefix}_run_sum_ms"] = p50([row["run_sum"] for row in rows]) * 1000.0
            f[f"{prefix}_overhead_ms"] = p50([row["overhead"] for row in rows]) * 1000.0
            f[f"{prefix}_gap_p50_ms"] = p50([g for row in rows for g in row["gaps"]]) * 1000.0
            f[f"{prefix}_claim_p50_ms"] = p50([c for row in rows for c in row["claims"]]) * 1000.0
            f[f"{prefix}_first_ms"] = p50([row["first"] for row in rows]) * 1000.0
            f[f"{prefix}_rounds_count"] = len(rows)
        f["workflow_10_step_last_ms"] = p50([row["last"] for row in flows]) * 1000.0
        f["workflow_10_step_overhead_per_step_ms"] = f["workflow_10_step_overhead_ms"] / CHAIN_LENGTH
        self.suite.say(f"10-step workflow: wall {f['workflow_10_step_wall_ms']:.0f} ms, overhead {f['workflow_10_step_overhead_ms']:.0f} ms; "
                       f"10 sequential jobs: wall {f['sequential_10_jobs_wall_ms']:.0f} ms, overhead {f['sequential_10_jobs_overhead_ms']:.0f} ms")

    async def _workflow_round(self, api: RuntimeApi, workflow_id: int, names: list[str]) -> dict[str, Any]:
        sent = time.time()
        run_id = await api.execute_workflow(workflow_id)
        deadline = time.monotonic() + 300
        while (wf_run := await api.workflow_run(run_id))["status"] == "running":
            if time.monotonic() > deadline:
                raise AssertionError(f"workflow run {run_id} still running after 300 s")
            await asyncio.sleep(POLL_S)
        steps = {step["name"]: step for step in wf_run["steps"]}
        if wf_run["status"] != "completed" or any(steps[name]["status"] != "completed" for name in names):
            raise AssertionError(f"workflow run {run_id} ended {wf_run['status']}: "
                                 + ", ".join(f"{name} {steps[name]['status']}" for name in names))
        jobs = [await api.job(steps[name]["jobId"]) for name in names]
        return chain_breakdown(jobs, sent, ts(wf_run["completedAt"]))

    async def _sequential_round(self, api: RuntimeApi, event_id: int) -> dict[str, Any]:
        sent = time.time()
        jobs = []
        for _ in range(CHAIN_LENGTH):
            job = await api.wait_job(await api.execute(event_id))
            if job["status"] != "completed":
                raise AssertionError(f"job {job['id']} ended {job['status']}: {job.get('error')}")
            jobs.append(job)
        return chain_breakdown(jobs, sent, ts(jobs[-1]["completedAt"]))
