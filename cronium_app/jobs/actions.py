"""Conditional actions fire when a job ends, in the transaction that
records the end (after its retry and its workflow run's next steps), each
job in a savepoint of its own: an action that cannot fire is logged and
recorded, and never changes the job's status or undoes its end.

What an action does is a new job, or a recorded reason why not
(`JobAction` rows, shown on the job's page):

- a message: a `tool` job through the action's tool, whose input is the
  ended job's summary (event, status, duration, exit code, error, the last
  log lines, a link to the job's page);
- running an event: a job of that event with the ended job's output as
  its input.

Alert hygiene, for a message on failure: at most one alert per
`alert_window_seconds`, and one "recovered" message on the first success
after failures that were alerted. The action's state (failing, alerted,
last_alert_at) changes by conditional UPDATEs, so two jobs ending at once
never send two alerts or two "recovered" messages.

A chain of actions (an event run by an action, whose own action runs
another...) stops at MAX_DEPTH, so a loop of events cannot run forever.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from cronium_app.auth.access import Access
from cronium_app.errors import CroniumError, NotFound
from cronium_app.jobs.create import insert_job
from cronium_app.jobs.status import TERMINAL, UNSUCCESSFUL, JobStatus
from cronium_app.models import Event, EventAction, EventStatus, ExecutionLog, Job, JobAction, Tool
from cronium_app.payloads import json_size
from cronium_app.settings import Settings
from cronium_app.timeutil import as_utc, isoformat
from cronium_app.tools import service as tools_service
from cronium_app.tools.actions import default_fields
from cronium_app.tools.schemas import ToolActionIn
from orchestrator_worker.tools.kinds import KIND_TABLE

logger = logging.getLogger(__name__)

MAX_DEPTH = 10
LOG_TAIL_LINES = 20
LOG_TAIL_LINE_CHARS = 500
OUTPUT_IN_SUMMARY_MAX_BYTES = 16 * 1024
MESSAGE_TIMEOUT_S = 60


def action_key(job_id: str, action_id: int) -> str:
    return f"action:{job_id}:{action_id}"


def queue_message(session: Session, settings: Settings, action: EventAction, event: Event, what: str,
                  summary: dict[str, Any], idempotency_key: str) -> str:
    """A `tool` job sending the action's message about `event` (its input
    is `summary`, what the templates see); one per idempotency key."""
    access = Access.on_behalf_of(event)
    tool = session.get(Tool, action.tool_id) if action.tool_id else None
    if not access.owns(tool):
        raise CroniumError("the action's tool no longer exists")
    spec_action = tools_service.check_action(
        session, access, ToolActionIn(toolId=tool.id, fields=action.templates or {}),
        defaults=default_fields(KIND_TABLE[tool.kind].action), where="action",
    )
    execution = {
        "type": "tool", "script": None, "http": None, "timeoutSeconds": MESSAGE_TIMEOUT_S,
        "resources": {"cpus": settings.job_default_cpus, "memoryMb": settings.job_default_memory_mb,
                      "pids": settings.job_default_pids},
        "network": "none", "env": {}, "image": None,
        "event": {"id": event.id, "name": f"{event.name}: {what} via {tool.name}"[:200]},
        "tool": spec_action,
    }
    created, _ = insert_job(session, user_id=action.user_id, workspace_id=event.workspace_id, event=None, input=summary,
                            idempotency_key=idempotency_key, execution=execution)
    return created.id


def after_end(session: Session, settings: Settings, job_ids: list[str], now: datetime) -> None:
    for job_id in job_ids:
        try:
            with session.begin_nested():
                _fire(session, settings, job_id, now)
        except Exception:
            logger.exception("conditional actions of job %s failed", job_id, extra={"job_id": job_id})


def _fire(session: Session, settings: Settings, job_id: str, now: datetime) -> None:
    job = session.get(Job, job_id)
    if job is None or job.event_id is None or job.status not in TERMINAL or job.status == JobStatus.cancelled.value:
        return
    actions = session.exec(
        select(EventAction).where(EventAction.event_id == job.event_id, EventAction.enabled.is_(True))
        .order_by(EventAction.id)
    ).all()
    if not actions:
        return
    event = session.get(Event, job.event_id)
    depth = session.execute(sa.select(JobAction.depth).where(JobAction.result_job_id == job.id)).scalar() or 0
    fired = _Firing(session, settings, job, event, depth + 1, now)
    for action in actions:
        purpose = fired.purpose(action)
        if purpose is not None:
            fired.run(action, purpose)


class _Firing:
    """The actions of one ended job."""

    def __init__(self, session: Session, settings: Settings, job: Job, event: Event, depth: int, now: datetime):
        self.session, self.settings, self.job, self.event, self.depth, self.now = session, settings, job, event, depth, now
        self.succeeded = job.status == JobStatus.completed.value
        self.failed = job.status in UNSUCCESSFUL
        self._summary: dict[str, Any] | None = None

    # -- which actions fire, and as what ------------------------------------------

    def purpose(self, action: EventAction) -> str | None:
        if action.trigger == "failure" and action.kind == "message":
            return self._alert_purpose(action)
        holds = {
            "success": self.succeeded,
            "failure": self.failed,
            "always": True,
            "condition": bool(self.job.condition) == action.condition_value,
        }.get(action.trigger, False)
        if not holds:
            return None
        return "message" if action.kind == "message" else "run_event"

    def _update(self, action: EventAction, *conditions, **values) -> bool:
        changed = self.session.execute(
            sa.update(EventAction).where(EventAction.id == action.id, *conditions).values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        return bool(changed)

    def _alert_purpose(self, action: EventAction) -> str | None:
        if self.succeeded:
            if self._update(action, EventAction.failing.is_(True), EventAction.alerted.is_(True),
                            failing=False, alerted=False):
                return "recovered"
            self._update(action, EventAction.failing.is_(True), failing=False)
            return None
        if not self.failed:
            return None
        # A new streak of failures has not been alerted yet.
        self._update(action, EventAction.failing.is_(False), failing=True, alerted=False)
        cutoff = self.now - timedelta(seconds=action.alert_window_seconds)
        if self._update(action, sa.or_(EventAction.last_alert_at.is_(None), EventAction.last_alert_at <= cutoff),
                        last_alert_at=self.now, alerted=True):
            return "alert"
        last = self.session.execute(sa.select(EventAction.last_alert_at).where(EventAction.id == action.id)).scalar()
        self._record(action, "alert", "suppressed",
                     f"not sent: an alert went out at {isoformat(last)}, and at most one is sent every "
                     f"{action.alert_window_seconds} s")
        return None

    # -- doing it ---------------------------------------------------------------------

    def run(self, action: EventAction, purpose: str) -> None:
        if self.depth > MAX_DEPTH:
            self._record(action, purpose, "refused",
                         f"not done: {MAX_DEPTH} actions in a row led here (a loop of events?)")
            return
        try:
            with self.session.begin_nested():
                job_id = self._message(action, purpose) if action.kind == "message" else self._run_event(action)
        except CroniumError as exc:
            self._record(action, purpose, "refused", f"not done: {exc.message}")
            return
        self._record(action, purpose, "queued", "", result_job_id=job_id)

    def _message(self, action: EventAction, purpose: str) -> str:
        what = {"alert": "failure alert", "recovered": "recovered message"}.get(purpose, "message")
        return queue_message(self.session, self.settings, action, self.event, what,
                             self.summary(action, purpose == "recovered"), action_key(self.job.id, action.id))

    def _run_event(self, action: EventAction) -> str:
        target = self.session.get(Event, action.target_event_id) if action.target_event_id else None
        if target is None or target.workspace_id != self.job.workspace_id:
            raise CroniumError("the event to run no longer exists")
        if target.status == EventStatus.archived.value:
            raise CroniumError(f"event {target.name!r} is archived")
        created, _ = insert_job(
            self.session, user_id=self.job.user_id, workspace_id=self.job.workspace_id, event=target, input=self.job.output,
            idempotency_key=action_key(self.job.id, action.id),
        )
        return created.id

    def _record(self, action: EventAction, purpose: str, outcome: str, message: str,
                result_job_id: str | None = None) -> None:
        self.session.add(JobAction(
            user_id=self.job.user_id, job_id=self.job.id, action_id=action.id, kind=action.kind, purpose=purpose,
            outcome=outcome, message=message[:2000], result_job_id=result_job_id, depth=self.depth, created_at=self.now,
        ))
        self.session.flush()

    # -- what a message says ------------------------------------------------------------

    def summary(self, action: EventAction, recovered: bool) -> dict[str, Any]:
        if self._summary is None:
            self._summary = job_summary(self.session, self.settings, self.job, self.event)
        return {**self._summary, "trigger": action.trigger, "recovered": recovered}


def _duration(ms: int | None) -> str:
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms} ms"
    seconds = ms / 1000
    return f"{seconds:.1f} s" if seconds < 120 else f"{int(seconds // 60)} min {int(seconds % 60)} s"


def job_summary(session: Session, settings: Settings, job: Job, event: Event) -> dict[str, Any]:
    """The ended job as a message's templates see it (`input.job`, `input.event`)."""
    rows = session.execute(
        sa.select(ExecutionLog.line).where(ExecutionLog.job_id == job.id)
        .order_by(ExecutionLog.seq.desc()).limit(LOG_TAIL_LINES)
    ).scalars().all()
    tail = [line[:LOG_TAIL_LINE_CHARS] for line in reversed(rows)]
    duration_ms = (job.result or {}).get("durationMs")
    if duration_ms is None and job.started_at and job.completed_at:
        duration_ms = int((as_utc(job.completed_at) - as_utc(job.started_at)).total_seconds() * 1000)
    output = job.output if job.output is not None and json_size(job.output) <= OUTPUT_IN_SUMMARY_MAX_BYTES else None
    return {
        "event": {"id": event.id, "name": event.name},
        "job": {
            "id": job.id, "status": job.status, "exitCode": job.exit_code, "durationMs": duration_ms,
            "duration": _duration(duration_ms), "error": job.error, "condition": job.condition,
            "attempt": job.attempt, "retryNumber": job.retry_number, "startedAt": isoformat(job.started_at),
            "completedAt": isoformat(job.completed_at), "url": f"{settings.origin}/jobs/{job.id}",
            "logTail": tail, "output": output,
        },
    }


