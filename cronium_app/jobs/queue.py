"""The worker's side of the job queue: claim, run, log, complete, release,
heartbeat, and the sweeper for lost leases.

Every write is one conditional UPDATE naming the job, the worker and the
attempt, so an illegal or stale transition changes nothing; when nothing
changed we look at the row only to say *why* (404 or 409). What follows a
job's end happens here too, in the same transaction: its retry
(`retry.retry_failed`), its workflow run's next steps
(`workflow_runs.advance_after_job`) and its event's conditional actions
(`actions.after_end`). A job put back in the queue wakes the
workers when the transaction commits.

Every function takes the caller's Session; the caller owns the transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

import sqlalchemy as sa
from sqlmodel import Session

from cronium_app import sealing, telemetry
from cronium_app.auth import execution_tokens
from cronium_app.auth.access import Access
from cronium_app.errors import Conflict, Invalid, NotFound
from cronium_app.jobs import actions, admission, log_store, workers, workflow_runs
from cronium_app.jobs.log_store import LogRun
from cronium_app.jobs.masking import masker_for_job
from cronium_app.jobs.retry import retry_failed
from cronium_app.jobs.status import FAILED_LIKE, HELD, PENDING, TERMINAL, WORKER_FINAL, JobStatus
from cronium_app.jobs.wake import wake_workers_after_commit
from cronium_app.models import ExecutionLog, Job
from cronium_app.payloads import check_io_size
from cronium_app.servers import service as servers_service
from cronium_app.settings import Settings
from cronium_app.timeutil import as_utc, isoformat, utcnow
from cronium_app.tools import service as tools_service
from orchestrator_worker.protocol import ClaimedJobBody, claimed_job_body

logger = logging.getLogger(__name__)

# A job going back to the queue forgets what its last attempt told the
# runtime API, so the next workflow step never sees a stale output.
FRESH_ATTEMPT = {"output": None, "condition": None}


@dataclass(frozen=True)
class WorkerRef:
    """Who is writing: a worker id and the attempt it holds."""

    worker_id: str
    attempt: int


def _held_by(job_id: str, ref: WorkerRef):
    return (
        Job.id == job_id,
        Job.worker_id == ref.worker_id,
        Job.attempt == ref.attempt,
        Job.status.in_(HELD),
    )


def holder_access(session: Session, job_id: str, ref: WorkerRef) -> Access:
    """What a job this worker holds may use: its workspace's servers
    (refused if the worker does not hold it)."""
    row = session.execute(sa.select(Job.user_id, Job.workspace_id).where(*_held_by(job_id, ref))).first()
    if row is None:
        raise _refusal(session, job_id, ref, "use servers for")
    return Access.on_behalf_of(row)


def _refusal(session: Session, job_id: str, ref: WorkerRef | None, action: str) -> Exception:
    row = session.execute(
        sa.select(Job.status, Job.worker_id, Job.attempt).where(Job.id == job_id)
    ).first()
    if row is None:
        return NotFound(f"job {job_id} not found")
    status, holder, attempt = row
    if status in TERMINAL:
        return Conflict(f"cannot {action}: job {job_id} is already {status}", status=status)
    if status == PENDING:
        return Conflict(f"cannot {action}: job {job_id} is pending and held by no worker", status=status)
    if ref is not None and holder != ref.worker_id:
        return Conflict(f"cannot {action}: job {job_id} is held by another worker", status=status)
    if ref is not None and attempt != ref.attempt:
        return Conflict(
            f"cannot {action}: attempt {ref.attempt} is stale; job {job_id} is on attempt {attempt}",
            status=status,
        )
    return Conflict(f"cannot {action}: job {job_id} is {status}", status=status)


def claim(session: Session, settings: Settings, worker_id: str, limit: int) -> list[ClaimedJobBody]:
    """Atomically move up to `limit` due pending jobs to `acknowledged` for
    this worker, with a fresh lease and the next attempt number. Each comes
    with what the worker needs to run it: its execution token and, for a
    job on remote servers, the servers with their credentials (decrypted
    here, sent over the orchestrator channel, never stored)."""
    now = utcnow()
    chosen = admission.admit(session, now, limit, settings.max_running_jobs_per_user)
    if not chosen:
        return []
    stmt = (
        sa.update(Job)
        .where(Job.id.in_(chosen), Job.status == PENDING)
        .values(
            status=JobStatus.acknowledged.value,
            worker_id=worker_id,
            attempt=Job.attempt + 1,
            acknowledged_at=now,
            lease_expires_at=now + timedelta(seconds=settings.lease_seconds),
            updated_at=now,
        )
        .returning(*Job.__table__.c)
        .execution_options(synchronize_session=False)
    )
    rows = [dict(row._mapping) for row in session.execute(stmt)]
    if not rows:
        return []
    for row in rows:
        due_at = max(as_utc(row["created_at"]), as_utc(row["scheduled_for"] or row["created_at"]))
        telemetry.after_commit(session, telemetry.job_claimed, row["type"], (now - due_at).total_seconds())
    rows.sort(key=lambda r: (-r["priority"], r["created_at"], r["id"]))
    last_seq = _last_log_seq(session, [row["id"] for row in rows if row["attempt"] > 1])
    claimed = []
    for row in rows:
        try:
            row["execution"] = _execution_for_worker(settings, row["execution"] or {})
        except sealing.Unreadable as exc:
            _fail_unrunnable(session, settings, row, WorkerRef(worker_id, row["attempt"]), exc.message)
            continue
        claimed.append(_claimed(session, settings, row, last_seq.get(row["id"], 0)))
    return claimed


def _execution_for_worker(settings: Settings, execution: dict[str, Any]) -> dict[str, Any]:
    """The job's spec as its worker gets it: secret environment variables
    opened and merged into `env` (sent over the orchestrator channel, never
    stored in the clear)."""
    secret = execution.get("secretEnv")
    if not secret:
        return execution
    opened = sealing.unseal(settings.secret_key, sealing.SECRET_ENV, secret["sealed"],
                            what="the event's secret environment variables")
    wire = {key: value for key, value in execution.items() if key != "secretEnv"}
    wire["env"] = {**(execution.get("env") or {}), **opened}
    return wire


def _fail_unrunnable(session: Session, settings: Settings, row: dict[str, Any], ref: WorkerRef, reason: str) -> None:
    """A claimed job that cannot be handed to a worker ends at once, failed,
    with the reason (running it without its secrets would be wrong)."""
    now = utcnow()
    session.execute(
        sa.update(Job).where(*_held_by(row["id"], ref))
        .values(status=JobStatus.failed.value, completed_at=now, lease_expires_at=None, updated_at=now, error=reason)
    )
    _after_end(session, settings, [], [row["id"]], now)


def _last_log_seq(session: Session, job_ids: list[str]) -> dict[str, int]:
    """The last stored log line of jobs on a second or later attempt."""
    if not job_ids:
        return {}
    return dict(
        session.execute(
            sa.select(ExecutionLog.job_id, sa.func.max(ExecutionLog.seq))
            .where(ExecutionLog.job_id.in_(job_ids))
            .group_by(ExecutionLog.job_id)
        ).all()
    )


def _claimed(session: Session, settings: Settings, row: dict[str, Any], last_seq: int) -> ClaimedJobBody:
    execution = row["execution"] or {}
    target = execution.get("target")
    # The job's servers and tool are its workspace's.
    workspace = Access.of_app(row["user_id"], row["workspace_id"])
    return claimed_job_body(
        id=row["id"],
        attempt=row["attempt"],
        type=row["type"],
        status=row["status"],
        user_id=row["user_id"],
        event_id=row["event_id"],
        workflow_id=row["workflow_id"],
        workflow_run_id=row["workflow_run_id"],
        execution=execution,
        input=row["input"],
        lease_expires_at=isoformat(row["lease_expires_at"]),
        created_at=isoformat(row["created_at"]),
        # A retried job keeps numbering its log after what earlier attempts stored.
        log_seq_start=last_seq + 1,
        execution_token=execution_tokens.issue(
            settings, job_id=row["id"], user_id=row["user_id"], attempt=row["attempt"],
            timeout_s=float(execution.get("timeoutSeconds") or settings.job_max_timeout_s),
        ),
        servers=servers_service.resolve_targets(session, settings, workspace, target) if target else None,
        tool=tools_service.login_for_claim(session, settings, workspace, execution.get("tool")),
    )


def _lease_until(settings: Settings, now: datetime) -> datetime:
    return now + timedelta(seconds=settings.lease_seconds)


def mark_running(
    session: Session, settings: Settings, job_id: str, ref: WorkerRef, run_ms: int | None = None
) -> dict[str, Any]:
    """The job runs; it started `run_ms` before now (the worker says so a
    moment late, see `complete`), or now."""
    now = utcnow()
    acknowledged_at = session.execute(sa.select(Job.acknowledged_at).where(Job.id == job_id)).scalar()
    row = session.execute(
        sa.update(Job)
        .where(*_held_by(job_id, ref))
        .values(
            status=JobStatus.running.value,
            started_at=sa.func.coalesce(Job.started_at, _started_by_run_time(acknowledged_at, now, run_ms) or now),
            lease_expires_at=_lease_until(settings, now),
            updated_at=now,
        )
        .returning(Job.status, Job.cancel_requested_at)
    ).first()
    if row is None:
        raise _refusal(session, job_id, ref, "mark running")
    return {"jobId": job_id, "status": row.status, "cancel": row.cancel_requested_at is not None}


def append_logs(
    session: Session, settings: Settings, job_id: str, ref: WorkerRef, runs: list[LogRun]
) -> dict[str, Any]:
    """Store a batch; lines already stored (same job and seq) are ignored, so
    a worker may safely resend a batch whose reply it never got."""
    log_store.validate(settings, runs)
    now = utcnow()
    held = session.execute(
        sa.update(Job)
        .where(*_held_by(job_id, ref))
        .values(lease_expires_at=_lease_until(settings, now))
        .returning(Job.id)
    ).first()
    if held is None:
        raise _refusal(session, job_id, ref, "append logs")
    inserted = log_store.store(session, settings, job_id, runs)
    max_seq = session.execute(
        sa.select(sa.func.max(ExecutionLog.seq)).where(ExecutionLog.job_id == job_id)
    ).scalar()
    return {"jobId": job_id, "stored": inserted, "maxSeq": max_seq or 0}


def complete(
    session: Session,
    settings: Settings,
    job_id: str,
    ref: WorkerRef,
    *,
    status: str,
    exit_code: int | None,
    output: Any,
    error: str | None,
    metrics: dict[str, Any] | None,
    servers: list[dict[str, Any]] | None = None,
    runs: list[LogRun] = (),
    run_ms: int | None = None,
) -> dict[str, Any]:
    """The job's end, with its last log lines (`runs`) in the same
    transaction. A job that never reported `running` started `run_ms`
    before now (not before it was claimed)."""
    if status not in WORKER_FINAL:
        raise Invalid(f"status must be one of {', '.join(WORKER_FINAL)}; got {status!r}")
    log_store.validate(settings, list(runs))
    check_io_size(output, settings, "output")
    if error is not None and len(error) > 10_000:
        error = error[:10_000] + "… (truncated)"
    mask = masker_for_job(session, settings, job_id)
    error, output = mask.text(error), mask.value(output)
    now = utcnow()
    current = session.execute(sa.select(Job.started_at, Job.acknowledged_at).where(Job.id == job_id)).first()
    started = current.started_at or _started_by_run_time(current.acknowledged_at, now, run_ms) if current else None
    seconds = (now - as_utc(started)).total_seconds() if started else None
    result = {
        "exitCode": exit_code,
        "durationMs": int(seconds * 1000) if seconds is not None else None,
        "metrics": metrics or {},
    }
    if servers is not None:
        result["servers"] = servers
    row = session.execute(
        sa.update(Job)
        .where(*_held_by(job_id, ref))
        .values(
            status=status,
            exit_code=exit_code,
            # A script's own cronium.output() is kept unless the worker reports one.
            output=output if output is not None else Job.output,
            error=error,
            result=result,
            started_at=sa.func.coalesce(Job.started_at, started),
            completed_at=now,
            lease_expires_at=None,
            updated_at=now,
        )
        .returning(Job.status, Job.type)
    ).first()
    if row is None:
        raise _refusal(session, job_id, ref, "complete")
    telemetry.after_commit(session, telemetry.job_ended, row.type, status, seconds)
    log_store.store(session, settings, job_id, list(runs))
    _after_end(session, settings, [job_id] if status in FAILED_LIKE else [], [job_id], now)
    logger.info("job completed", extra={"job_id": job_id, "status": status, "attempt": ref.attempt})
    return {"jobId": job_id, "status": status}


def _started_by_run_time(acknowledged_at: datetime | None, now: datetime, run_ms: int | None) -> datetime | None:
    """When a job the worker has had for `run_ms` started: that long before
    now, but not before its claim (None: unknown, so its claim)."""
    if acknowledged_at is None or run_ms is None:
        return acknowledged_at
    return max(as_utc(acknowledged_at), now - timedelta(milliseconds=run_ms))


def _after_end(session: Session, settings: Settings, failed: list[str], ended: list[str], now: datetime) -> None:
    """What follows jobs' end, in the transaction that records it: the
    failed ones' retries, the next steps of the workflow runs they belong
    to, their events' conditional actions (none of which changes the ended
    jobs' status); and a wake-up for waiting claimers when an ended job
    frees a slot that a job over a concurrency limit may be waiting for."""
    if failed:
        retry_failed(session, settings, failed, now)
    for job_id in ended:
        workflow_runs.advance_after_job(session, job_id)
    actions.after_end(session, settings, ended, now)
    if ended and admission.frees_a_limited_slot(session, settings.max_running_jobs_per_user, ended):
        wake_workers_after_commit(session)


def heartbeat(
    session: Session, settings: Settings, worker_id: str, jobs: Iterable[tuple[str, int]],
    info: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Renew the leases of the jobs this worker still holds; tell it which of
    them to cancel and which it has lost (another attempt owns them now).
    The worker is alive, and `info` (protocol.WorkerInfo) is what it says
    about itself: both go to the worker registry (workers.py)."""
    jobs = list(jobs)
    now = utcnow()
    workers.record(session, worker_id, info, now)
    lease = _lease_until(settings, now)
    if not jobs:
        return {"cancel": [], "lost": [], "leaseExpiresAt": isoformat(lease)}
    held = sa.or_(*[sa.and_(Job.id == job_id, Job.attempt == attempt) for job_id, attempt in jobs])
    renewed = session.execute(
        sa.update(Job)
        .where(held, Job.worker_id == worker_id, Job.status.in_(HELD))
        .values(lease_expires_at=lease)
        .returning(Job.id, Job.cancel_requested_at)
    ).all()
    renewed_ids = {row.id for row in renewed}
    cancel = [row.id for row in renewed if row.cancel_requested_at is not None]
    lost = [job_id for job_id, _ in jobs if job_id not in renewed_ids]
    return {"cancel": cancel, "lost": lost, "leaseExpiresAt": isoformat(lease)}


