"""The figures every app replica reads from the database at scrape time,
so that each replica answers alike and no count is lost when one restarts.

Each is an indexed read, cheap with millions of jobs:
- `cronium_jobs_total{status,type}`: jobs that ever ended, from
  `job_tallies` (a few dozen rows, kept by triggers on jobs: see migration
  0009; counting the jobs table instead takes about a second per million
  jobs, and would go down when old jobs are deleted);
- `cronium_jobs_queued` / `cronium_jobs_running`: `idx_jobs_status`;
- workers online and their slots: the `workers` rows (jobs/workers.py);
- `cronium_scheduler_lag_seconds`: how far behind its oldest due fire time
  the scheduler is (`idx_*_next_fire_at`; 0 when nothing is overdue).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlmodel import Session

from cronium_app import telemetry
from cronium_app.jobs import workers as worker_rows
from cronium_app.jobs.status import HELD, PENDING
from cronium_app.models import Event, Job, JobTally, Workflow
from cronium_app.timeutil import as_utc


class DatabaseCollector(Collector):
    def __init__(self, session: Session, now: datetime):
        self.session = session
        self.now = now

    def collect(self) -> Iterator[Metric]:
        yield self._jobs_total()
        yield _gauge("cronium_jobs_queued", "Jobs waiting for a worker (pending)", self._count(Job.status == PENDING))
        yield _gauge("cronium_jobs_running", "Jobs a worker holds (acknowledged or running)",
                     self._count(Job.status.in_(HELD)))
        workers, used, free = worker_rows.online_slots(self.session, self.now)
        yield _gauge("cronium_workers_online", f"Workers heard from in the last {worker_rows.ONLINE_WITHIN_S:.0f} s", workers)
        yield _gauge("cronium_worker_slots_used", "Job slots in use on the workers online", used)
        yield _gauge("cronium_worker_slots_available", "Free job slots on the workers online", free)
        yield _gauge("cronium_scheduler_lag_seconds",
                     "How long the oldest due schedule (event or workflow) has waited to fire", self._scheduler_lag())

    def _jobs_total(self) -> Metric:
        family = CounterMetricFamily("cronium_jobs", "Jobs that ended, by status and type", labels=["status", "type"])
        rows = self.session.execute(
            sa.select(JobTally.status, JobTally.type, sa.func.sum(JobTally.count)).group_by(JobTally.status, JobTally.type)
        )
        for status, job_type, count in rows:
            family.add_metric([status, job_type], count)
        return family

    def _count(self, condition) -> int:
        return self.session.execute(sa.select(sa.func.count()).select_from(Job).where(condition)).scalar_one()

    def _scheduler_lag(self) -> float:
        oldest = [
            self.session.execute(sa.select(sa.func.min(table.next_fire_at))).scalar()
            for table in (Event, Workflow)
        ]
        due = [as_utc(value) for value in oldest if value is not None]
        return max((self.now - min(due)).total_seconds(), 0.0) if due else 0.0


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def exposition(session: Session, now: datetime) -> bytes:
    """The whole /metrics page: the database's figures, then this process's."""
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(DatabaseCollector(session, now))
    return generate_latest(scrape) + generate_latest(telemetry.REGISTRY)
