"""The shapes of the public API's replies, for the OpenAPI document and the
clients generated from it.

The services build replies as plain dicts with camelCase keys; these models
say what those dicts hold. A route declares one as its `response_model`, so
FastAPI checks every reply against it before it leaves: a key a service
adds without a field here is a 500 in the tests (`extra="forbid"`), never a
field that silently disappears or an undocumented one.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.alias_generators import to_camel

from cronium_app.jobs.status import JobStatus
from cronium_app.models import EventStatus, EventType, Network, ScheduleType

# Services write timestamps as ISO 8601 text in UTC with a `Z`
# (`timeutil.isoformat`); the reply passes them on as they are.
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
JSON_VALUE = "Any JSON value"


class Reply(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


T = TypeVar("T")


class OffsetPage(Reply, Generic[T]):
    """One page of a list; ask for the next with `offset` + `limit`."""

    items: list[T]
    limit: int
    total: int = Field(description="How many items match, over every page")
    offset: int
    next_cursor: None = Field(description="Always null: these lists page by offset")


class CursorPage(Reply, Generic[T]):
    """One page of a list, newest first; pass `nextCursor` back as `cursor` for the next."""

    items: list[T]
    limit: int
    total: int = Field(description="How many items match, over every page")
    next_cursor: str | None = Field(description="The cursor of the next page; null on the last")


class ItemsPage(Reply, Generic[T]):
    items: list[T]
    limit: int
    offset: int


# -- accounts and tokens -----------------------------------------------------------

WorkspaceRoleName = Literal["owner", "editor", "runner", "viewer"]


class Workspace(Reply):
    id: int
    name: str
    slug: str
    personal: bool = Field(description="A user's own workspace: one member, never deleted")
    role: WorkspaceRoleName = Field(description="Your role in it (for a token: the token's effective role)")
    created_at: Timestamp


class WorkspaceList(Reply):
    items: list[Workspace]


class Member(Reply):
    user_id: int
    email: str
    role: WorkspaceRoleName
    added_at: Timestamp


class MemberList(Reply):
    items: list[Member]


class MemberRoleChanged(Reply):
    user_id: int
    role: WorkspaceRoleName



class User(Reply):
    id: int
    email: str
    role: Literal["admin", "user"]
    created_at: Timestamp


class Token(Reply):
    """An API token as it is listed: never the token itself."""

    id: int
    name: str
    prefix: str = Field(description="The token's first characters, to tell tokens apart")
    created_at: Timestamp
    last_used_at: Timestamp | None = Field(description="Updated at most once a minute")
    expires_at: Timestamp | None = Field(description="null: never expires")
    workspace_id: int = Field(description="The workspace the token acts in")
    role: WorkspaceRoleName = Field(description="The most it may do there (the creator's current role caps it)")
    scopes: list[Literal["mcp"]] | None = Field(description="null: full access; [\"mcp\"]: only the MCP endpoint, /api/mcp")


class NewToken(Token):
    token: str = Field(description="The token itself: shown in this reply only")


class SignedIn(Reply):
    user: User
    token: str = Field(description="A new API token (shown in this reply only); send it as `Authorization: Bearer <token>`")
    token_info: Token

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "user": {"id": 1, "email": "me@example.com", "role": "admin", "createdAt": "2026-01-05T09:00:00Z"},
        "token": "crn_6Jw0sX...",
        "tokenInfo": {"id": 1, "name": "api", "prefix": "crn_6Jw0sX", "createdAt": "2026-01-05T09:00:00Z",
                      "lastUsedAt": None, "expiresAt": "2026-02-04T09:00:00Z"},
    }]})


class UserReply(Reply):
    user: User


class AdminUser(User):
    status: Literal["active", "disabled"]
    disabled_at: Timestamp | None
    last_sign_in_at: Timestamp | None
    # How the account signs in: "password", "sso" (single sign-on), or both.
    sign_in: list[Literal["password", "sso"]]


class AdminUserReply(Reply):
    user: AdminUser


class Invitation(Reply):
    id: int
    email: str
    role: str
    status: Literal["pending", "used", "revoked", "expired"]
    created_at: Timestamp
    expires_at: Timestamp
    used_at: Timestamp | None


class NewInvitation(Reply):
    invitation: Invitation
    url: str = Field(description="The invitation link (shown in this reply only): whoever opens it can create the account")
    emailed: bool = Field(description="Whether the link was also sent by email")
    email_error: str | None = Field(description="Why the email was not sent, when it was asked for and failed")


class NewReset(Reply):
    user_id: int
    email: str
    expires_at: Timestamp
    url: str = Field(description="The reset link (shown in this reply only): whoever opens it can set the password")


class ListedToken(Token):
    workspace_name: str = Field(description="The name of the workspace the token acts in")


class TokenList(Reply):
    items: list[ListedToken]


# -- events ------------------------------------------------------------------------


class HttpRequest(Reply):
    method: str
    url: str
    headers: dict[str, str]
    body: str | None


class ToolAction(Reply):
    """A tool event's action: the tool, the templates of its fields and the
    variables they read."""

    tool_id: int
    action: str
    fields: dict[str, str]
    variables: list[str] = []


class Schedule(Reply):
    """The schedule fields of an event or a workflow."""

    schedule_type: ScheduleType
    cron_expression: str | None
    interval_seconds: int | None
    run_at: Timestamp | None = Field(description="For `once`: the date it runs")
    timezone: str = Field(description="IANA time zone the schedule is read in")
    start_at: Timestamp | None
    max_executions: int = Field(description="0: no limit; the schedule pauses when it is reached")
    execution_count: int
    misfire_policy: Literal["skip", "run_once", "run_all"]
    overlap_policy: Literal["allow", "skip", "queue"]
    next_fire_at: Timestamp | None = Field(description="null: nothing will fire (manual, paused, or done)")
    queued_fire_at: Timestamp | None = Field(description="A run waiting for the previous one (overlap `queue`)")
    paused_reason: str | None


EVENT_EXAMPLE = {
    "id": 7, "name": "nightly report", "description": "Mail the numbers", "type": "python",
    "script": "import cronium\nprint('hello', cronium.input())", "httpRequest": None, "toolAction": None, "status": "active", "source": None,
    "timeoutSeconds": 300, "retries": 1, "cpus": 1.0, "memoryMb": 256, "pidsLimit": 128, "maxConcurrent": 1,
    "priority": 0, "retentionDays": None, "retentionRuns": 100, "network": "none", "envVars": {"REGION": "eu"}, "secretEnvVarNames": ["SMTP_PASSWORD"], "image": None, "tags": ["reports"],
    "serverIds": [], "serverTags": [], "remoteDocker": False, "scheduleType": "cron",
    "cronExpression": "0 2 * * *", "intervalSeconds": None, "runAt": None, "timezone": "Europe/Paris",
    "startAt": None, "maxExecutions": 0, "executionCount": 12, "misfirePolicy": "run_once",
    "overlapPolicy": "skip", "nextFireAt": "2026-01-06T01:00:00Z", "queuedFireAt": None, "pausedReason": None,
    "createdAt": "2026-01-05T09:00:00Z", "updatedAt": "2026-01-05T09:00:00Z",
}


class Event(Schedule):
    """An event: what runs (script or HTTP request), where and with what
    limits, and its schedule. Secret environment variables are listed by
    name only."""

    model_config = ConfigDict(json_schema_extra={"examples": [EVENT_EXAMPLE]})

    id: int
    name: str
    description: str
    type: EventType
    script: str
    http_request: HttpRequest | None
    tool_action: ToolAction | None = Field(description="A tool event's tool and templates; null for other types")
    status: EventStatus
    source: Literal["mcp"] | None = Field(description="What created it: mcp (an assistant through the MCP server); null: the API, the UI or a document")
    timeout_seconds: int
    retries: int
    cpus: float
    memory_mb: int
    pids_limit: int
    max_concurrent: int = Field(description="Jobs of this event held by workers at once; 0: no limit")
    priority: int = Field(description="The priority its runs get (higher first)")
    retention_days: int | None = Field(description="Days its finished runs are kept; null: the instance default")
    retention_runs: int | None = Field(description="How many of its latest runs are kept; null: no limit by count")
    network: Network
    env_vars: dict[str, str]
    secret_env_var_names: list[str] = Field(description="Names of the secret environment variables (values are write-only)")
    image: str | None
    tags: list[str]
    server_ids: list[int]
    server_tags: list[str]
    remote_docker: bool
    created_at: Timestamp
    updated_at: Timestamp


class EventPage(OffsetPage[Event]):
    pass


class RunQueued(Reply):
    """A job was queued (202), or an earlier request with the same Idempotency-Key had queued it (200)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"jobId": "01JH2Q8M4X5T9V0C3K7N6P1R2S", "status": "queued"}]})

    job_id: str
    status: Literal["queued"]


