"""The wire format between the app and its workers (the orchestrator API
under /api/internal), written down once.

Both sides import these names: the app to build what it sends, the worker to
read it. This module imports nothing but the standard library, so that the
app can use it without loading the worker's executors.
"""

# No `from __future__ import annotations`: TypedDict reads NotRequired[...]
# only from evaluated annotations (ClaimedJobBody.__required_keys__).
from typing import Any, Literal, NotRequired, TypedDict

# Every worker request names the worker in this header.
WORKER_ID_HEADER = "X-Worker-Id"
# On claims and heartbeats: "<used>/<total>", the worker's job slots (the
# app keeps them for its metrics; a worker of the previous release sends none).
WORKER_SLOTS_HEADER = "X-Worker-Slots"


# -- the job spec: what to run, frozen when the job is created ---------------


class Resources(TypedDict):
    cpus: float
    memoryMb: int
    pids: int


class HttpRequest(TypedDict, total=False):
    method: str
    url: str
    headers: dict[str, str]
    body: str | None


class EventRef(TypedDict):
    id: int
    name: str


class Target(TypedDict):
    """The user's servers to run on (by id and by tag), and whether to run in
    a container on each server's own Docker instead of in a plain shell."""

    serverIds: list[int]
    serverTags: list[str]
    docker: bool


class ToolAction(TypedDict):
    """What a `tool` job sends: through which of the owner's tools, the
    templates of the action's fields, and the variables they read."""

    toolId: int
    action: str  # send_message | call_webhook | send_email
    fields: dict[str, str]  # field -> Jinja2 template
    variables: list[str]


class ExecutionSpec(TypedDict):
    type: str  # bash | python | node | http | tool
    script: str | None  # None for http
    http: HttpRequest | None  # None for scripts
    timeoutSeconds: float
    resources: Resources
    network: str | None  # "egress" asks for network access; anything else: none
    env: dict[str, str]
    image: str | None  # None: the worker's default image
    event: EventRef
    target: NotRequired[Target]  # only for jobs that run on remote servers
    tool: NotRequired[ToolAction]  # only for tool jobs


# -- the claim: a job handed to a worker --------------------------------------


class ServerLogin(TypedDict):
    """A target server as the worker that claimed the job gets it: where it
    is, how to log in (decrypted for this worker only, never stored), and
    its pinned host key. `error` instead of credentials when they cannot be
    read (the server fails with that message)."""

    id: int
    name: str
    host: str
    port: int
    username: str
    hostKey: str | None
    privateKey: NotRequired[str]
    passphrase: NotRequired[str]
    password: NotRequired[str]
    error: NotRequired[str]


class ToolLogin(TypedDict):
    """A tool job's tool as the worker that claimed the job gets it: its
    settings and its credentials (opened for this worker only, never
    stored), or `error` when they cannot be read (the job fails with it)."""

    id: int
    name: str
    kind: str  # slack | discord | teams | webhook | email
    config: dict[str, Any]  # what is not secret: an email server, a webhook's method
    secrets: dict[str, Any]  # url, headers, signingSecret, password
    error: NotRequired[str]


class ClaimedJobBody(TypedDict):
    id: str
    attempt: int
    type: str
    status: str
    userId: int
    eventId: int | None
    workflowId: int | None
    workflowRunId: str | None
    execution: ExecutionSpec
    input: Any
    leaseExpiresAt: str | None  # ISO 8601
    createdAt: str | None  # ISO 8601
    # The seq of the job's first log line: a retried job numbers its log on
    # from what earlier attempts stored.
    logSeqStart: int
    # The runtime API credential of this attempt (see runtime_proxy.py).
    executionToken: NotRequired[str]
    # Only for jobs with a target.
    servers: NotRequired[list[ServerLogin]]
    # Only for tool jobs.
    tool: NotRequired[ToolLogin]


