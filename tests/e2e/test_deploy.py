"""Cronium as a service (deploy/compose.yaml), end to end: the images built
from this checkout, PostgreSQL and Redis in containers, two app replicas
behind the proxy and two workers on this machine's Docker Engine, driven
through the proxy as people and workers use it.

- Readiness: /readyz fails while PostgreSQL is stopped and recovers when
  it is back.
- The web UI: a job's live log keeps streaming in Chromium while each app
  replica in turn (so also the one serving the page) is stopped.
- 200 jobs, with one app replica and one worker killed mid-run: every job
  completes exactly once, with its whole log; the scheduler fired each
  fire time of an interval schedule once, across both replicas.
- A backup (the README's pg_dump) restores the database as it was.
- `down -v` leaves nothing behind.

One stack for the module (it takes a minute to start); the tests run in
order and each leaves it serving. Marked `deploy`: CI runs it once
(`make test-deploy`, after the SQLite and PostgreSQL passes; the stack has
its own PostgreSQL), with the images built in the background meanwhile. The
module says how long building, starting and each test took (pytest -s
shows it).
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from orchestrator_worker.executors.docker_runner import warm_name
from tests.e2e.helpers import log_lines
from tests.support import ui_flows
from tests.support.app_server import wait_for_readiness
from tests.support.browser import DESKTOP
from tests.support.clients import UserClient
from tests.support.compose_stack import ComposeStack, compose_missing_reason

pytestmark = [pytest.mark.deploy, pytest.mark.timeout(1800)]

JOBS = 200
# Each job prints its id in three lines, waits, prints two more: a worker
# killed while it sleeps leaves a job with part of its log.
JOB_SCRIPT = 'for i in 1 2 3; do echo "$CRONIUM_EXECUTION_ID line $i"; done; sleep 1; echo "$CRONIUM_EXECUTION_ID line 4"; echo "$CRONIUM_EXECUTION_ID line 5"'
TICKS = 200
TICKER_SCRIPT = f'import time\nfor i in range({TICKS}):\n    print(f"tick {{i}}", flush=True)\n    time.sleep(0.5)\n'
SCHEDULE_EVERY_S = 10
# Short leases and reaping: a killed worker's jobs come back in seconds.
STACK_SETTINGS = {
    "CRONIUM_LEASE_SECONDS": "10", "CRONIUM_WORKER_REAP_INTERVAL": "5", "CRONIUM_WORKER_GONE_AFTER": "20",
    "CRONIUM_WORKER_SHUTDOWN_GRACE": "5",
    # A killed worker's warm containers are another worker's leftovers once
    # twice this old: short, so the survivors remove them within the test.
    "CRONIUM_POOL_TTL": "20",
}
POOL_SIZE = 2  # CRONIUM_POOL_SIZE's default
WARM_PREFIX = warm_name("")
TERMINAL = {"completed", "failed", "timed_out", "cancelled", "partial"}


def say(text: str) -> None:
    print(f"[deploy] {text}", flush=True)


def retrying(call: Callable[[], httpx.Response], timeout: float = 60) -> httpx.Response:
    """The call, again while the stack answers 502/503 or drops the
    connection (a replica was just stopped; the proxy skips it next time)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = call()
            if response.status_code not in (502, 503, 504) or time.monotonic() > deadline:
                return response
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.5)


@pytest.fixture(scope="module")
def stack() -> Iterator[ComposeStack]:
    if (reason := compose_missing_reason()) is not None:
        pytest.skip(reason)
    stack = ComposeStack(app_replicas=2, workers=2, settings=STACK_SETTINGS)
    began = time.monotonic()
    try:
        say(f"images built in {stack.build():.0f} s")
        say(f"stack {stack.project} serving at {stack.url} {stack.up():.0f} s after `up`")
        yield stack
    finally:
        stack.close()
        say(f"the module took {time.monotonic() - began:.0f} s")


@pytest.fixture(scope="module")
def admin(stack: ComposeStack) -> Iterator[UserClient]:
    """The first account, registered through the proxy: it administers."""
    email, password = f"deploy-{secrets.token_hex(4)}@example.com", ui_flows.PASSWORD
    response = httpx.post(f"{stack.url}/api/v1/auth/register", json={"email": email, "password": password}, timeout=30)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["user"]["role"] == "admin"
    http = httpx.Client(base_url=stack.url, headers={"Authorization": f"Bearer {body['token']}"}, timeout=30)
    yield UserClient(http=http, user=body["user"], token=body["token"])
    http.close()


@pytest.fixture(scope="module")
def scheduled_event(admin: UserClient) -> Iterator[dict[str, Any]]:
    """An event on an interval schedule from the start, fired by whichever
    replica gets there first. Fire times missed while the database is
    stopped are run when it is back (misfire policy run_all)."""
    event = admin.create_event(name="every ten seconds", script="true", scheduleType="interval",
                               intervalSeconds=SCHEDULE_EVERY_S, overlapPolicy="allow", misfirePolicy="run_all")
    assert retrying(lambda: admin.http.patch(f"/api/v1/events/{event['id']}", json={"status": "active"})).status_code == 200
    event["activated_at"] = time.monotonic()
    yield event


