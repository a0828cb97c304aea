"""Figures of the scheduler issue: 1,000 active schedules firing every
minute, and the delay from each fire time to its job, on SQLite and on
PostgreSQL, in the real app (its own scheduler loop, real clock).

Per database (`<db>` is `sqlite` or `postgres`), one app on a fresh database:

1. `scheduler_insert_baseline_<db>_ms`: the floor. The bench writes as many
   jobs as there are schedules the way the scheduler writes them
   (`jobs.create.for_schedule`: one INSERT ... ON CONFLICT DO NOTHING
   per 100 jobs, one transaction each), from its own process, with no
   schedule to lock, plan or move on: what the burst costs the database.
   For reference, `scheduler_insert_one_by_one_<db>_ms`: the same number of
   jobs through `insert_job` (the API's path: a look-up and a savepoint per
   job).
2. N schedules (1,000; --quick 300) are created through the event service
   (untimed): cron `S * * * * *` (second S of every minute), overlap
   `allow` (no worker runs the jobs), starting at a whole second F about 10 s
   ahead, so that they all fire together at F, F+60 s, ...
3. While they wait, `scheduler_idle_app_cpu_<db>_pct`: the app's CPU with
   N active schedules and nothing due, in % of one core (the poll loop).
4. Each round (2; --quick 1): the bench polls the jobs table every 20 ms
   from just before the fire time until all N jobs of the round are
   there: `scheduler_burst_all_visible_<db>_ms` is fire time -> the last
   one seen (committed). Then, from the jobs themselves, the delay fire
   time (`scheduled_for`) -> `created_at`: `scheduler_fire_to_job_<db>_p50_ms`,
   `_p95_ms`, `_max_ms` over every job of every round, and
   `scheduler_app_cpu_per_fire_<db>_ms`, the app's CPU per job created
   during the bursts. `created_at` is stamped as a batch's INSERT is built,
   before it commits; what a worker can claim is what has committed, so
   `scheduler_fire_to_visible_<db>_p50_ms` and `_p95_ms` come from the same
   polls: fire time -> the first poll that saw at least half (95 %) of the
   round's jobs (the poll period, 20 ms, is their resolution), worst round.

Checks: every schedule has exactly one job per round, at its fire time (no
duplicate, none missing, none early); every job is created after its fire
time.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from bench import SuiteFailed, app_cpu_seconds, percentile
from bench.suite import Suite, Target, per_database_baselines
from tests.support.clients import register_user

BATCH = 100  # the scheduler's default batch (CRONIUM_SCHEDULER_BATCH)
LEAD_S = 10  # setup must finish before the first fire time
POLL_S = 0.02
ROUND_TIMEOUT_S = 45


# Every delay is shown against the floor: the same number of jobs written
# the scheduler's way with nothing else to do.
_FLOOR = "scheduler_insert_baseline_{db}_ms"
BASELINES = per_database_baselines({
    "scheduler_fire_to_job_{db}_p50_ms": _FLOOR,
    "scheduler_fire_to_job_{db}_p95_ms": _FLOOR,
    "scheduler_fire_to_job_{db}_max_ms": _FLOOR,
    "scheduler_burst_all_visible_{db}_ms": _FLOOR,
    "scheduler_fire_to_visible_{db}_p50_ms": _FLOOR,
    "scheduler_fire_to_visible_{db}_p95_ms": _FLOOR,
    "scheduler_insert_one_by_one_{db}_ms": _FLOOR,
})


def run(suite: Suite) -> None:
    suite.per_database(lambda target: measure(suite, target))


def measure(suite: Suite, target: Target) -> None:
    from cronium_app.db import make_engine

    label, url, server, figures = target.label, target.url, target.app, suite.figures
    count = suite.options.pick(1000, 300)
    rounds = suite.options.pick(2, 1)

    def say(text: str) -> None:
        suite.say(f"{label}: {text}")

    user = register_user(server.url)
    user_id = user.user["id"]
    manual = user.create_event(name="baseline", type="bash", script="true")
    user.http.close()
    engine = make_engine(url)
    try:
        figures[f"scheduler_insert_baseline_{label}_ms"] = _insert_baseline(engine, user_id, manual["id"], count, False)
        figures[f"scheduler_insert_one_by_one_{label}_ms"] = _insert_baseline(engine, user_id, manual["id"], count, True)
        say(f"baseline: {count} jobs in {figures[f'scheduler_insert_baseline_{label}_ms']:.0f} ms "
            f"(one by one: {figures[f'scheduler_insert_one_by_one_{label}_ms']:.0f} ms)")

        first = (datetime.now(timezone.utc) + timedelta(seconds=LEAD_S)).replace(microsecond=0)
        began = time.monotonic()
        event_ids = _create_schedules(engine, user_id, count, first)
        say(f"created {count} schedules in {time.monotonic() - began:.1f}s; first fire {first.isoformat()}")
        if datetime.now(timezone.utc) > first - timedelta(seconds=2):
            raise SuiteFailed(f"creating {count} schedules took too long: the first fire time {first} came first")

        idle_from, cpu_from = time.monotonic(), app_cpu_seconds(server)
        _sleep_until(first - timedelta(seconds=1))
        idle_cpu = app_cpu_seconds(server)
        if cpu_from is not None and idle_cpu is not None:
            figures[f"scheduler_idle_app_cpu_{label}_pct"] = (idle_cpu - cpu_from) / (time.monotonic() - idle_from) * 100

        visible_ms: dict[int, list[float]] = {50: [], 95: [], 100: []}
        burst_cpu = 0.0
        for round_no in range(rounds):
            fire_time = first + timedelta(minutes=round_no)
            _sleep_until(fire_time - timedelta(seconds=1))
            cpu_before = app_cpu_seconds(server)
            seen = _wait_visible(engine, fire_time, count)
            cpu_after = app_cpu_seconds(server)
            if seen is None:
                raise SuiteFailed(f"round {round_no + 1}: not all {count} jobs appeared within {ROUND_TIMEOUT_S}s")
            for pct, ms in visible_ms.items():
                ms.append(_first_seen_ms(seen, fire_time, count * pct / 100))
            if cpu_before is not None and cpu_after is not None:
                burst_cpu += cpu_after - cpu_before
            say(f"round {round_no + 1}: half of the {count} jobs visible {visible_ms[50][-1]:.0f} ms after the "
                f"fire time, 95 % {visible_ms[95][-1]:.0f} ms, all {visible_ms[100][-1]:.0f} ms")
        figures[f"scheduler_burst_all_visible_{label}_ms"] = max(visible_ms[100])
        figures[f"scheduler_fire_to_visible_{label}_p50_ms"] = max(visible_ms[50])
        figures[f"scheduler_fire_to_visible_{label}_p95_ms"] = max(visible_ms[95])
        if burst_cpu:
            figures[f"scheduler_app_cpu_per_fire_{label}_ms"] = burst_cpu * 1000 / (count * rounds)
        time.sleep(1)  # anything late or doubled would show up now
        _check_and_measure(engine, label, event_ids, [first + timedelta(minutes=r) for r in range(rounds)], figures, say)
    finally:
        engine.dispose()


def _insert_baseline(engine, user_id: int, event_id: int, count: int, one_by_one: bool) -> float:
    from cronium_app.db import write_session
    from cronium_app.jobs.create import KeyedRun, for_schedule, insert_job
    from cronium_app.models import Event

    prefix = "bench-one" if one_by_one else "bench-bulk"
    began = time.perf_counter()
    done = 0
    while done < count:
        with write_session(engine) as session:
            event = session.get(Event, event_id)
            keys = [f"{prefix}:{i}" for i in range(done, min(done + BATCH, count))]
            if one_by_one:
                for key in keys:
                    insert_job(session, user_id=user_id, workspace_id=event.workspace_id, event=event,
                               idempotency_key=key)
            elif len(for_schedule(session, [KeyedRun(event, key) for key in keys])) != len(keys):
                raise SuiteFailed("the baseline insert skipped jobs")
            done += len(keys)
    return (time.perf_counter() - began) * 1000


def _create_schedules(engine, user_id: int, count: int, first: datetime) -> list[int]:
    from cronium_app.db import write_session
    from cronium_app.events.schemas import EventCreate
    from cronium_app.auth.personal_workspace import personal_access
    from cronium_app.events.service import create_event
    from cronium_app.settings import Settings

    settings = Settings()
    ids: list[int] = []
    while len(ids) < count:
        with write_session(engine) as session:
            access = personal_access(session, user_id)
            for _ in range(min(200, count - len(ids))):
                data = EventCreate(
                    name=f"every minute {len(ids)}", type="bash", script="true", scheduleType="cron",
                    cronExpression=f"{first.second} * * * * *", startAt=first, overlapPolicy="allow",
                )
                ids.append(create_event(session, settings, access, data).id)
    return ids


def _sleep_until(moment: datetime) -> None:
    remaining = (moment - datetime.now(timezone.utc)).total_seconds()
    if remaining > 0:
        time.sleep(remaining)


def _wait_visible(engine, fire_time: datetime, count: int) -> list[tuple[datetime, int]] | None:
    """Polls until all `count` jobs of the fire time are visible; each poll's
    (time, jobs seen). None if they never all were."""
    from cronium_app.models import Job

    query = (
        sa.select(sa.func.count()).select_from(Job)
        .where(Job.idempotency_key.like("sched:event:%"), Job.scheduled_for == fire_time)
    )
    seen: list[tuple[datetime, int]] = []
    deadline = time.monotonic() + ROUND_TIMEOUT_S
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            seen.append((datetime.now(timezone.utc), conn.execute(query).scalar_one()))
            if seen[-1][1] >= count:
                return seen
            conn.rollback()  # a fresh snapshot for the next look
            time.sleep(POLL_S)
    return None


def _first_seen_ms(seen: list[tuple[datetime, int]], fire_time: datetime, wanted: float) -> float:
    """Fire time -> the first poll that saw at least `wanted` jobs."""
    at = next(moment for moment, jobs in seen if jobs >= wanted)
    return (at - fire_time).total_seconds() * 1000


def _check_and_measure(engine, label: str, event_ids: list[int], fire_times: list[datetime],
                       figures: dict[str, float], say) -> None:
    from cronium_app.models import Job

    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(Job.event_id, Job.scheduled_for, Job.created_at)
            .where(Job.idempotency_key.like("sched:event:%"))
        ).all()
    seen: dict[tuple[int, datetime], int] = {}
    delays_ms: list[float] = []
    for event_id, scheduled_for, created_at in rows:
        seen[(event_id, scheduled_for)] = seen.get((event_id, scheduled_for), 0) + 1
        delays_ms.append((created_at - scheduled_for).total_seconds() * 1000)
    expected = {(event_id, t) for event_id in event_ids for t in fire_times}
    duplicates = sum(n - 1 for n in seen.values() if n > 1)
    missing = len(expected - seen.keys())
    unexpected = len(seen.keys() - expected)
    early = sum(1 for d in delays_ms if d < 0)
    figures[f"scheduler_jobs_{label}_count"] = len(rows)
    figures[f"scheduler_duplicates_{label}_count"] = duplicates
    figures[f"scheduler_missing_{label}_count"] = missing
    if delays_ms:
        figures[f"scheduler_fire_to_job_{label}_p50_ms"] = percentile(delays_ms, 50)
        figures[f"scheduler_fire_to_job_{label}_p95_ms"] = percentile(delays_ms, 95)
        figures[f"scheduler_fire_to_job_{label}_max_ms"] = max(delays_ms)
        say(f"fire -> job p50 {percentile(delays_ms, 50):.0f} ms, p95 {percentile(delays_ms, 95):.0f} ms, "
            f"max {max(delays_ms):.0f} ms over {len(delays_ms)} jobs")
    problems = {"duplicates": duplicates, "missing": missing, "unexpected": unexpected, "early": early}
    if any(problems.values()):
        raise SuiteFailed("scheduled jobs were not exactly one per fire time: "
                          + ", ".join(f"{k}={v}" for k, v in problems.items()))