def claimed_job_body(
    *,
    id: str,
    attempt: int,
    type: str,
    status: str,
    user_id: int,
    event_id: int | None,
    workflow_id: int | None,
    workflow_run_id: str | None,
    execution: ExecutionSpec,
    input: Any,
    lease_expires_at: str | None,
    created_at: str | None,
    log_seq_start: int,
    execution_token: str | None = None,
    servers: list[ServerLogin] | None = None,
    tool: ToolLogin | None = None,
) -> ClaimedJobBody:
    """One job of a claim reply (`GET /api/internal/jobs/queue`: `{"jobs": [...]}`)."""
    body = ClaimedJobBody(
        id=id,
        attempt=attempt,
        type=type,
        status=status,
        userId=user_id,
        eventId=event_id,
        workflowId=workflow_id,
        workflowRunId=workflow_run_id,
        execution=execution,
        input=input,
        leaseExpiresAt=lease_expires_at,
        createdAt=created_at,
        logSeqStart=log_seq_start,
    )
    if execution_token is not None:
        body["executionToken"] = execution_token
    if servers is not None:
        body["servers"] = servers
    if tool is not None:
        body["tool"] = tool
    return body


# -- logs ---------------------------------------------------------------------


class LogRun(TypedDict):
    """Consecutive lines of one stream read at one moment, numbered seq,
    seq+1, ... `POST /api/internal/jobs/{id}/logs` takes `{"attempt": n,
    "runs": [...]}`; the app still takes the previous release's `"logs":
    [{"seq", "stream", "line", "timestamp"}, ...]` (one object per line)."""

    seq: int
    stream: str  # stdout | stderr | system
    timestamp: str  # ISO 8601
    lines: list[str]


# -- the result: how a job ended ----------------------------------------------

# A job's end as a worker reports it; `partial` only for a job on several
# servers where some failed.
ResultStatus = Literal["completed", "failed", "timed_out", "cancelled", "partial"]
ServerStatus = Literal["completed", "failed", "timed_out", "cancelled"]


class ServerResultBody(TypedDict):
    """How a job went on one of its servers."""

    serverId: int
    name: str
    status: ServerStatus
    exitCode: int | None
    durationMs: int | None
    error: str | None


class JobResultBody(TypedDict):
    """`POST /api/internal/jobs/{id}/complete`, besides the attempt and,
    optionally, `runs` (the job's last log lines, stored with its end) and
    `runMs` (how long the worker had the job: when the job never said
    `running`, it started that long before its end)."""

    status: ResultStatus
    exitCode: int | None
    error: str | None
    output: Any
    metrics: dict[str, Any]
    servers: NotRequired[list[ServerResultBody]]


# -- the heartbeat: the leases a worker holds, and the worker itself -----------

# What a worker is doing, as it says in its heartbeats.
WorkerState = Literal["running", "draining", "stopped"]


class HeldJob(TypedDict):
    id: str
    attempt: int


class WorkerInfo(TypedDict, total=False):
    """What a worker says about itself, for the app's Workers page. Every
    field may be missing: workers of earlier releases send none of them."""

    host: str  # the worker's host name
    engineVersion: str  # the version of the Docker Engine it runs jobs on
    engineHost: str  # the name of the machine that engine runs on
    concurrency: int  # jobs it runs at once, at most
    running: int  # jobs it runs now
    state: WorkerState  # draining: stopping, finishing its jobs; stopped: gone for good
    # Its warm container pool, once it has one: a few named numbers or words
    # (e.g. {"ready": 4, "target": 8}), shown as they are.
    pool: dict[str, int | float | str | bool | None]


class HeartbeatBody(TypedDict):
    """`POST /api/internal/heartbeat`: renew these leases. The reply names
    the jobs to cancel and the jobs lost (another attempt owns them)."""

    workerId: str
    jobs: list[HeldJob]
    worker: NotRequired[WorkerInfo]


def heartbeat_body(worker_id: str, jobs: list[tuple[str, int]], info: WorkerInfo | None = None) -> HeartbeatBody:
    body = HeartbeatBody(workerId=worker_id, jobs=[HeldJob(id=job_id, attempt=attempt) for job_id, attempt in jobs])
    if info is not None:
        body["worker"] = info
    return body