def get_json(admin: UserClient, path: str, **params) -> Any:
    response = retrying(lambda: admin.http.get(path, params=params))
    assert response.status_code == 200, response.text
    return response.json()


def test_the_workers_check_in_through_the_proxy(stack, admin, scheduled_event):
    deadline = time.monotonic() + 60
    while True:
        online = [w for w in get_json(admin, "/api/v1/workers")["items"] if w["status"] == "online"]
        if len(online) == stack.workers or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert len(online) == stack.workers, online
    assert all(worker["engineVersion"] and worker["concurrency"] == 8 for worker in online)


def test_readyz_fails_while_postgres_is_stopped_and_recovers(stack):
    before = wait_for_readiness(stack.url, 200, timeout=10)
    postgres = stack.containers("postgres")[0]
    postgres.stop(timeout=10)
    try:
        stopped = wait_for_readiness(stack.url, 503)
    finally:
        postgres.start()
    back = wait_for_readiness(stack.url, 200, timeout=90)
    assert before.status_code == 200, before.text
    assert stopped.status_code == 503 and stopped.json()["checks"]["database"].startswith("unreachable"), stopped.text
    assert (back.status_code, back.json()["checks"]) == (200, {"database": "ok", "redis": "ok"})


def _ticks_shown(page) -> list[str]:
    return [line["text"] for line in log_lines(page)]


def _wait_more_ticks(page, than: int, timeout: float = 45) -> int:
    deadline = time.monotonic() + timeout
    while True:
        shown = len(_ticks_shown(page))
        if shown > than or time.monotonic() > deadline:
            return shown
        time.sleep(0.5)


def test_the_live_log_keeps_streaming_while_each_replica_stops(stack, admin, browser):
    """Each replica is stopped in turn while the page follows the job (so
    the one that served the page is stopped too); the page reconnects
    through the proxy to the other one and the log goes on."""
    event_id = admin.create_event(name="ticker", type="python", script=TICKER_SCRIPT)["id"]
    context = browser.new_context(viewport=DESKTOP, base_url=stack.url)
    context.set_default_timeout(30_000)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        ui_flows.login(page, stack.url, admin.user["email"])
        job_id = admin.execute(event_id)
        page.goto(f"/jobs/{job_id}")
        progress = [_wait_more_ticks(page, 2)]
        for replica in stack.containers("app"):
            replica.stop(timeout=10)
            try:
                at_stop = len(_ticks_shown(page))
                progress.append(_wait_more_ticks(page, at_stop + 3))
                assert progress[-1] > at_stop + 3, f"the log stopped at {at_stop} lines after {replica.name} stopped"
            finally:
                replica.start()
            stack.wait_healthy(replica)
        page.locator("#job-status[data-status=completed]").wait_for(timeout=(TICKS * 0.5 + 60) * 1000)
        _wait_more_ticks(page, TICKS - 1, timeout=15)
        ticks = _ticks_shown(page)
    finally:
        context.close()
    say(f"lines on the page before, and after each replica stopped: {progress}; page errors: {errors}")
    assert ticks == [f"tick {i}" for i in range(TICKS)]


def _submit(admin: UserClient, event_id: int, count: int) -> list[str]:
    def one(_: int) -> str:
        response = retrying(lambda: admin.http.post(f"/api/v1/events/{event_id}/execute"))
        assert response.status_code == 202, response.text
        return response.json()["jobId"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(count)))


def _statuses(admin: UserClient, job_ids: list[str]) -> dict[str, dict[str, Any]]:
    wanted, found, cursor = set(job_ids), {}, None
    while True:
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = get_json(admin, "/api/v1/jobs", **params)
        found.update({job["id"]: job for job in page["items"] if job["id"] in wanted})
        cursor = page.get("nextCursor")
        if not cursor or len(found) == len(wanted):
            return found


def _busiest_worker(stack: ComposeStack, admin: UserClient):
    """The worker container holding the most jobs now (its host name is
    its container's short id, the first part of its worker id)."""
    workers = [w for w in get_json(admin, "/api/v1/workers")["items"] if w["status"] == "online"]
    busiest = max(workers, key=lambda worker: worker["runningJobs"])
    container = next(c for c in stack.containers("worker") if c.id.startswith(busiest["host"]))
    return container, busiest["runningJobs"]


