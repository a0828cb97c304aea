"""Job rows as plain dicts for the API and the UI (never live ORM objects)."""

from __future__ import annotations

from typing import Any, Mapping

from cronium_app.timeutil import as_utc, isoformat


def _duration_ms(row: Mapping[str, Any]) -> int | None:
    start = row.get("started_at") or row.get("acknowledged_at")
    end = row.get("completed_at")
    if start is None or end is None:
        return None
    return max(0, int((as_utc(end) - as_utc(start)).total_seconds() * 1000))


def job_to_dict(row: Mapping[str, Any], *, include_execution: bool = True) -> dict[str, Any]:
    execution = row.get("execution") or {}
    body: dict[str, Any] = {
        "id": row["id"],
        "eventId": row.get("event_id"),
        "eventName": (execution.get("event") or {}).get("name"),
        "workflowId": row.get("workflow_id"),
        "workflowRunId": row.get("workflow_run_id"),
        "type": row["type"],
        "status": row["status"],
        "attempt": row.get("attempt", 0),
        # Retries are new jobs: which failed job this one re-runs, and its number (0: not a retry).
        "retryOf": row.get("retry_of"),
        "retryNumber": row.get("retry_number") or 0,
        "priority": row.get("priority", 0),
        "workerId": row.get("worker_id"),
        # The previous release's name for workerId, for clients that read it.
        "orchestratorId": row.get("worker_id"),
        "createdAt": isoformat(row.get("created_at")),
        "acknowledgedAt": isoformat(row.get("acknowledged_at")),
        "startedAt": isoformat(row.get("started_at")),
        "completedAt": isoformat(row.get("completed_at")),
        "updatedAt": isoformat(row.get("updated_at")),
        "scheduledFor": isoformat(row.get("scheduled_for")),
        "cancelRequested": row.get("cancel_requested_at") is not None,
        "durationMs": _duration_ms(row),
        "exitCode": row.get("exit_code"),
        "error": row.get("error"),
        "input": row.get("input"),
        "output": row.get("output"),
        "condition": row.get("condition"),
        "result": row.get("result"),
    }
    if include_execution:
        body["execution"] = redact_execution(execution)
    return body


def redact_execution(execution: Mapping[str, Any]) -> dict[str, Any]:
    """Env values may be secrets: the API shows their names only (secret
    ones included; their sealed values not at all)."""
    shown = dict(execution)
    secret = shown.pop("secretEnv", None) or {}
    names = [*(shown.get("env") or {}), *secret.get("names", [])]
    if names:
        shown["env"] = {key: "***" for key in names}
    return shown


def log_to_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "seq": row["seq"],
        "stream": row["stream"],
        "line": row["line"],
        "timestamp": isoformat(row["timestamp"]),
    }
