"""Orchestrator API (/api/internal): what workers call. Bearer
ORCHESTRATOR_TOKEN plus X-Worker-Id naming the worker. Each route parses,
calls one function of `cronium_app.jobs`, and shapes the reply."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, model_validator

from cronium_app import shutdown
from cronium_app.api.deps import settings_dep, worker_id
from cronium_app.api.disconnect import hang_up_watch
from cronium_app.db import read_session, write_session
from cronium_app.errors import Invalid
from cronium_app.jobs import long_poll, queue, workers
from cronium_app.jobs.log_store import LogRun
from cronium_app.nul_text import has_nul, replace_nul
from cronium_app.settings import Settings
from cronium_app.timeutil import utcnow
from orchestrator_worker.protocol import WORKER_SLOTS_HEADER

router = APIRouter(prefix="/api/internal", tags=["internal"])

WorkerId = Annotated[str, Depends(worker_id)]
SettingsDep = Annotated[Settings, Depends(settings_dep)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class _Report(_Body):
    """What a worker says happened in a run: a NUL in it is replaced, never
    refused, so that the report is not lost (see nul_text)."""

    @model_validator(mode="before")
    @classmethod
    def _without_nul(cls, data: Any) -> Any:
        return replace_nul(data) if has_nul(data) else data


class StatusBody(_Body):
    status: Literal["running"]
    attempt: int = Field(ge=1)
    # How long the worker has had the job (it says `running` a moment late).
    run_ms: int | None = Field(default=None, alias="runMs", ge=0, le=10**12)


class LogLineBody(_Body):
    """One line (the previous release's form of a batch: a list of these)."""

    seq: int = Field(ge=1)
    stream: Literal["stdout", "stderr", "system"]
    line: str
    timestamp: datetime


class LogRunBody(_Body):
    """Consecutive lines of one stream read at one moment: seq, seq+1, ..."""

    seq: int = Field(ge=1)
    stream: Literal["stdout", "stderr", "system"]
    timestamp: datetime
    lines: list[str]


class LogBatchBody(_Report):
    attempt: int = Field(ge=1)
    logs: list[LogLineBody] = Field(default_factory=list)
    runs: list[LogRunBody] = Field(default_factory=list)

    def all_runs(self) -> list[LogRun]:
        """Both forms as runs (a line of the previous release's form is a run of one)."""
        return [LogRun(item.seq, item.stream, item.timestamp, [item.line]) for item in self.logs] + _runs(self.runs)


def _runs(runs: list[LogRunBody]) -> list[LogRun]:
    return [LogRun(run.seq, run.stream, run.timestamp, run.lines) for run in runs]


class ServerResultBody(_Body):
    """How a multi-server job went on one server."""

    server_id: int = Field(alias="serverId")
    name: str = Field(max_length=100)
    status: Literal["completed", "failed", "timed_out", "cancelled"]
    exit_code: int | None = Field(default=None, alias="exitCode")
    duration_ms: int | None = Field(default=None, alias="durationMs")
    error: str | None = Field(default=None, max_length=2000)


class CompleteBody(_Report):
    attempt: int = Field(ge=1)
    status: Literal["completed", "failed", "timed_out", "cancelled", "partial"]
    exit_code: int | None = Field(default=None, alias="exitCode")
    output: Any = None
    error: str | None = None
    metrics: dict[str, Any] | None = None
    servers: list[ServerResultBody] | None = Field(default=None, max_length=100)
    # The job's last log lines, stored with its end (one request for a short job).
    runs: list[LogRunBody] = Field(default_factory=list)
    # How long the worker has had the job: when it never said `running`
    # (a short job), the job started this long before its end.
    run_ms: int | None = Field(default=None, alias="runMs", ge=0, le=10**12)


class HeartbeatJob(_Body):
    id: str = Field(min_length=1, max_length=40)
    attempt: int = Field(ge=1)


class ReleaseBody(_Body):
    attempt: int = Field(ge=1)
    reason: str = Field(default="worker shutting down", max_length=500)


class HeldBody(_Body):
    jobs: list[HeartbeatJob] = Field(default_factory=list, max_length=10_000)


# A value of the worker's container pool report: a number, a word, a flag.
PoolValue = int | float | Annotated[str, Field(max_length=200)] | bool | None


class WorkerInfoBody(_Body):
    """What the worker says about itself (orchestrator_worker.protocol.WorkerInfo)."""

    host: str | None = Field(default=None, max_length=255)
    engine_version: str | None = Field(default=None, alias="engineVersion", max_length=64)
    engine_host: str | None = Field(default=None, alias="engineHost", max_length=255)
    concurrency: int | None = Field(default=None, ge=0, le=1_000_000)
    running: int | None = Field(default=None, ge=0, le=1_000_000)
    state: Literal["running", "draining", "stopped"] | None = None
    pool: dict[Annotated[str, Field(max_length=64)], PoolValue] | None = Field(default=None, max_length=32)


class HeartbeatBody(_Body):
    worker_id: str | None = Field(default=None, alias="workerId")
    # The previous release's name for workerId.
    orchestrator_id: str | None = Field(default=None, alias="orchestratorId")
    jobs: list[HeartbeatJob] = Field(default_factory=list, max_length=10_000)
    # Workers of earlier releases send no details.
    worker: WorkerInfoBody | None = None


@router.get("/jobs/queue")
async def claim_jobs(
    request: Request,
    worker: WorkerId,
    settings: SettingsDep,
    limit: int = Query(default=10, ge=1, le=500),
    wait: float = Query(default=0.0, ge=0.0, le=3600.0),
) -> dict[str, Any]:
    """Claim up to `limit` jobs. With `wait`, hold the request open until a
    job arrives or `wait` seconds pass (capped by CRONIUM_CLAIM_MAX_WAIT)."""
    await run_in_threadpool(workers.record_slots, worker, request.headers.get(WORKER_SLOTS_HEADER), utcnow())
    async with hang_up_watch(request) as hung_up:
        jobs = await long_poll.claim(settings, worker, limit, wait, hung_up=hung_up, app_stopping=shutdown.stopping)
    return {"jobs": jobs}


@router.post("/jobs/{job_id}/status")
def job_status(job_id: str, body: StatusBody, worker: WorkerId, settings: SettingsDep):
    with write_session() as session:
        return queue.mark_running(session, settings, job_id, queue.WorkerRef(worker, body.attempt), body.run_ms)


@router.post("/jobs/{job_id}/logs")
def job_logs(job_id: str, body: LogBatchBody, worker: WorkerId, settings: SettingsDep):
    with write_session() as session:
        return queue.append_logs(session, settings, job_id, queue.WorkerRef(worker, body.attempt), body.all_runs())


@router.post("/jobs/{job_id}/complete")
def job_complete(job_id: str, body: CompleteBody, worker: WorkerId, settings: SettingsDep):
    servers = [item.model_dump(by_alias=True) for item in body.servers] if body.servers is not None else None
    with write_session() as session:
        return queue.complete(
            session, settings, job_id, queue.WorkerRef(worker, body.attempt), status=body.status,
            exit_code=body.exit_code, output=body.output, error=body.error, metrics=body.metrics, servers=servers,
            runs=_runs(body.runs), run_ms=body.run_ms,
        )


@router.post("/heartbeat")
def heartbeat(
    body: HeartbeatBody, worker: WorkerId, settings: SettingsDep,
    slots: Annotated[str | None, Header(alias=WORKER_SLOTS_HEADER)] = None,
) -> dict[str, Any]:
    named = body.worker_id if body.worker_id is not None else body.orchestrator_id
    if named is not None and named != worker:
        raise Invalid("workerId in the body must match the X-Worker-Id header")
    with write_session() as session:
        info = body.worker.model_dump(by_alias=True, exclude_unset=True) if body.worker is not None else None
        info = workers.with_slots(info, slots)
        return queue.heartbeat(session, settings, worker, [(job.id, job.attempt) for job in body.jobs], info)


@router.post("/jobs/{job_id}/release")
def job_release(job_id: str, body: ReleaseBody, worker: WorkerId, settings: SettingsDep):
    with write_session() as session:
        return queue.release(session, settings, job_id, queue.WorkerRef(worker, body.attempt), body.reason)


class HostKeyBody(_Body):
    job_id: str = Field(alias="jobId", min_length=1, max_length=40)
    attempt: int = Field(ge=1)
    host_key: str = Field(alias="hostKey", min_length=1, max_length=16 * 1024)


@router.post("/servers/{server_id}/host-key")
def pin_host_key(server_id: int, body: HostKeyBody, worker: WorkerId) -> dict[str, Any]:
    """A worker saw a server's host key for the first time: pin it (first
    writer wins) and answer with the pinned key, for the worker to compare."""
    ref = queue.WorkerRef(worker, body.attempt)
    with write_session() as session:
        return {"hostKey": queue.pin_server_host_key(session, body.job_id, ref, server_id, body.host_key)}


@router.post("/jobs/held")
def jobs_held(body: HeldBody, worker: WorkerId) -> dict[str, Any]:
    with read_session() as session:
        return {"held": queue.still_held(session, [(job.id, job.attempt) for job in body.jobs])}
