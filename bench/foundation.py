"""Figures of the foundation issue: how fast the public API queues jobs and
how fast workers claim them through the orchestrator API, on SQLite and on
PostgreSQL. Everything goes through the real app, started as a subprocess on
a fresh migrated database (tests/support), over real HTTP.

Per database (`<db>` is `sqlite` or `postgres`), in one app process:

1. `http_ping_baseline_<db>_*`: `GET /ping`, 16 concurrent clients. A bare
   request through the same server: the baseline of the create-job figures.
2. `create_job_api_<db>_*`: `POST /api/v1/events/{id}/execute`, 16 concurrent
   clients, N requests (2000; --quick 300). Each answer must be 202 with a new
   job id.
3. The jobs of step 2 are claimed (untimed), so the queue is empty again;
   every one of them must come back.
4. `claim_empty_api_<db>_*`: `GET /api/internal/jobs/queue?limit=25` on the
   empty queue, 4 concurrent workers: a claim request that finds nothing, the
   baseline of the claim figures.
5. M pending jobs (5000; --quick 1000) are inserted through the job service
   (`insert_job` in `write_session`), outside the timed part.
6. `claim_api_<db>_*`: 4 workers, each looping `GET /api/internal/jobs/queue
   ?limit=25` until it gets an empty answer. Every job must be claimed exactly
   once: `claim_duplicates_<db>_count` must be 0, no job may be missed, none
   may be on a second attempt. `claim_over_limit_<db>_count` counts answers
   that held more than `limit` jobs (a warning, not a failure).

`*_app_cpu_per_{req,job}_ms` is the CPU the app's processes spent per request
(or per job) during the phase: unlike the rates, it does not depend on how
busy the machine is or on the load client.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import sqlalchemy as sa

from bench import LoadResult, Reply, SuiteFailed, close_all, expect_status, hammer, open_callers
from bench.suite import Suite, Target, per_database_baselines
from tests.support.app_server import ORCHESTRATOR_TOKEN
from tests.support.clients import register_user

USER_CONCURRENCY = 16
WORKER_COUNT = 4
CLAIM_LIMIT = 25
QUEUE = "/api/internal/jobs/queue"

# The bench holds claimed jobs without heartbeating; a long lease keeps the
# app's sweeper from handing them out again in the middle of a measurement.
APP_ENV = {"CRONIUM_LEASE_SECONDS": "3600"}


# figure -> the figure it is shown as a ratio of (value / baseline, same run).
BASELINES = per_database_baselines({
    "create_job_api_{db}_jobs_per_s": "http_ping_baseline_{db}_req_per_s",
    "create_job_api_{db}_p50_ms": "http_ping_baseline_{db}_p50_ms",
    "create_job_api_{db}_p95_ms": "http_ping_baseline_{db}_p95_ms",
    "create_job_api_{db}_app_cpu_per_job_ms": "http_ping_baseline_{db}_app_cpu_per_req_ms",
    "claim_empty_api_{db}_app_cpu_per_req_ms": "http_ping_baseline_{db}_app_cpu_per_req_ms",
    "claim_api_{db}_jobs_per_s": "claim_empty_api_{db}_req_per_s",
    "claim_api_{db}_req_per_s": "claim_empty_api_{db}_req_per_s",
    "claim_api_{db}_p50_ms": "claim_empty_api_{db}_p50_ms",
    "claim_api_{db}_p95_ms": "claim_empty_api_{db}_p95_ms",
    "claim_api_{db}_app_cpu_per_req_ms": "claim_empty_api_{db}_app_cpu_per_req_ms",
})


def run(suite: Suite) -> None:
    suite.per_database(lambda target: asyncio.run(measure(suite, target)), **APP_ENV)


async def measure(suite: Suite, target: Target) -> None:
    """Measure one database; figures are recorded as they come, so a failed
    check still leaves what was measured before it."""
    label, url, server = target.label, target.url, target.app
    options, figures = suite.options, suite.figures
    n_create = options.pick(2000, 300)
    n_claim = options.pick(5000, 1000)
    n_empty = options.pick(400, 200)

    def put(prefix: str, load: LoadResult, rate: str, per: str = "req") -> None:
        figures[f"{prefix}_{rate}_per_s"] = load.rate_per_s
        figures[f"{prefix}_p50_ms"] = load.p(50)
        figures[f"{prefix}_p95_ms"] = load.p(95)
        cpu = load.app_cpu_ms_per()
        if cpu is not None:
            figures[f"{prefix}_app_cpu_per_{per}_ms"] = cpu

    def say(text: str) -> None:
        suite.say(f"{label}: {text}")

    user = await asyncio.to_thread(register_user, server.url)
    try:
        event = await asyncio.to_thread(user.create_event, name="bench event", type="bash", script="echo bench")
    finally:
        user.http.close()
    event_id, user_id = event["id"], user.user["id"]

    # 1 and 2: a bare request, then the job path; same callers, same concurrency.
    created: list[str] = []

    def check_created(reply: Reply) -> None:
        expect_status(202)(reply)
        body = reply.json()
        if body.get("status") != "queued" or not body.get("jobId"):
            raise AssertionError(f"unexpected execute answer: {body}")
        created.append(body["jobId"])

    def ping(http):
        return http.request("GET", "/ping")

    def execute(http):
        return http.request("POST", f"/api/v1/events/{event_id}/execute")

    users = open_callers(options, server.url, USER_CONCURRENCY, {"Authorization": f"Bearer {user.token}"})
    try:
        await hammer(users, 200, ping, expect_status(200))  # warm-up: connections, caches
        await hammer(users, 32, execute, check_created)
        put(f"http_ping_baseline_{label}", await hammer(users, n_create, ping, expect_status(200), server), "req")
        create = await hammer(users, n_create, execute, check_created, server)
    finally:
        await close_all(users)
    put(f"create_job_api_{label}", create, "jobs", per="job")
    figures[f"create_job_api_{label}_requests_count"] = create.requests
    say(f"create-job {create.rate_per_s:.0f} jobs/s; ping {figures[f'http_ping_baseline_{label}_req_per_s']:.0f} req/s")
    if len(set(created)) != len(created):
        raise SuiteFailed("the API returned the same job id for two execute requests")

    # 3: empty the queue again (untimed); every created job must be in it.
    drainer = open_callers(options, server.url, 1, _worker_headers("bench-drain"))
    drained: list[str] = []

    def keep_draining(reply: Reply) -> bool:
        expect_status(200)(reply)
        jobs = reply.json()["jobs"]
        drained.extend(job["id"] for job in jobs)
        return bool(jobs)

    try:
        await hammer(drainer, None, lambda http: http.request("GET", QUEUE, params={"limit": 500}), keep_draining)
    finally:
        await close_all(drainer)
    missing = set(created) - set(drained)
    if missing:
        raise SuiteFailed(f"{len(missing)} jobs created through the API never reached the queue")

    # 4: claim requests that find nothing, then 6: claims that drain M jobs.
    def claim(http):
        return http.request("GET", QUEUE, params={"limit": CLAIM_LIMIT})

    def check_empty(reply: Reply) -> None:
        expect_status(200)(reply)
        if reply.json()["jobs"]:
            raise AssertionError("the queue was expected to be empty")

    claimed: list[str] = []
    batches: list[int] = []

    def keep_claiming(reply: Reply) -> bool:
        expect_status(200)(reply)
        jobs = reply.json()["jobs"]
        batches.append(len(jobs))
        claimed.extend(job["id"] for job in jobs)
        return bool(jobs)

    workers = open_callers(
        options, server.url, WORKER_COUNT, ids=[_worker_headers(f"bench-worker-{i}") for i in range(WORKER_COUNT)]
    )
    try:
        await hammer(workers, 40, claim, check_empty)  # warm-up
        put(f"claim_empty_api_{label}", await hammer(workers, n_empty, claim, check_empty, server), "req")

        # 5: the jobs to claim, straight through the job service.
        began = time.perf_counter()
        inserted = await asyncio.to_thread(_insert_pending_jobs, url, user_id, event_id, n_claim)
        say(f"inserted {n_claim} pending jobs through the service in {time.perf_counter() - began:.1f}s")

        load = await hammer(workers, None, claim, keep_claiming, server)
    finally:
        await close_all(workers)
    figures[f"claim_api_{label}_jobs_per_s"] = len(claimed) / load.elapsed_s
    figures[f"claim_api_{label}_req_per_s"] = load.rate_per_s
    figures[f"claim_api_{label}_p50_ms"] = load.p(50)
    figures[f"claim_api_{label}_p95_ms"] = load.p(95)
    cpu_per_req, cpu_per_job = load.app_cpu_ms_per(), load.app_cpu_ms_per(len(claimed))
    if cpu_per_req is not None and cpu_per_job is not None:
        figures[f"claim_api_{label}_app_cpu_per_req_ms"] = cpu_per_req
        figures[f"claim_api_{label}_app_cpu_per_job_ms"] = cpu_per_job
    figures[f"claim_api_{label}_jobs_count"] = len(set(claimed))
    say(f"claim {figures[f'claim_api_{label}_jobs_per_s']:.0f} jobs/s in {load.requests} requests")

    # The route promises at most `limit` jobs per answer.
    over_limit = sum(1 for size in batches if size > CLAIM_LIMIT)
    figures[f"claim_over_limit_{label}_count"] = over_limit
    figures[f"claim_largest_batch_{label}_count"] = max(batches)
    if over_limit:
        say(f"WARNING: {over_limit} claim answers held more than limit={CLAIM_LIMIT} jobs "
            f"(largest: {max(batches)}); the claim figures are not comparable")

    problems = await asyncio.to_thread(_check_exactly_once, url, inserted, claimed)
    figures[f"claim_duplicates_{label}_count"] = problems["duplicates"]
    if any(problems.values()):
        raise SuiteFailed("claims were not exactly-once: " + ", ".join(f"{k}={v}" for k, v in problems.items()))


def _worker_headers(worker_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {ORCHESTRATOR_TOKEN}", "X-Worker-Id": worker_id}


# -- direct database work (outside the timed parts) -------------------------


def _insert_pending_jobs(database_url: str, user_id: int, event_id: int, count: int, batch: int = 500) -> set[str]:
    from cronium_app.db import make_engine, write_session
    from cronium_app.jobs.create import insert_job
    from cronium_app.models import Event

    engine = make_engine(database_url)
    ids: set[str] = set()
    try:
        while len(ids) < count:
            with write_session(engine) as session:
                event = session.get(Event, event_id)
                for _ in range(min(batch, count - len(ids))):
                    job, created = insert_job(session, user_id=user_id, workspace_id=event.workspace_id, event=event)
                    if not created:
                        raise AssertionError("insert_job did not create a job")
                    ids.add(job.id)
    finally:
        engine.dispose()
    return ids


def _check_exactly_once(database_url: str, inserted: set[str], claimed: list[str]) -> dict[str, int]:
    from cronium_app.db import make_engine
    from cronium_app.models import Job

    counts = Counter(claimed)
    problems = {
        "duplicates": sum(n - 1 for n in counts.values() if n > 1),
        "missed": len(inserted - counts.keys()),
        "unexpected": len(counts.keys() - inserted),
    }
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            problems["still_pending"] = conn.execute(
                sa.select(sa.func.count()).select_from(Job).where(Job.status == "pending")
            ).scalar_one()
            # A job handed out twice would be on its second attempt.
            problems["second_attempt_in_db"] = conn.execute(
                sa.select(sa.func.count()).select_from(Job).where(Job.attempt > 1)
            ).scalar_one()
    finally:
        engine.dispose()
    return problems