def sweep_expired_leases(session: Session, settings: Settings, now: datetime | None = None) -> dict[str, int]:
    """Jobs whose worker stopped heartbeating: back to pending for another
    attempt, or failed for good after `max_attempts`, or cancelled if the
    user had asked for that. No job stays held forever."""
    now = now or utcnow()
    expired = (Job.status.in_(HELD), Job.lease_expires_at < now)
    released = dict(lease_expires_at=None, updated_at=now)
    cancelled_ids = session.execute(
        sa.update(Job)
        .where(*expired, Job.cancel_requested_at.is_not(None))
        .values(status=JobStatus.cancelled.value, completed_at=now,
                error="cancelled by user (the worker stopped responding)", **released)
        .returning(Job.id)
    ).scalars().all()
    failed_ids = session.execute(
        sa.update(Job)
        .where(*expired, Job.attempt >= settings.max_attempts)
        .values(
            status=JobStatus.failed.value,
            completed_at=now,
            error=(
                f"worker lost: the job's lease expired on each of its {settings.max_attempts} attempts "
                "(the worker running it stopped heartbeating)"
            ),
            **released,
        )
        .returning(Job.id)
    ).scalars().all()
    requeued = session.execute(
        sa.update(Job)
        .where(*expired)
        .values(
            status=PENDING,
            worker_id=None,
            acknowledged_at=None,
            started_at=None,
            **FRESH_ATTEMPT,
            error="previous attempt lost: its worker stopped heartbeating; queued again",
            **released,
        )
    ).rowcount
    if requeued:
        wake_workers_after_commit(session)
    _after_end(session, settings, list(failed_ids), [*cancelled_ids, *failed_ids], now)
    counts = {"requeued": requeued, "failed": len(failed_ids), "cancelled": len(cancelled_ids)}
    if any(counts.values()):
        logger.warning("swept expired leases", extra=counts)
    return counts