# -- jobs --------------------------------------------------------------------------


class JobResources(Reply):
    model_config = ConfigDict(extra="allow")

    cpus: float | None = None
    memory_mb: int | None = None
    pids: int | None = None


class JobExecution(Reply):
    """What the job runs, frozen when it was queued (editing the event
    later does not change it). Environment values are shown as `***`."""

    model_config = ConfigDict(extra="allow")

    type: str | None = None
    script: str | None = None
    http: dict[str, Any] | None = None
    timeout_seconds: int | None = None
    resources: JobResources | None = None
    network: str | None = None
    env: dict[str, str] | None = None
    image: str | None = None
    event: dict[str, Any] | None = Field(default=None, description="The event's id and name when it was queued")
    target: dict[str, Any] | None = Field(default=None, description="The servers it runs on, if any")


class JobSummary(Reply):
    """A job as lists show it."""

    id: str
    event_id: int | None
    event_name: str | None
    workflow_id: int | None
    workflow_run_id: str | None
    type: str
    status: JobStatus
    attempt: int = Field(description="How many times a worker has claimed it")
    retry_of: str | None = Field(description="The failed job this one re-runs")
    retry_number: int = Field(description="0: not a retry")
    priority: int
    worker_id: str | None = Field(description="The worker that ran (or runs) it")
    orchestrator_id: str | None = Field(description="The previous release's name for workerId", deprecated=True)
    created_at: Timestamp
    acknowledged_at: Timestamp | None
    started_at: Timestamp | None
    completed_at: Timestamp | None
    updated_at: Timestamp | None
    scheduled_for: Timestamp | None
    cancel_requested: bool
    duration_ms: int | None
    exit_code: int | None = Field(description="The script's exit code, once it has ended")
    error: str | None
    input: Any = Field(description=f"{JSON_VALUE}: the input the run was given")
    output: Any = Field(description=f"{JSON_VALUE}: what the script passed to `output`")
    condition: bool | None = Field(description="What the script passed to `set_condition`")
    result: Any = Field(description=f"{JSON_VALUE}: the worker's result (per server for remote runs)")


