"""The plain rows that states hold and pages render (never ORM objects),
and the functions that build them from service dicts."""

from __future__ import annotations

from typing import Any, TypedDict

from cronium_app import routes
from cronium_app.display.formatting import (
    fmt_bytes,
    fmt_datetime,
    fmt_duration,
    fmt_json,
    fmt_short,
    job_duration,
    local,
)


class JobRow(TypedDict):
    id: str
    href: str
    event_name: str
    event_href: str
    status: str
    created: str
    created_full: str
    duration: str
    worker: str


class EventRow(TypedDict):
    id: int
    href: str
    name: str
    description: str
    type: str
    status: str
    schedule: str
    tags: str
    updated: str


class LogLine(TypedDict):
    seq: int
    stream: str
    line: str
    time: str


class StatCard(TypedDict):
    key: str
    label: str
    value: str
    trend: str
    tone: str
    href: str


class HourPoint(TypedDict):
    hour: str
    completed: int
    failed: int
    partial: int
    other: int


class KeyValue(TypedDict):
    key: str
    value: str


class Option(TypedDict):
    value: str
    label: str


def worker_id(job: dict[str, Any]) -> str:
    """The worker that ran (or runs) the job. The job's dict names it
    `workerId`; `orchestratorId` is the earlier name of the same field."""
    return job.get("workerId") or job.get("orchestratorId") or "—"


def event_name(job: dict[str, Any]) -> str:
    event_id = job.get("eventId")
    return job.get("eventName") or (f"event {event_id}" if event_id else "deleted event")


def event_href(job: dict[str, Any]) -> str:
    """The job's event page ("" once the event is deleted)."""
    return routes.event_url(job["eventId"]) if job.get("eventId") else ""


def job_row(job: dict[str, Any], tz: str) -> JobRow:
    return {
        "id": job["id"],
        "href": routes.job_url(job["id"]),
        "event_name": event_name(job),
        "event_href": event_href(job),
        "status": job["status"],
        "created": fmt_short(job.get("createdAt"), tz),
        "created_full": fmt_datetime(job.get("createdAt"), tz),
        "duration": job_duration(job),
        "worker": worker_id(job),
    }


def schedule_summary(event: dict[str, Any]) -> str:
    kind = event.get("scheduleType") or "manual"
    if kind == "cron" and event.get("cronExpression"):
        return f"cron {event['cronExpression']}"
    if kind == "interval" and event.get("intervalSeconds"):
        return f"every {event['intervalSeconds']} s"
    if kind == "once" and event.get("runAt"):
        return "once"
    return kind


def event_row(event: dict[str, Any], tz: str) -> EventRow:
    return {
        "id": event["id"],
        "href": routes.event_url(event["id"]),
        "name": event["name"],
        "description": event.get("description") or "",
        "type": event["type"],
        "status": event["status"],
        "schedule": schedule_summary(event),
        "tags": ", ".join(event.get("tags") or []),
        "updated": fmt_short(event.get("updatedAt"), tz),
    }


class JobView(TypedDict):
    id: str
    status: str
    type: str
    event_name: str
    event_href: str
    workflow: str
    workflow_href: str
    workflow_run_href: str
    created: str
    acknowledged: str
    started: str
    completed: str
    duration: str
    exit_code: str
    worker: str
    attempt: str
    error: str
    input: str
    output: str
    peak_memory: str
    cpu_time: str
    cancel_requested: bool


def job_view(job: dict[str, Any], tz: str) -> JobView:
    result = job.get("result") or {}
    metrics = result.get("metrics") or {}
    workflow = ""
    if job.get("workflowId") or job.get("workflowRunId"):
        workflow = f"workflow {job.get('workflowId') or '—'}"
        if job.get("workflowRunId"):
            workflow += f", run {job['workflowRunId']}"
    cpu_ms = metrics.get("cpu_time_ms")
    return {
        "id": job["id"],
        "status": job["status"],
        "type": job.get("type") or "",
        "event_name": event_name(job),
        "event_href": event_href(job),
        "workflow": workflow,
        "workflow_href": routes.workflow_url(job["workflowId"]) if job.get("workflowId") else "",
        "workflow_run_href": routes.workflow_run_url(job["workflowRunId"]) if job.get("workflowRunId") else "",
        "created": fmt_datetime(job.get("createdAt"), tz),
        "acknowledged": fmt_datetime(job.get("acknowledgedAt"), tz),
        "started": fmt_datetime(job.get("startedAt"), tz),
        "completed": fmt_datetime(job.get("completedAt"), tz),
        "duration": job_duration(job),
        "exit_code": "—" if job.get("exitCode") is None else str(job["exitCode"]),
        "worker": worker_id(job),
        "attempt": str(job.get("attempt") or 0),
        "error": job.get("error") or "",
        "input": fmt_json(job.get("input")),
        "output": fmt_json(job.get("output")),
        "peak_memory": fmt_bytes(metrics.get("peak_memory_bytes")),
        "cpu_time": fmt_duration(cpu_ms) if cpu_ms is not None else "—",
        "cancel_requested": bool(job.get("cancelRequested")),
    }


class ServerRunRow(TypedDict):
    """One server's part of a job that ran on remote servers."""

    name: str
    status: str
    exit_code: str
    duration: str
    error: str


def server_runs(job: dict[str, Any]) -> list[ServerRunRow]:
    return [
        {
            "name": item.get("name") or "",
            "status": item.get("status") or "",
            "exit_code": "—" if item.get("exitCode") is None else str(item["exitCode"]),
            "duration": fmt_duration(item.get("durationMs")),
            "error": item.get("error") or "",
        }
        for item in (job.get("result") or {}).get("servers") or []
    ]


class ActionRow(TypedDict):
    """One conditional action a job's end fired, and how it went."""

    id: int
    what: str
    outcome: str  # queued | suppressed | refused
    message: str
    result_job_id: str
    result_status: str
    result_name: str
    result_error: str


ACTION_PURPOSES = {
    "alert": "Failure alert", "recovered": "Recovered message", "message": "Message", "run_event": "Run event",
}


def action_rows(items: list[dict[str, Any]]) -> list[ActionRow]:
    return [
        {
            "id": item["id"],
            "what": ACTION_PURPOSES.get(item.get("purpose") or "", item.get("purpose") or ""),
            "outcome": item.get("outcome") or "",
            "message": item.get("message") or "",
            "result_job_id": item.get("resultJobId") or "",
            "result_status": item.get("resultStatus") or "",
            "result_name": item.get("resultName") or "",
            "result_error": item.get("resultError") or "",
        }
        for item in items
    ]


def log_line(row: dict[str, Any], tz: str) -> LogLine:
    moment = local(row.get("timestamp"), tz)
    return {
        "seq": row["seq"],
        "stream": row["stream"],
        "line": row["line"],
        "time": moment.strftime("%H:%M:%S.%f")[:-3] if moment else "",
    }