def release(session: Session, settings: Settings, job_id: str, ref: WorkerRef, reason: str) -> dict[str, Any]:
    """A worker gives a job back (it is shutting down): the job returns to
    pending at once for another attempt, instead of waiting for its lease
    to expire. After the last attempt it fails, as a lost lease would."""
    now = utcnow()
    reason = reason[:500]
    row = session.execute(
        sa.update(Job)
        .where(*_held_by(job_id, ref), Job.attempt < settings.max_attempts, Job.cancel_requested_at.is_(None))
        .values(
            status=PENDING, worker_id=None, acknowledged_at=None, started_at=None,
            lease_expires_at=None, updated_at=now, error=f"attempt {ref.attempt} released: {reason}",
            **FRESH_ATTEMPT,
        )
        .returning(Job.status)
    ).first()
    if row is not None:
        wake_workers_after_commit(session)
        return {"jobId": job_id, "status": row.status}
    # Cancel requested, or no attempts left: end it instead of requeueing.
    final = JobStatus.cancelled.value if _cancel_requested(session, job_id) else JobStatus.failed.value
    row = session.execute(
        sa.update(Job)
        .where(*_held_by(job_id, ref))
        .values(status=final, completed_at=now, lease_expires_at=None, updated_at=now,
                error=f"attempt {ref.attempt} released: {reason}")
        .returning(Job.status)
    ).first()
    if row is None:
        raise _refusal(session, job_id, ref, "release")
    _after_end(session, settings, [job_id] if row.status in FAILED_LIKE else [], [job_id], now)
    return {"jobId": job_id, "status": row.status}


