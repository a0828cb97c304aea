"""Acting as a worker on the orchestrator API in a test: claim a user's new
job, mark it running, finish it, and the log lines a worker sends."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from tests.support.clients import UserClient, WorkerClient


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def log_line(seq: int, line: str | None = None, stream: str = "stdout") -> dict[str, Any]:
    return {"seq": seq, "stream": stream, "line": line if line is not None else f"line {seq}", "timestamp": now_iso()}


def queue_job(user: UserClient, **event_fields: Any) -> str:
    """A run of a new event of `user`, waiting in the queue."""
    return user.execute(user.create_event(**event_fields)["id"])


def claim(worker: WorkerClient, user: UserClient, **event_fields: Any) -> tuple[str, int]:
    """Queue a run of a new event and claim it; returns (job id, attempt)."""
    job_id = queue_job(user, **event_fields)
    return job_id, worker.claim_one(job_id)["attempt"]


def start(worker: WorkerClient, user: UserClient, **event_fields: Any) -> tuple[str, int]:
    """A job that the worker holds and has marked running."""
    job_id, attempt = claim(worker, user, **event_fields)
    response = worker.running(job_id, attempt)
    assert response.status_code == 200, response.text
    return job_id, attempt


def finish(worker: WorkerClient, job_id: str, attempt: int, status: str = "completed", **fields: Any) -> None:
    response = worker.complete(job_id, attempt, status, **fields)
    assert response.status_code == 200, response.text
