"""The scheduler in real time, in the real app (AppServer subprocesses) on a
fresh database (SQLite, or PostgreSQL with DATABASE_URL): a 10 s interval
fires on time; a SIGKILL and a restart lose and duplicate nothing (the missed
run goes to the run_once policy); two app processes sharing one database
create exactly one job per fire time; pause, resume, edit and delete apply
without a restart.

The jobs are read from the database itself (idempotency key, fire time,
creation time); no worker runs, so schedules use overlap `allow`."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from cronium_app.db import make_engine
from cronium_app.models import Job
from tests.support.app_server import AppServer
from tests.support.clients import UserClient, register_user
from tests.support.databases import migrated_database

pytestmark = pytest.mark.slow

INTERVAL_S = 10
GRACE_S = 5.0  # the default CRONIUM_SCHEDULER_MISFIRE_GRACE
# How late a job may be created after its fire time while the app is up:
# the loop wakes for the fire time itself, so this is mostly slack for a busy machine.
ON_TIME_S = 2.0


@dataclass(frozen=True)
class Fired:
    key: str
    fire_time: datetime
    created_at: datetime

    @property
    def lateness_s(self) -> float:
        return (self.created_at - self.fire_time).total_seconds()


def now() -> datetime:
    return datetime.now(timezone.utc)


def start_in(seconds: float) -> datetime:
    """A whole second at least `seconds` ahead."""
    return (now() + timedelta(seconds=seconds + 1)).replace(microsecond=0)


def fired(url: str, kind_id: str) -> list[Fired]:
    """Jobs a schedule created ('event:7'), by fire time."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(Job.idempotency_key, Job.scheduled_for, Job.created_at)
                .where(Job.idempotency_key.like(f"sched:{kind_id}:%"))
                .order_by(Job.scheduled_for)
            ).all()
    finally:
        engine.dispose()
    return [Fired(*row) for row in rows]