def _cancel_requested(session: Session, job_id: str) -> bool:
    return session.execute(sa.select(Job.cancel_requested_at).where(Job.id == job_id)).scalar() is not None


def still_held(session: Session, jobs: Iterable[tuple[str, int]]) -> list[str]:
    """Of these (job, attempt) pairs, the ones some worker still holds. A
    worker uses it to find containers left behind by a dead worker.

    A job this app has never heard of counts as held: its container belongs
    to another installation sharing the Docker Engine, whose workers are
    alive for all we know, so it is not ours to remove."""
    jobs = list(jobs)
    if not jobs:
        return []
    rows = session.execute(
        sa.select(Job.id, Job.attempt, Job.status).where(Job.id.in_({job_id for job_id, _ in jobs}))
    ).all()
    known = {row.id: row for row in rows}
    return [
        job_id
        for job_id, attempt in jobs
        if job_id not in known or (known[job_id].attempt == attempt and known[job_id].status in HELD)
    ]


def unclaim(session: Session, worker_id: str, jobs: list[dict[str, Any]]) -> int:
    """Undo a claim whose reply never reached the worker (it hung up while
    long-polling): the jobs go back to pending as if never claimed, rather
    than waiting out a lease that nobody holds."""
    now = utcnow()
    undone = 0
    for job in jobs:
        undone += session.execute(
            sa.update(Job)
            .where(*_held_by(job["id"], WorkerRef(worker_id, job["attempt"])), Job.started_at.is_(None))
            .values(status=PENDING, worker_id=None, attempt=Job.attempt - 1, acknowledged_at=None,
                    lease_expires_at=None, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    if undone:
        wake_workers_after_commit(session)
    return undone


def pin_server_host_key(session: Session, job_id: str, ref: WorkerRef, server_id: int, host_key: str) -> str:
    """A worker running this job saw a server's host key for the first time:
    pin it (first writer wins) and return the pinned key. Only a worker
    holding a job of the server's workspace may."""
    return servers_service.pin_host_key(session, server_id, holder_access(session, job_id, ref), host_key)
