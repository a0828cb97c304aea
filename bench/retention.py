"""Figures of history retention (issue 16): one cleaner pass over a large
history, and what it costs the claims made meanwhile, on SQLite and on
PostgreSQL.

Per database (`<db>` is `sqlite` or `postgres`), with the real app on a fresh
database (its own cleaner is told to keep everything, so only the pass timed
here deletes):

1. A history is written straight into the database, outside the timed part:
   J finished jobs 40 days old over 100 events (100,000; --quick 10,000),
   with L log lines each (50: 5,000,000 lines; --quick 500,000).
2. `claim_p95_ms_<db>` (the baseline): a worker claims a fresh pending job
   and completes it, through the orchestrator API, over and over for
   CLAIM_WINDOW_S; the figure is the claim request's p95.
3. `claim_during_retention_p95_ms_<db>`: the same loop while one retention
   pass (jobs/retention.run_pass, the code the app's cleaner runs, with a
   30-day default) deletes the whole history; `retention_pass_<db>_s` is how
   long the pass took, `retention_<db>_jobs_per_s` and `..._lines_per_s` its
   rates. Goal: the claim p95 during the pass at most 1.5x the baseline.
   The pass must delete exactly the seeded jobs and lines but the newest job
   of each event, and no job the claimer made.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import httpx
import sqlalchemy as sa

from bench import SuiteFailed, percentile
from bench.suite import Suite, Target, per_database_baselines
from tests.support.app_server import ORCHESTRATOR_TOKEN
from tests.support.clients import register_user

EVENTS = 100
LINES_PER_JOB = 50
CLAIM_WINDOW_S = 20.0
APP_ENV = {"CRONIUM_RETENTION_DAYS": "0"}

BASELINES = per_database_baselines({
    "claim_during_retention_p95_ms_{db}": "claim_p95_ms_{db}",
})


def run(suite: Suite) -> None:
    suite.per_database(lambda target: measure(suite, target), **APP_ENV)
    for db in ("sqlite", "postgres"):
        figure = f"claim_during_retention_p95_ms_{db}"
        if figure in suite.figures:
            ratio = suite.ratio(figure)
            suite.say(f"goal {figure} <= 1.5x {suite.baselines[figure]}: {ratio:.2f}x -> "
                      f"{'met' if ratio <= 1.5 else 'MISSED'}")


def measure(suite: Suite, target: Target) -> None:
    label, url = target.label, target.url
    jobs_total = suite.options.pick(100_000, 10_000)
    figures = suite.figures
    user = register_user(target.app.url)
    try:
        events = [user.create_event(name=f"history {i}", type="bash", script="true")["id"] for i in range(EVENTS)]
        claim_event = user.create_event(name="claimed meanwhile", type="bash", script="true")["id"]
    finally:
        user.http.close()
    began = time.perf_counter()
    _seed_history(url, user.user["id"], events, jobs_total)
    suite.say(f"{label}: wrote {jobs_total} jobs and {jobs_total * LINES_PER_JOB} log lines "
              f"in {time.perf_counter() - began:.0f}s")

    worker = _Claimer(target.app.url, url, user.user["id"], claim_event)
    try:
        baseline = worker.loop_for(CLAIM_WINDOW_S)
        figures[f"claim_p95_ms_{label}"] = percentile(baseline, 95) * 1000
        report_box: dict[str, object] = {}

        def one_pass() -> None:
            try:
                report_box["report"] = _one_pass(url)
            except Exception as exc:  # raised below, in the suite's thread
                report_box["error"] = exc

        pass_thread = threading.Thread(target=one_pass)
        pass_thread.start()
        during: list[float] = []
        while pass_thread.is_alive():
            during += worker.loop_for(1.0)
        pass_thread.join()
    finally:
        worker.close()
    if "error" in report_box:
        raise SuiteFailed(f"the retention pass crashed: {report_box['error']!r}")
    report = report_box["report"]
    figures[f"claim_during_retention_p95_ms_{label}"] = percentile(during, 95) * 1000
    seconds = (report.finished_at - report.started_at).total_seconds()
    figures[f"retention_pass_{label}_s"] = seconds
    figures[f"retention_{label}_jobs_per_s"] = report.jobs_deleted / seconds
    figures[f"retention_{label}_lines_per_s"] = report.lines_deleted / seconds
    figures[f"claims_during_retention_{label}_count"] = len(during)
    suite.say(f"{label}: pass {seconds:.1f}s, {len(during)} claims meanwhile")
    expected_jobs = jobs_total - EVENTS
    if (report.jobs_deleted, report.lines_deleted) != (expected_jobs, expected_jobs * LINES_PER_JOB) or report.error:
        raise SuiteFailed(f"the pass deleted {report.jobs_deleted} jobs and {report.lines_deleted} lines "
                          f"(expected {expected_jobs} and {expected_jobs * LINES_PER_JOB}); error: {report.error}")
    if worker.lost:
        raise SuiteFailed(f"{worker.lost} jobs the claimer completed are gone")


def _one_pass(url: str):
    from cronium_app.db import make_engine
    from cronium_app.jobs import retention
    from cronium_app.settings import Settings

    engine = make_engine(url)
    try:
        return retention.run_pass(engine, Settings(DATABASE_URL=url, CRONIUM_RETENTION_DAYS=30))
    finally:
        engine.dispose()


def _seed_history(url: str, user_id: int, event_ids: list[int], count: int) -> None:
    """`count` finished jobs 40 days old, spread over the events, each with
    LINES_PER_JOB log lines; written with bulk statements (COPY on PostgreSQL)."""
    from cronium_app.db import make_engine, read_session, write_session
    from cronium_app.ids import new_id
    from cronium_app.jobs.create import insert_job
    from cronium_app.models import Event, ExecutionLog, Job
    from cronium_app.timeutil import utcnow

    engine = make_engine(url)
    try:
        with write_session(engine) as session:
            event = session.get(Event, event_ids[0])
            template, _ = insert_job(session, user_id=user_id, workspace_id=event.workspace_id, event=event)
            session.flush()
            template_id = template.id
        with read_session(engine) as session:
            row = dict(session.execute(sa.select(Job.__table__).where(Job.id == template_id)).mappings().one())
        with write_session(engine) as session:
            session.execute(sa.delete(Job).where(Job.id == template_id))
        old = utcnow() - timedelta(days=40)
        chunk = 5000
        made = 0
        while made < count:
            jobs, lines = [], []
            for i in range(made, min(count, made + chunk)):
                job_id = new_id("job")
                created = old + timedelta(milliseconds=i)
                jobs.append({**row, "id": job_id, "event_id": event_ids[i % len(event_ids)], "status": "completed",
                             "created_at": created, "completed_at": created, "updated_at": created})
                lines.extend((job_id, seq, "stdout", f"history line {seq} of {job_id}", created)
                             for seq in range(1, LINES_PER_JOB + 1))
            made += len(jobs)
            with write_session(engine) as session:
                session.execute(sa.insert(Job.__table__), jobs)
                _bulk_lines(session, ExecutionLog, lines)
    finally:
        engine.dispose()


def _bulk_lines(session, model, lines: list[tuple]) -> None:
    columns = ("job_id", "seq", "stream", "line", "timestamp")
    raw = session.connection().connection.driver_connection
    if session.get_bind().dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(
            f"COPY {model.__tablename__} ({', '.join(columns)}) FROM STDIN"
        ) as copy:
            for line in lines:
                copy.write_row(line)
    else:
        session.execute(sa.insert(model.__table__), [dict(zip(columns, line)) for line in lines])


class _Claimer:
    """A worker through the orchestrator API that claims a job queued just
    before and completes it; the claim request is what is timed."""

    def __init__(self, app_url: str, database_url: str, user_id: int, event_id: int) -> None:
        from cronium_app.db import make_engine

        self.http = httpx.Client(base_url=app_url, timeout=60, headers={
            "Authorization": f"Bearer {ORCHESTRATOR_TOKEN}", "X-Worker-Id": "bench-retention-claimer"})
        self.engine = make_engine(database_url)
        self.user_id, self.event_id = user_id, event_id
        self.completed: list[str] = []
        self.lost = 0

    def loop_for(self, seconds: float) -> list[float]:
        from cronium_app.db import write_session
        from cronium_app.jobs.create import insert_job
        from cronium_app.models import Event

        latencies = []
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            with write_session(self.engine) as session:
                event = session.get(Event, self.event_id)
                insert_job(session, user_id=self.user_id, workspace_id=event.workspace_id, event=event)
            began = time.perf_counter()
            reply = self.http.get("/api/internal/jobs/queue", params={"limit": 1})
            latencies.append(time.perf_counter() - began)
            reply.raise_for_status()
            for job in reply.json()["jobs"]:
                done = self.http.post(f"/api/internal/jobs/{job['id']}/complete",
                                      json={"attempt": job["attempt"], "status": "completed", "exitCode": 0})
                done.raise_for_status()
                self.completed.append(job["id"])
        return latencies

    def close(self) -> None:
        from cronium_app.models import Job

        with self.engine.connect() as conn:
            present = conn.execute(sa.select(sa.func.count()).select_from(Job)
                                   .where(Job.id.in_(self.completed))).scalar_one() if self.completed else 0
        self.lost = len(self.completed) - present
        self.http.close()
        self.engine.dispose()