def wait_for(predicate, timeout: float, what: str, poll: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def grid(first: datetime, last: datetime, step_s: int = INTERVAL_S) -> list[datetime]:
    count = int((last - first).total_seconds() // step_s)
    return [first + timedelta(seconds=step_s * i) for i in range(count + 1)]


def assert_no_duplicates(jobs: list[Fired]) -> None:
    assert len({j.fire_time for j in jobs}) == len(jobs), [j.key for j in jobs]
    assert len({j.key for j in jobs}) == len(jobs)


def interval_event(user: UserClient, first: datetime, **fields) -> dict:
    return user.create_event(
        name="every ten seconds", scheduleType="interval", intervalSeconds=INTERVAL_S, startAt=first.isoformat(),
        overlapPolicy="allow", **fields,
    )


@pytest.fixture(scope="module")
def shared_app() -> Iterator[tuple[AppServer, str]]:
    with migrated_database("cronium_sched_rt") as url:
        with AppServer(database_url=url) as server:
            yield server, url


def test_a_ten_second_interval_fires_at_the_right_times(shared_app):
    server, url = shared_app
    user = register_user(server.url)
    first = start_in(3)
    event = interval_event(user, first)
    jobs = wait_for(lambda: (j := fired(url, f"event:{event['id']}")) and len(j) >= 4 and j,
                    timeout=60, what="four runs")
    assert_no_duplicates(jobs)
    assert [j.fire_time for j in jobs[:4]] == grid(first, first + timedelta(seconds=30))
    assert all(0 <= j.lateness_s < ON_TIME_S for j in jobs), [j.lateness_s for j in jobs]
    user.http.delete(f"/api/v1/events/{event['id']}")


def test_pause_resume_edit_and_delete_apply_without_a_restart(shared_app):
    server, url = shared_app
    user = register_user(server.url)
    event = interval_event(user, start_in(2))
    key = f"event:{event['id']}"
    wait_for(lambda: fired(url, key), timeout=20, what="the first run")

    assert user.http.patch(f"/api/v1/events/{event['id']}", json={"status": "paused"}).status_code == 200
    paused_count = len(fired(url, key))
    time.sleep(INTERVAL_S + 2)
    assert len(fired(url, key)) == paused_count, "a paused schedule fired"

    resumed_at = now()
    assert user.http.patch(f"/api/v1/events/{event['id']}", json={"status": "active"}).status_code == 200
    wait_for(lambda: len(fired(url, key)) > paused_count, timeout=INTERVAL_S + 5, what="a run after resuming")
    assert fired(url, key)[-1].fire_time > resumed_at

    # Edit: a cron schedule on every 15th second.
    edited = user.http.patch(f"/api/v1/events/{event['id']}", json={"scheduleType": "cron", "cronExpression": "*/15 * * * * *"})
    assert edited.status_code == 200, edited.text
    edited_at = now()
    wait_for(lambda: any(j.fire_time > edited_at for j in fired(url, key)), timeout=20, what="a run of the edited schedule")
    assert all(j.fire_time.second % 15 == 0 for j in fired(url, key) if j.fire_time > edited_at)

    assert user.http.delete(f"/api/v1/events/{event['id']}").status_code == 204
    deleted_count = len(fired(url, key))
    time.sleep(16)
    assert len(fired(url, key)) == deleted_count, "a deleted event fired"


def test_sigkill_and_restart_lose_and_duplicate_nothing():
    with migrated_database("cronium_sched_kill") as url:
        first_app = AppServer(database_url=url).start()
        try:
            user = register_user(first_app.url)
            first = start_in(3)
            event = interval_event(user, first, misfirePolicy="run_once")
            key = f"event:{event['id']}"
            wait_for(lambda: len(fired(url, key)) >= 2, timeout=40, what="two runs before the kill")
        finally:
            # Just after a fire time: the whole app (its process group) dies at once.
            first_app.stop(signal.SIGKILL)
        before = fired(url, key)
        time.sleep(2.5 * INTERVAL_S)  # two or three fire times pass with nobody to fire them
        restarted_at = now()
        with AppServer(database_url=url) as second_app:
            ready_at = now()
            wait_for(lambda: len([j for j in fired(url, key) if j.created_at > restarted_at]) >= 3,
                     timeout=60, what="three runs after the restart")
        jobs = fired(url, key)
    assert_no_duplicates(jobs)
    assert all(j.fire_time in grid(first, jobs[-1].fire_time) for j in jobs), "a run off the schedule's grid"
    # Up to the kill: every fire time has its run.
    assert [j.fire_time for j in before] == grid(first, before[-1].fire_time)
    after = [j for j in jobs if j.created_at > restarted_at]
    catch_up, rest = after[0], after[1:]
    # The run_once catch-up: the latest fire time missed while the app was down.
    missed = [t for t in grid(first, catch_up.fire_time) if t > before[-1].fire_time]
    assert len(missed) >= 2, f"the downtime should span fire times: {missed}"
    assert catch_up.fire_time == missed[-1]
    assert restarted_at - timedelta(seconds=INTERVAL_S + GRACE_S + 1) < catch_up.fire_time < ready_at
    # The ones before it were dropped by run_once, once each: no other job for them.
    assert {j.fire_time for j in jobs} & set(missed[:-1]) == set()
    # From then on, every fire time has its run: those that came while the app
    # was starting within the grace, the others on time.
    assert [j.fire_time for j in rest] == grid(rest[0].fire_time, rest[-1].fire_time)
    assert rest[0].fire_time - catch_up.fire_time == timedelta(seconds=INTERVAL_S)
    assert all(j.lateness_s < GRACE_S + ON_TIME_S for j in rest), [j.lateness_s for j in rest]
    assert all(j.lateness_s < ON_TIME_S for j in rest if j.fire_time > ready_at), [j.lateness_s for j in rest]


@pytest.mark.realtime_scheduler
def test_two_app_processes_on_one_database_create_one_job_per_fire_time():
    run_s = 60
    with migrated_database("cronium_sched_two") as url:
        with AppServer(database_url=url) as app_a, AppServer(database_url=url) as app_b:
            user = register_user(app_a.url)
            first = start_in(3)
            events = [interval_event(user, first) for _ in range(4)]
            cron = user.create_event(name="every ten seconds by cron", scheduleType="cron",
                                     cronExpression="*/10 * * * * *", overlapPolicy="allow")
            keys = [f"event:{e['id']}" for e in events] + [f"event:{cron['id']}"]
            time.sleep(run_s)
            # Both processes are still up and answering.
            assert app_a.process.poll() is None and app_b.process.poll() is None
        for key in keys:
            jobs = fired(url, key)
            assert_no_duplicates(jobs)
            assert len(jobs) >= run_s // INTERVAL_S - 1, (key, len(jobs))
            assert [j.fire_time for j in jobs] == grid(jobs[0].fire_time, jobs[-1].fire_time), key
            assert all(j.lateness_s < ON_TIME_S for j in jobs), (key, [j.lateness_s for j in jobs])
