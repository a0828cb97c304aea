"""Orchestrator API (/api/internal): what workers call. Bearer
ORCHESTRATOR_TOKEN plus X-Orchestrator-Id naming the worker."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from cronium_app import lifecycle
from cronium_app.api.deps import engine_dep, settings_dep, worker_id
from cronium_app.errors import Invalid
from cronium_app.db import read_session, write_session
from cronium_app.jobs import queue
from cronium_app.jobs.notifier import notifier
from cronium_app.runtime import tokens as execution_tokens
from cronium_app.servers import service as servers_service
from cronium_app.workflows import engine as workflow_engine
from cronium_app.settings import Settings

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/internal", tags=["internal"])

# How often a long-polling claimer re-checks the table for jobs created by
# another process. Jobs created in this process wake it at once.
CROSS_PROCESS_RECHECK_S = 0.25

WorkerId = Annotated[str, Depends(worker_id)]
EngineDep = Annotated[Engine, Depends(engine_dep)]
SettingsDep = Annotated[Settings, Depends(settings_dep)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class AckBody(_Body):
    job_id: str = Field(alias="jobId", min_length=1, max_length=40)


class StatusBody(_Body):
    status: Literal["running"]
    attempt: int = Field(ge=1)


class LogLineBody(_Body):
    seq: int = Field(ge=1)
    stream: Literal["stdout", "stderr", "system"]
    line: str
    timestamp: datetime


class LogBatchBody(_Body):
    attempt: int = Field(ge=1)
    logs: list[LogLineBody]


class ServerResultBody(_Body):
    """How a multi-server job went on one server."""

    server_id: int = Field(alias="serverId")
    name: str = Field(max_length=100)
    status: Literal["completed", "failed", "timed_out", "cancelled"]
    exit_code: int | None = Field(default=None, alias="exitCode")
    duration_ms: int | None = Field(default=None, alias="durationMs")
    error: str | None = Field(default=None, max_length=2000)


class CompleteBody(_Body):
    attempt: int = Field(ge=1)
    status: Literal["completed", "failed", "timed_out", "cancelled", "partial"]
    exit_code: int | None = Field(default=None, alias="exitCode")
    output: Any = None
    error: str | None = None
    metrics: dict[str, Any] | None = None
    servers: list[ServerResultBody] | None = Field(default=None, max_length=100)


class HeartbeatJob(_Body):
    id: str = Field(min_length=1, max_length=40)
    attempt: int = Field(ge=1)


class ReleaseBody(_Body):
    attempt: int = Field(ge=1)
    reason: str = Field(default="worker shutting down", max_length=500)


class HeldBody(_Body):
    jobs: list[HeartbeatJob] = Field(default_factory=list, max_length=10_000)


class HeartbeatBody(_Body):
    worker_id: str | None = Field(default=None, alias="workerId")
    # The previous release's name for workerId.
    orchestrator_id: str | None = Field(default=None, alias="orchestratorId")
    jobs: list[HeartbeatJob] = Field(default_factory=list, max_length=10_000)


@router.get("/jobs/queue")
async def claim_jobs(
    request: Request,
    worker: WorkerId,
    engine: EngineDep,
    settings: SettingsDep,
    limit: int = Query(default=10, ge=1, le=500),
    wait: float = Query(default=0.0, ge=0.0),
) -> dict[str, Any]:
    """Claim up to `limit` jobs. With `wait`, hold the request open until a
    job arrives or `wait` seconds pass (capped by CRONIUM_CLAIM_MAX_WAIT)."""
    deadline = time.monotonic() + min(wait, settings.claim_max_wait_s)
    # A worker that hangs up mid-poll (it is shutting down) must not be given
    # jobs it will never see: watch for the disconnect while we wait.
    gone = asyncio.Event()
    watcher = asyncio.create_task(_watch_disconnect(request, gone))
    try:
        # A stopping app ends the poll at once: it holds up the shutdown.
        while not gone.is_set() and not lifecycle.stopping():
            jobs = await run_in_threadpool(queue.claim, engine, settings, worker, limit)
            if jobs and gone.is_set():
                await run_in_threadpool(queue.unclaim, engine, worker, jobs)
                notifier.notify()
                break
            if jobs or time.monotonic() >= deadline:
                if any((job["execution"] or {}).get("target") for job in jobs):
                    await run_in_threadpool(_attach_servers, engine, settings, jobs)
                for job in jobs:
                    job["executionToken"] = execution_tokens.issue(
                        settings, job_id=job["id"], user_id=job["userId"], attempt=job["attempt"],
                        timeout_s=float((job["execution"] or {}).get("timeoutSeconds") or settings.job_max_timeout_s),
                    )
                return {"jobs": jobs}
            await notifier.wait(min(deadline - time.monotonic(), CROSS_PROCESS_RECHECK_S))
        return {"jobs": []}
    finally:
        watcher.cancel()


def _attach_servers(engine: Engine, settings: Settings, jobs: list[dict[str, Any]]) -> None:
    """Give the claiming worker what it needs to log in to a job's servers
    (decrypted here, sent over the orchestrator channel, never stored)."""
    with read_session(engine) as session:
        for job in jobs:
            target = (job["execution"] or {}).get("target")
            if target:
                job["servers"] = servers_service.resolve_targets(session, settings, job["userId"], target)


async def _watch_disconnect(request: Request, gone: asyncio.Event) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            gone.set()
            return


@router.post("/jobs/queue")
def acknowledge_job(body: AckBody, worker: WorkerId, engine: EngineDep, settings: SettingsDep) -> dict[str, Any]:
    return queue.acknowledge(engine, settings, worker, body.job_id)


@router.post("/jobs/{job_id}/status")
def job_status(job_id: str, body: StatusBody, worker: WorkerId, engine: EngineDep, settings: SettingsDep):
    return queue.mark_running(engine, settings, job_id, queue.WorkerRef(worker, body.attempt))


@router.post("/jobs/{job_id}/logs")
def job_logs(job_id: str, body: LogBatchBody, worker: WorkerId, engine: EngineDep, settings: SettingsDep):
    lines = [queue.LogLine(item.seq, item.stream, item.line, item.timestamp) for item in body.logs]
    return queue.append_logs(engine, settings, job_id, queue.WorkerRef(worker, body.attempt), lines)


@router.post("/jobs/{job_id}/complete")
def job_complete(job_id: str, body: CompleteBody, worker: WorkerId, engine: EngineDep, settings: SettingsDep):
    result = queue.complete(
        engine,
        settings,
        job_id,
        queue.WorkerRef(worker, body.attempt),
        status=body.status,
        exit_code=body.exit_code,
        output=body.output,
        error=body.error,
        metrics=body.metrics,
        servers=[item.model_dump(by_alias=True) for item in body.servers] if body.servers is not None else None,
    )
    _advance_workflow(engine, job_id)
    return result


def _advance_workflow(engine: Engine, job_id: str) -> None:
    """Start the next workflow steps at once (the reconciler would, later)."""
    try:
        if workflow_engine.advance_for_job(engine, job_id):
            notifier.notify()
    except Exception:  # the job's result is stored; the reconciler retries
        logger.exception("advancing the workflow of job %s failed", job_id)


@router.post("/heartbeat")
def heartbeat(body: HeartbeatBody, worker: WorkerId, engine: EngineDep, settings: SettingsDep) -> dict[str, Any]:
    named = body.worker_id if body.worker_id is not None else body.orchestrator_id
    if named is not None and named != worker:
        raise Invalid("workerId in the body must match the X-Worker-Id header")
    return queue.heartbeat(engine, settings, worker, [(job.id, job.attempt) for job in body.jobs])



@router.post("/jobs/{job_id}/release")
def job_release(job_id: str, body: ReleaseBody, worker: WorkerId, engine: EngineDep, settings: SettingsDep):
    result = queue.release(engine, settings, job_id, queue.WorkerRef(worker, body.attempt), body.reason)
    if result["status"] == "pending":
        notifier.notify()
    else:
        _advance_workflow(engine, job_id)
    return result


class HostKeyBody(_Body):
    job_id: str = Field(alias="jobId", min_length=1, max_length=40)
    attempt: int = Field(ge=1)
    host_key: str = Field(alias="hostKey", min_length=1, max_length=16 * 1024)


@router.post("/servers/{server_id}/host-key")
def pin_host_key(server_id: int, body: HostKeyBody, worker: WorkerId, engine: EngineDep) -> dict[str, Any]:
    """A worker saw a server's host key for the first time: pin it (first
    writer wins) and answer with the pinned key, for the worker to compare."""
    with write_session(engine) as session:
        user_id = queue.holder_user(session, body.job_id, queue.WorkerRef(worker, body.attempt))
        return {"hostKey": servers_service.pin_host_key(session, server_id, user_id, body.host_key)}


@router.post("/jobs/held")
def jobs_held(body: HeldBody, worker: WorkerId, engine: EngineDep) -> dict[str, Any]:
    return {"held": queue.still_held(engine, [(job.id, job.attempt) for job in body.jobs])}