class Job(JobSummary):
    """A job with what it runs."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "01JH2Q8M4X5T9V0C3K7N6P1R2S", "eventId": 7, "eventName": "nightly report", "workflowId": None,
        "workflowRunId": None, "type": "python", "status": "completed", "attempt": 1, "retryOf": None,
        "retryNumber": 0, "priority": 0, "workerId": "host-1", "orchestratorId": "host-1",
        "createdAt": "2026-01-06T01:00:00Z", "acknowledgedAt": "2026-01-06T01:00:00.2Z",
        "startedAt": "2026-01-06T01:00:00.5Z", "completedAt": "2026-01-06T01:00:02Z",
        "updatedAt": "2026-01-06T01:00:02Z", "scheduledFor": "2026-01-06T01:00:00Z", "cancelRequested": False,
        "durationMs": 1500, "exitCode": 0, "error": None, "input": {"day": "monday"}, "output": {"sent": 3},
        "condition": None, "result": None,
        "execution": {"type": "python", "script": "print('hi')", "http": None, "timeoutSeconds": 300,
                      "resources": {"cpus": 1.0, "memoryMb": 256, "pids": 128}, "network": "none",
                      "env": {"REGION": "***"}, "image": None, "event": {"id": 7, "name": "nightly report"}},
    }]})

    execution: JobExecution


class JobPage(CursorPage[JobSummary]):
    pass


class LogLine(Reply):
    seq: int = Field(description="The line's number in the job's log, from 1")
    stream: str = Field(description="stdout, stderr or system")
    line: str
    timestamp: Timestamp = Field(description="When the worker read the line")


class JobLogs(Reply):
    """Lines after `after_seq`. Ask again with `after_seq=lastSeq` until
    `complete` (the job has ended and every line was sent)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "jobId": "01JH2Q8M4X5T9V0C3K7N6P1R2S", "status": "running",
        "lines": [{"seq": 1, "stream": "stdout", "line": "hello", "timestamp": "2026-01-06T01:00:00.6Z"}],
        "lastSeq": 1, "complete": False,
    }]})

    job_id: str
    status: JobStatus
    lines: list[LogLine]
    last_seq: int
    complete: bool


class JobCounts(Reply):
    pending: int
    running: int
    completed_today: int
    failed_today: int
    partial_today: int


class JobStats(JobCounts):
    """Counts for a dashboard; each trend is the percent change against the
    same moment yesterday (null when yesterday's count was 0)."""

    pending_trend: float | None
    running_trend: float | None
    completed_trend: float | None
    failed_trend: float | None
    partial_trend: float | None
    previous: JobCounts


# -- variables ---------------------------------------------------------------------


class Variable(Reply):
    key: str
    value: Any = Field(description=f"{JSON_VALUE}; always null for a secret variable (write-only)")
    secret: bool
    created_at: Timestamp
    updated_at: Timestamp


