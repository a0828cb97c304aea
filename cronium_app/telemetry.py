"""What this app process measures as it goes: Prometheus histograms and
counters of its own, each with a `replica` label (CRONIUM_REPLICA_NAME,
default the host name).

Counts that the database can give cheaply at scrape time (jobs by status,
the queue, workers, the scheduler's lag) are not kept here: see
`cronium_app/metrics`, which every replica answers alike. What is kept here
would cost a scan of every finished job at each scrape (durations and queue
waits as histograms), or is only known to the process that saw it (log
lines stored, HTTP requests served). Each replica counts what it handled;
`sum without (replica)` gives the whole.

A service counts inside its transaction with `after_commit`: the count is
made when (and only when) that transaction commits, so a rolled-back claim
or completion counts nothing.
"""

from __future__ import annotations

import functools
import socket
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy import event
from sqlalchemy.orm import Session

from cronium_app.settings import get_settings

REGISTRY = CollectorRegistry()

JOB_DURATION = Histogram(
    "cronium_job_duration_seconds",
    "From a job's start to its end, as its worker reported the end to this replica",
    ["type", "status", "replica"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 10800),
    registry=REGISTRY,
)
QUEUE_WAIT = Histogram(
    "cronium_job_queue_wait_seconds",
    "From a job being due (created, or its scheduled time) to a worker claiming it through this replica",
    ["type", "replica"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
    registry=REGISTRY,
)
LOG_LINES = Counter(
    "cronium_log_lines", "Job log lines stored by this replica (duplicates a worker resent are not counted)",
    ["replica"], registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "cronium_http_request_duration_seconds",
    "HTTP requests to the API routes, by route template (never the raw path)",
    ["method", "route", "status", "replica"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)


@functools.cache
def replica() -> str:
    return get_settings().replica_name or socket.gethostname()


_PENDING_KEY = "cronium.telemetry"


def after_commit(session: Session, count: Callable[..., Any], *args: Any) -> None:
    session.info.setdefault(_PENDING_KEY, []).append((count, args))


# As in jobs/wake.py: after_commit also fires for savepoints; only the
# outermost commit counts, and a rolled-back transaction counts nothing.
@event.listens_for(Session, "after_commit")
def _count_on_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    for count, args in session.info.pop(_PENDING_KEY, ()):
        count(*args)


@event.listens_for(Session, "after_transaction_end")
def _forget_on_rollback(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)


def job_ended(job_type: str, status: str, seconds: float | None) -> None:
    if seconds is not None:
        JOB_DURATION.labels(type=job_type, status=status, replica=replica()).observe(max(seconds, 0.0))


def job_claimed(job_type: str, waited_seconds: float) -> None:
    QUEUE_WAIT.labels(type=job_type, replica=replica()).observe(max(waited_seconds, 0.0))


def log_lines_stored(count: int) -> None:
    LOG_LINES.labels(replica=replica()).inc(count)


def request_served(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_DURATION.labels(method=method, route=route, status=str(status), replica=replica()).observe(seconds)