# -- what the job page shows ---------------------------------------------------------------


def actions_of_job(session: Session, access: Access, job_id: str) -> dict[str, Any]:
    """The actions this job's end fired (each with its job's status), and,
    for a job an action created, which job's end it came from."""
    if not access.owns(session.get(Job, job_id)):
        raise NotFound(f"job {job_id} not found")
    rows = session.execute(
        sa.select(JobAction, Job.status, Job.error, Job.execution)
        .outerjoin(Job, Job.id == JobAction.result_job_id)
        .where(JobAction.job_id == job_id)
        .order_by(JobAction.id)
    ).all()
    items = []
    for record, status, error, execution in rows:
        items.append({
            "id": record.id, "actionId": record.action_id, "kind": record.kind, "purpose": record.purpose,
            "outcome": record.outcome, "message": record.message, "resultJobId": record.result_job_id,
            "resultStatus": status, "resultError": error,
            "resultName": ((execution or {}).get("event") or {}).get("name"), "createdAt": isoformat(record.created_at),
        })
    origin = session.execute(
        sa.select(JobAction.job_id, JobAction.purpose)
        .where(JobAction.result_job_id == job_id)
    ).first()
    return {"items": items, "origin": {"jobId": origin.job_id, "purpose": origin.purpose} if origin else None}
