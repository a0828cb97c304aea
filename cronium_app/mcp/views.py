"""What the tools answer, shaped for an assistant: list rows are summaries
(no script, no request body, no environment), details never hold a secret
value (secret environment variables, secret variables, tool and server
credentials are named, never shown), and logs are cut to a size."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from cronium_app.auth.access import Access
from cronium_app.events.schemas import ENV_KEY_RE, MIN_CPUS, PRIORITY_RANGE
from cronium_app.jobs import service as jobs
from cronium_app.models import EventStatus, EventType, Network, ScheduleType
from cronium_app.servers import service as servers
from cronium_app.settings import Settings
from cronium_app.tools import service as tools
from cronium_app.variables import service as variables

# Rows per page of a list tool, and the most a caller may ask for.
DEFAULT_PAGE = 20
MAX_PAGE = 100
# A log tail: lines asked for, and characters kept (from the end).
DEFAULT_TAIL_LINES = 200
MAX_TAIL_LINES = 2000
DEFAULT_TAIL_CHARS = 8_000
MAX_TAIL_CHARS = 100_000
# What capabilities lists of the user's things, at most.
MAX_LISTED = 200

SCHEDULING_RULES = (
    "scheduleType manual (default): runs only when asked. cron: cronExpression of 5 fields (minute hour "
    "day-of-month month day-of-week), read in `timezone` (IANA name, default UTC). interval: every "
    "intervalSeconds. once: at runAt (ISO 8601, in the future). startAt delays the first run; maxExecutions "
    "stops after that many runs (0: no limit). misfirePolicy (skip | run_once | run_all) says what happens to "
    "runs missed while the server was down; overlapPolicy (allow | skip | queue) what happens when a run is due "
    "while the previous one still runs. Only an active event or workflow runs on its schedule."
)


def event_detail(event: dict[str, Any]) -> dict[str, Any]:
    """An event in full, but environment variables by name only: their
    values may be keys to something (job views hide them too), and an
    assistant fixes scripts, not credentials. update_event still sets them."""
    shown = {key: value for key, value in event.items() if key != "envVars"}
    shown["envVarNames"] = sorted(event["envVars"])
    return shown


def event_summary(event: dict[str, Any]) -> dict[str, Any]:
    """A row of list_events: what tells events apart, never a script."""
    keys = ("id", "name", "description", "type", "status", "source", "tags", "scheduleType", "cronExpression",
            "intervalSeconds", "nextFireAt", "updatedAt")
    row = {key: event[key] for key in keys}
    row["description"] = (row["description"] or "")[:200]
    return row


def workflow_summary(workflow: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "name", "description", "status", "scheduleType", "nextFireAt", "updatedAt")
    row = {key: workflow[key] for key in keys}
    row["description"] = (row["description"] or "")[:200]
    return row


def job_summary(job: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "eventId", "eventName", "workflowId", "workflowRunId", "status", "attempt", "createdAt",
            "startedAt", "completedAt", "durationMs", "exitCode", "error")
    return {key: job[key] for key in keys}


def job_detail(job: dict[str, Any]) -> dict[str, Any]:
    """A job without its frozen execution spec (the event holds the script)."""
    return {**job_summary(job), **{key: job[key] for key in ("type", "input", "output", "condition", "result",
                                                            "retryOf", "retryNumber", "cancelRequested")}}


def log_tail(session: Session, access: Access, job_id: str, *, lines: int, max_chars: int) -> dict[str, Any]:
    """The end of a job's log: at most `lines` lines and `max_chars`
    characters, cut at the front (the end is what explains a failure)."""
    tail = jobs.tail_logs(session, access, job_id, lines=lines)
    kept: list[dict[str, Any]] = []
    room = max_chars
    for line in reversed(tail["lines"]):
        text = line["line"]
        if room <= 0:
            break
        if len(text) > room:
            text = "…" + text[len(text) - room + 1:]
        kept.append({"seq": line["seq"], "stream": line["stream"], "line": text})
        room -= len(text)
    kept.reverse()
    return {"jobId": job_id, "status": tail["status"], "totalLines": tail["totalLines"],
            "truncated": len(kept) < tail["totalLines"] or any(k["line"].startswith("…") for k in kept),
            "lines": kept}


def capabilities(session: Session, settings: Settings, access: Access) -> dict[str, Any]:
    """What an assistant needs before it drafts anything, starting with
    where it acts and what its role there lets it do."""
    return {
        "workspace": {"id": access.workspace_id, "role": access.role, "canRun": access.can_run,
                      "canEdit": access.can_edit},
        "eventTypes": [t.value for t in EventType],
        "eventStatuses": [s.value for s in EventStatus],
        "networks": {"none": "no network (default)", "egress": "the public internet only"},
        "networkValues": [n.value for n in Network],
        "scheduleTypes": [s.value for s in ScheduleType],
        "schedulingRules": SCHEDULING_RULES,
        "defaults": {"timeoutSeconds": settings.job_default_timeout_s, "cpus": settings.job_default_cpus,
                     "memoryMb": settings.job_default_memory_mb, "pidsLimit": settings.job_default_pids,
                     "retries": 0, "network": Network.none.value, "status": EventStatus.active.value},
        "limits": {"timeoutSeconds": settings.job_max_timeout_s, "cpus": settings.job_max_cpus,
                   "minCpus": MIN_CPUS, "memoryMb": settings.job_max_memory_mb, "pidsLimit": settings.job_max_pids,
                   "retries": settings.job_max_retries, "scriptBytes": settings.script_max_bytes,
                   "logBytes": settings.job_log_max_bytes, "events": settings.max_events_per_user,
                   "waitingJobs": settings.max_waiting_jobs_per_user, "priority": PRIORITY_RANGE,
                   "envVarName": ENV_KEY_RE.pattern, "pageSize": MAX_PAGE, "logTailLines": MAX_TAIL_LINES,
                   "logTailChars": MAX_TAIL_CHARS},
        "scripts": {"bash": "runs with bash; helpers: cronium_input, cronium_output JSON, cronium_get_variable k, "
                            "cronium_set_variable k v, cronium_set_condition true|false",
                    "python": "python3; `import cronium`: input(), output(data), get_variable(k), "
                              "set_variable(k, v), set_condition(b)",
                    "node": "node; `await cronium.input()`, output(data), getVariable(k), setVariable(k, v), "
                            "setCondition(b)",
                    "exit": "exit code 0: completed; anything else: failed"},
        "servers": [{"id": s["id"], "name": s["name"], "host": s["host"], "tags": s["tags"]}
                    for s in servers.list_servers(session, access, q=None, tag=None, limit=MAX_LISTED,
                                                  offset=0).items],
        "tools": [{"id": t["id"], "name": t["name"], "kind": t["kind"], "action": t["action"]}
                  for t in tools.list_tools(session, access, q=None, limit=MAX_LISTED, offset=0).items],
        "variableKeys": variables.list_keys(session, access, limit=MAX_LISTED),
    }