class VariablePage(ItemsPage[Variable]):
    pass


# -- workflows ---------------------------------------------------------------------


class Step(Reply):
    id: int
    name: str
    event_id: int
    position: dict[str, float] | None


class Edge(Reply):
    from_: str = Field(alias="from", description="The parent step's name")
    to: str = Field(description="The child step's name")
    condition: Literal["always", "on_success", "on_failure", "on_condition"]
    value: bool = Field(description="For on_condition: the parent's condition value this edge follows")


class WorkflowSummary(Reply):
    id: int
    name: str
    description: str
    status: str
    schedule_type: ScheduleType
    next_fire_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class Workflow(Schedule):
    """A workflow: named steps (each runs an event) joined by edges."""

    id: int
    name: str
    description: str
    status: Literal["active", "paused", "archived"]
    source: Literal["mcp"] | None = Field(description="What created it: mcp (an assistant through the MCP server); null: the API, the UI or a document")
    tags: list[str]
    steps: list[Step]
    edges: list[Edge]
    created_at: Timestamp
    updated_at: Timestamp


class WorkflowPage(OffsetPage[WorkflowSummary]):
    pass


RunStatus = Literal["running", "completed", "failed", "cancelled"]


class RunStarted(Reply):
    run_id: str
    status: RunStatus


class RunSummary(Reply):
    id: str
    status: RunStatus
    created_at: Timestamp
    completed_at: Timestamp | None


class RunPage(ItemsPage[RunSummary]):
    pass


class RunStep(Reply):
    step_id: int
    name: str
    event_id: int
    status: str | None = Field(description="A job status, or waiting, ready or skipped")
    job_id: str | None
    output: Any = Field(description=JSON_VALUE)


class Run(Reply):
    id: str
    workflow_id: int | None
    status: RunStatus
    input: Any = Field(description=JSON_VALUE)
    created_at: Timestamp
    completed_at: Timestamp | None
    steps: list[RunStep]


# -- schedules ---------------------------------------------------------------------


class SchedulePreview(Reply):
    schedule_type: ScheduleType
    timezone: str
    fire_times: list[str] = Field(description="In the schedule's time zone (ISO 8601 with its offset)")
    fire_times_utc: list[Timestamp]


class SavedSchedulePreview(SchedulePreview):
    status: str
    next_fire_at: Timestamp | None
    firing: bool = Field(description="Whether it fires now (false: paused, draft, manual, or done)")


# -- servers -----------------------------------------------------------------------


class Server(Reply):
    """An SSH server. Its credentials are write-only: `hasCredentials` says they are set."""

    id: int
    name: str
    host: str
    port: int
    username: str
    auth_type: Literal["key", "password"]
    has_credentials: bool
    host_key: str | None = Field(description="The pinned host key (OpenSSH form)")
    host_key_fingerprint: str | None
    tags: list[str]
    last_checked_at: Timestamp | None
    last_check_ok: bool | None
    last_check_message: str | None
    created_at: Timestamp
    updated_at: Timestamp


class ServerPage(OffsetPage[Server]):
    pass


class ServerCheck(Reply):
    ok: bool
    message: str
    server: Server


# -- as code -----------------------------------------------------------------------


class Exported(Reply):
    """The document (YAML, version 1) and how many items of each kind it holds."""

    version: Literal[1]
    yaml: str
    counts: dict[str, int]
    warnings: list[str]


class PlannedChange(Reply):
    kind: Literal["variable", "event", "workflow"]
    name: str
    action: Literal["create", "update", "unchanged", "delete"]
    fields: list[str] = Field(description="For an update: the fields that change")
    file: str | None = Field(description="The file that states it (null for a delete)")
    line: int | None


class Plan(Reply):
    """What applying the document would do, item by item."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "changes": [
            {"kind": "event", "name": "nightly report", "action": "update", "fields": ["script"],
             "file": "cronium.yaml", "line": 9},
            {"kind": "workflow", "name": "nightly", "action": "unchanged", "fields": [],
             "file": "cronium.yaml", "line": 30},
        ],
        "warnings": [], "summary": {"create": 0, "update": 1, "unchanged": 1, "delete": 0},
        "prune": False, "fingerprint": "9f2c51d0a4be7731",
    }]})

    changes: list[PlannedChange]
    warnings: list[str] = Field(description="Secret references this server has no value for, and the like")
    summary: dict[str, int] = Field(description="How many changes of each action")
    prune: bool
    fingerprint: str = Field(description="Pass it to apply to apply exactly this plan")


class Applied(Reply):
    plan: Plan