def test_200_jobs_complete_exactly_once_through_a_killed_replica_and_worker(stack, admin):
    event_id = admin.create_event(name="five lines", script=JOB_SCRIPT)["id"]
    began = time.monotonic()
    job_ids = _submit(admin, event_id, JOBS)
    submitted_s = time.monotonic() - began
    killed = []
    deadline = time.monotonic() + 600
    while True:
        jobs = _statuses(admin, job_ids)
        ended = sum(job["status"] in TERMINAL for job in jobs.values())
        if not killed and ended >= JOBS // 4:
            worker, holding = _busiest_worker(stack, admin)
            replica = stack.containers("app")[0]
            replica.kill()
            worker.kill()
            killed = [f"{replica.name}", f"{worker.name} (holding {holding} jobs)"]
            say(f"killed {' and '.join(killed)} with {ended} of {JOBS} jobs done")
        if ended == JOBS or time.monotonic() > deadline:
            break
        time.sleep(1)
    took_s = time.monotonic() - began
    assert killed, "nothing was killed"

    statuses = {job_id: job["status"] for job_id, job in jobs.items()}
    assert sorted(set(statuses.values())) == ["completed"], {s: sum(v == s for v in statuses.values()) for s in set(statuses.values())}
    retried = [job_id for job_id, job in jobs.items() if job["attempt"] > 1]
    problems = []
    for job_id in job_ids:
        lines = [line["line"] for line in get_json(admin, f"/api/v1/jobs/{job_id}/logs", limit=100)["lines"]
                 if line["stream"] == "stdout"]
        expected = [f"{job_id} line {i}" for i in range(1, 6)]
        # A job a killed worker had begun keeps that attempt's first lines
        # before the whole log of the attempt that completed it.
        if lines[-5:] != expected or any(line not in expected for line in lines):
            problems.append((job_id, lines))
    say(f"{JOBS} jobs submitted in {submitted_s:.0f} s, all ended {took_s:.0f} s after the first; "
        f"{len(retried)} needed another attempt")
    assert problems == []
    assert len(job_ids) == len(set(job_ids)) == len(jobs) == JOBS


def test_the_scheduler_fired_each_time_once_across_the_replicas(admin, scheduled_event):
    retrying(lambda: admin.http.patch(f"/api/v1/events/{scheduled_event['id']}", json={"status": "paused"}))
    active_s = time.monotonic() - scheduled_event["activated_at"]
    runs = get_json(admin, "/api/v1/jobs", eventId=scheduled_event["id"], limit=200)["items"]
    fire_times = sorted(datetime.fromisoformat(run["scheduledFor"].replace("Z", "+00:00")) for run in runs)
    steps = {(later - earlier).total_seconds() for earlier, later in zip(fire_times, fire_times[1:])}
    say(f"{len(runs)} scheduled runs in {active_s:.0f} s (every {SCHEDULE_EVERY_S} s)")
    # One run for each fire time: none twice, none skipped.
    assert steps == {SCHEDULE_EVERY_S}
    assert len(runs) >= active_s / SCHEDULE_EVERY_S - 2


def _event_names(admin: UserClient) -> set[str]:
    return {event["name"] for event in get_json(admin, "/api/v1/events", limit=200)["items"]}


def test_a_backup_restores_the_database_as_it_was(stack, admin):
    """The README's pg_dump and pg_restore, through compose."""
    dump = stack.compose("exec", "-T", "postgres", "pg_dump", "-U", "cronium", "-Fc", "cronium", text=False).stdout
    admin.create_event(name="made after the backup")
    before_restore = _event_names(admin)
    stack.compose("stop", "app", "worker")
    stack.compose("exec", "-T", "postgres", "pg_restore", "-U", "cronium", "-d", "cronium", "--clean", "--if-exists",
                  stdin=dump, text=False)
    stack.compose("start", "app", "worker")
    for replica in stack.containers("app"):
        stack.wait_healthy(replica)
    wait_for_readiness(stack.url, 200, timeout=120)
    after_restore = _event_names(admin)
    assert "made after the backup" in before_restore
    assert after_restore == before_restore - {"made after the backup"}


def _jobs_left(stack: ComposeStack) -> list[str]:
    """Containers of this stack's jobs, not counting the warm containers the
    workers keep ready for the next job (named so until a job takes one)."""
    return [name for name in stack.leftovers()["job containers"] if not name.startswith(WARM_PREFIX)]


def _warm_beyond_the_live_workers(stack: ComposeStack) -> int:
    warm = [name for name in stack.leftovers()["job containers"] if name.startswith(WARM_PREFIX)]
    return max(0, len(warm) - POOL_SIZE * len(stack.containers("worker")))


def test_down_leaves_nothing_behind(stack):
    deadline = time.monotonic() + 150
    while (_jobs_left(stack) or _warm_beyond_the_live_workers(stack)) and time.monotonic() < deadline:
        time.sleep(2)  # the killed worker's containers, warm ones included, are reaped
    jobs_left = _jobs_left(stack)
    stack.down()
    left = stack.leftovers()
    assert jobs_left == [], jobs_left
    # Warm containers included: the workers remove theirs as they stop, and
    # the killed worker's were reaped.
    assert left == {"containers": [], "networks": [], "volumes": [], "job containers": []}, left
