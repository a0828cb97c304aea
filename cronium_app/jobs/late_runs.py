"""Alerts on a clock: the conditional actions whose trigger is "late" (no
run of the event succeeded in `threshold_seconds`: a dead man's switch) or
"long_running" (a run still going after `threshold_seconds`). The app checks
them every CRONIUM_LATE_CHECK_INTERVAL seconds (lifecycle.py); what they send
is a message through the action's tool, as a failure alert is
(jobs/actions.queue_message), with the same default message.

Each fires once: a late alert once per late streak (until a run succeeds
again), a long-run alert once per run, and both at most once per the
action's alert window. Several app processes may check at once: the alert is
claimed by a conditional UPDATE and its job has an idempotency key, so two
checkers never send two messages. Only active events are watched."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from cronium_app.errors import CroniumError
from cronium_app.jobs.actions import action_key, job_summary, queue_message
from cronium_app.jobs.status import JobStatus
from cronium_app.jobs.wake import wake_workers_after_commit
from cronium_app.models import Event, EventAction, EventStatus, Job, JobAction
from cronium_app.settings import Settings
from cronium_app.timeutil import as_utc, isoformat
from cronium_app.tools.actions import TIMED_TRIGGERS

logger = logging.getLogger(__name__)


def check(session: Session, settings: Settings, now: datetime) -> int:
    """Queue the alerts that are due; returns how many."""
    actions = session.exec(
        select(EventAction).where(EventAction.trigger.in_(TIMED_TRIGGERS), EventAction.enabled.is_(True),
                                  EventAction.kind == "message", EventAction.threshold_seconds.is_not(None))
        .order_by(EventAction.id)
    ).all()
    queued = 0
    for action in actions:
        event = session.get(Event, action.event_id)
        if event is None or event.status != EventStatus.active.value:
            continue
        try:
            with session.begin_nested():
                queued += (_late if action.trigger == "late" else _long_running)(session, settings, action, event, now)
        except CroniumError as exc:  # e.g. its tool is gone: said in the log, the others still run
            logger.warning("%s alert of event %s not sent: %s", action.trigger, event.id, exc.message)
    if queued:
        wake_workers_after_commit(session)
    return queued


def _late(session: Session, settings: Settings, action: EventAction, event: Event, now: datetime) -> int:
    last_success = session.execute(
        sa.select(sa.func.max(Job.completed_at))
        .where(Job.event_id == event.id, Job.status == JobStatus.completed.value)
    ).scalar()
    # A new action counts from when it was made, not from the event's first run.
    since = max(as_utc(last_success), as_utc(action.created_at)) if last_success else as_utc(action.created_at)
    if since > now - timedelta(seconds=action.threshold_seconds):
        return 0
    if not _claim_alert(session, action, now, sa.or_(EventAction.last_alert_at.is_(None),
                                                     EventAction.last_alert_at < since)):
        return 0
    error = (f"no successful run since {isoformat(since)}" if last_success else "no successful run yet") + \
        f" ({_span(action.threshold_seconds)} allowed)"
    summary = {
        "event": {"id": event.id, "name": event.name},
        "job": {"id": None, "status": "late", "exitCode": None, "durationMs": None, "duration": "-",
                "error": error, "condition": None, "attempt": None, "retryNumber": None, "startedAt": None,
                "completedAt": None, "url": f"{settings.origin}/events/{event.id}", "logTail": [], "output": None},
        "trigger": "late", "recovered": False,
    }
    queue_message(session, settings, action, event, "late-run alert", summary,
                  f"late:{action.id}:{isoformat(since)}")
    return 1


def _long_running(session: Session, settings: Settings, action: EventAction, event: Event, now: datetime) -> int:
    cutoff = now - timedelta(seconds=action.threshold_seconds)
    handled = sa.select(JobAction.job_id).where(JobAction.action_id == action.id)
    runs = session.exec(
        select(Job).where(Job.event_id == event.id, Job.status == JobStatus.running.value,
                          Job.started_at.is_not(None), Job.started_at < cutoff, Job.id.not_in(handled))
        .order_by(Job.started_at)
    ).all()
    queued = 0
    for job in runs:
        window_start = now - timedelta(seconds=action.alert_window_seconds)
        if not _claim_alert(session, action, now, sa.or_(EventAction.last_alert_at.is_(None),
                                                         EventAction.last_alert_at <= window_start)):
            _record(session, action, job, now, "suppressed",
                    f"not sent: an alert went out in the last {action.alert_window_seconds} s")
            continue
        summary: dict[str, Any] = {**job_summary(session, settings, job, event), "trigger": "long_running",
                                   "recovered": False}
        running_for = int((now - as_utc(job.started_at)).total_seconds())
        summary["job"] = {**summary["job"], "status": "running", "duration": _span(running_for),
                          "error": f"still running after {_span(running_for)} ({_span(action.threshold_seconds)} allowed)"}
        message_job = queue_message(session, settings, action, event, "long-run alert", summary,
                                    action_key(job.id, action.id))
        _record(session, action, job, now, "queued", "", message_job)
        queued += 1
    return queued


def _claim_alert(session: Session, action: EventAction, now: datetime, condition) -> bool:
    """Take the right to send this alert (one checker wins)."""
    return bool(session.execute(
        sa.update(EventAction).where(EventAction.id == action.id, condition).values(last_alert_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount)


def _record(session: Session, action: EventAction, job: Job, now: datetime, outcome: str, message: str,
            result_job_id: str | None = None) -> None:
    session.add(JobAction(user_id=action.user_id, job_id=job.id, action_id=action.id, kind="message",
                          purpose="long_running", outcome=outcome, message=message, result_job_id=result_job_id,
                          depth=1, created_at=now))
    session.flush()


def _span(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds / 3600:.1f} h"
