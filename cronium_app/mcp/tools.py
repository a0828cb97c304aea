"""The MCP tools: each one parses its arguments (the API's own shapes),
calls the services in one transaction, and shapes the answer (views.py).

Every tool is annotated for the client: read-only, destructive, idempotent,
open world (a run executes the user's script, which may reach the internet)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import anyio
from mcp.server.fastmcp import Context, FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field, ValidationError
from sqlmodel import Session

from cronium_app import audit
from cronium_app.bounds import RowId
from cronium_app.client_address import client_address
from cronium_app.db import read_session, write_session
from cronium_app.errors import CroniumError
from cronium_app.events import service as events
from cronium_app.events.schemas import EventCreate, EventUpdate
from cronium_app.jobs import create as create_jobs
from cronium_app.jobs import run_state, workflow_runs
from cronium_app.jobs import service as jobs
from cronium_app.jobs.status import TERMINAL
from cronium_app.mcp import plans, views
from cronium_app.mcp.caller import Caller
from cronium_app.models import EventStatus, EventType
from cronium_app.settings import Settings, get_settings
from cronium_app.workflows import service as workflows
from cronium_app.workflows.schemas import WorkflowIn

logger = logging.getLogger(__name__)

# Where the endpoint leaves the authenticated caller in the request's ASGI scope.
CALLER_SCOPE_KEY = "cronium.mcp.caller"
# How long get_job may wait for a job to end, and how often it looks.
MAX_WAIT_SECONDS = 30
WAIT_POLL_SECONDS = 0.5

READ = ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False)
CREATE = ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=False, openWorldHint=False)
# An update overwrites the fields it names (destructive), and sending it twice changes nothing more.
UPDATE = ToolAnnotations(readOnlyHint=False, destructiveHint=True, idempotentHint=True, openWorldHint=False)
SET_STATUS = ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=True, openWorldHint=False)
DELETE = ToolAnnotations(readOnlyHint=False, destructiveHint=True, idempotentHint=True, openWorldHint=False)
RUN = ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=False, openWorldHint=True)

Kind = Literal["event", "workflow"]
PageSize = Annotated[int, Field(ge=1, le=views.MAX_PAGE, description="Rows per page")]
Offset = Annotated[int, Field(ge=0, le=1_000_000, description="Rows to skip (nextOffset of the previous page)")]
T = TypeVar("T")


def _caller(ctx: Context) -> Caller:
    request = ctx.request_context.request
    caller = request.scope.get(CALLER_SCOPE_KEY) if request is not None else None
    if not isinstance(caller, Caller):
        # The endpoint authenticates every request before the server sees it.
        raise ToolError("not authenticated")
    return caller


def _problem_text(exc: ValidationError) -> str:
    """A validation error's fields and reasons, without echoing the values."""
    return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}" for err in exc.errors()[:10])


async def _call(ctx: Context, work: Callable[[Session, Settings, Caller], T], *, write: bool) -> T:
    """Run `work` in one transaction, off the event loop. A refusal the caller
    can act on becomes the tool's error message; anything else is logged and
    reported without its details (they may name stored values)."""
    caller = _caller(ctx)
    settings = get_settings()
    request = ctx.request_context.request
    address = client_address(request, settings) if request is not None else None

    def run() -> T:
        # For the audit log: this token's user acts through MCP.
        audit.context.begin(audit.Source.mcp, address)
        audit.context.identify(audit.ActorKind.token, caller.user_id, caller.email, caller.token_id)
        with (write_session() if write else read_session()) as session:
            return work(session, settings, caller)

    try:
        return await anyio.to_thread.run_sync(run)
    except CroniumError as exc:
        raise ToolError(exc.message) from None
    except ValidationError as exc:
        raise ToolError(_problem_text(exc)) from None
    except Exception:
        logger.exception("MCP tool failed", extra={"user_id": caller.user_id})
        raise ToolError("the server could not do this (the error was logged)") from None


def _page(page: Any, offset: int) -> dict[str, Any]:
    more = page.total is not None and offset + len(page.items) < page.total
    return {"total": page.total, "nextOffset": offset + len(page.items) if more else None}


def register(server: FastMCP) -> None:
    """Add every tool to `server`."""

    @server.tool(annotations=READ)
    async def get_capabilities(ctx: Context) -> dict[str, Any]:
        """Start here: event types, defaults and limits, scheduling rules, what
        scripts can call, and your servers, tools (by id) and variable names."""
        return await _call(ctx, lambda s, settings, c: views.capabilities(s, settings, c.access), write=False)

    @server.tool(annotations=READ)
    async def validate_plan(ctx: Context, plan: plans.PlanIn) -> dict[str, Any]:
        """Dry-run a plan (events, and workflows whose steps name those events)
        before create_bundle: schemas, schedules (cron), step references,
        workflow cycles (named), limits, names already taken. Changes nothing."""
        # A write transaction: the plan is tried in a savepoint, then rolled back.
        return await _call(ctx, lambda s, settings, c: plans.validate_plan(s, settings, c.access, plan), write=True)

    @server.tool(annotations=CREATE)
    async def create_bundle(ctx: Context, plan: plans.PlanIn) -> dict[str, Any]:
        """Create a plan's events and workflows in one go: all of them, or none
        if any is refused (nothing is left half-made). Returns their ids."""
        return await _call(ctx, lambda s, settings, c: plans.create_bundle(s, settings, c.access, plan), write=True)

    @server.tool(annotations=READ)
    async def list_events(
        ctx: Context, q: Annotated[str | None, Field(max_length=200, description="Search names and descriptions")] = None,
        type: EventType | None = None, status: EventStatus | None = None,
        limit: PageSize = views.DEFAULT_PAGE, offset: Offset = 0,
    ) -> dict[str, Any]:
        """Your events, newest first, as summaries (get_event has the script)."""
        def work(s: Session, settings: Settings, c: Caller) -> dict[str, Any]:
            flt = events.EventFilter(q=q, type=type.value if type else None, status=status.value if status else None)
            page = events.list_events(s, c.access, flt, limit=limit, offset=offset)
            return {"items": [views.event_summary(e) for e in page.items], **_page(page, offset)}
        return await _call(ctx, work, write=False)

    @server.tool(annotations=READ)
    async def get_event(ctx: Context, event_id: RowId) -> dict[str, Any]:
        """One event in full: script or request, limits, schedule.
        Environment variables (secret or not) are listed by name only."""
        return await _call(ctx, lambda s, settings, c: views.event_detail(events.event_to_dict(
            events.get_event(s, c.access, event_id))),
                           write=False)

    @server.tool(annotations=CREATE)
    async def create_event(ctx: Context, event: EventCreate) -> dict[str, Any]:
        """Create one event (name and type are required; the rest defaults)."""
        return await _call(ctx, lambda s, settings, c: views.event_detail(events.event_to_dict(
            events.create_event(s, settings, c.access, event, source=plans.SOURCE))), write=True)

    @server.tool(annotations=UPDATE)
    async def update_event(ctx: Context, event_id: RowId, changes: EventUpdate) -> dict[str, Any]:
        """Change the fields given in `changes` (a fixed script, a schedule...);
        the others stay as they are."""
        return await _call(ctx, lambda s, settings, c: views.event_detail(events.event_to_dict(
            events.update_event(s, settings, c.access, event_id, changes))), write=True)

    @server.tool(annotations=READ)
    async def list_workflows(
        ctx: Context, q: Annotated[str | None, Field(max_length=200, description="Search names")] = None,
        limit: PageSize = views.DEFAULT_PAGE, offset: Offset = 0,
    ) -> dict[str, Any]:
        """Your workflows, newest first, as summaries (get_workflow has the steps)."""
        def work(s: Session, settings: Settings, c: Caller) -> dict[str, Any]:
            page = workflows.list_workflows(s, c.access, q=q, limit=limit, offset=offset)
            return {"items": [views.workflow_summary(w) for w in page.items], **_page(page, offset)}
        return await _call(ctx, work, write=False)

    @server.tool(annotations=READ)
    async def get_workflow(ctx: Context, workflow_id: RowId) -> dict[str, Any]:
        """One workflow: its steps (each runs an event), edges and schedule."""
        return await _call(ctx, lambda s, settings, c: workflows.workflow_to_dict(
            s, workflows.get_workflow(s, c.access, workflow_id)), write=False)

    @server.tool(annotations=CREATE)
    async def create_workflow(ctx: Context, workflow: WorkflowIn) -> dict[str, Any]:
        """Create a workflow over existing events (steps name them by eventId)."""
        return await _call(ctx, lambda s, settings, c: workflows.workflow_to_dict(
            s, workflows.create_workflow(s, c.access, workflow, source=plans.SOURCE)), write=True)

    @server.tool(annotations=UPDATE)
    async def update_workflow(ctx: Context, workflow_id: RowId, workflow: WorkflowIn) -> dict[str, Any]:
        """Replace a workflow's whole definition (steps, edges, schedule)."""
        return await _call(ctx, lambda s, settings, c: workflows.workflow_to_dict(
            s, workflows.replace_workflow(s, c.access, workflow_id, workflow)), write=True)

    @server.tool(annotations=SET_STATUS)
    async def activate(ctx: Context, kind: Kind, id: RowId) -> dict[str, Any]:
        """Make an event or a workflow active: its schedule runs it."""
        return await _call(ctx, lambda s, settings, c: _set_status(s, settings, c, kind, id, "active"), write=True)

    @server.tool(annotations=SET_STATUS)
    async def pause(ctx: Context, kind: Kind, id: RowId) -> dict[str, Any]:
        """Pause an event or a workflow: its schedule stops running it (it can still be run by hand)."""
        return await _call(ctx, lambda s, settings, c: _set_status(s, settings, c, kind, id, "paused"), write=True)

    @server.tool(annotations=DELETE)
    async def delete(ctx: Context, kind: Kind, id: RowId, confirm: bool = False) -> dict[str, Any]:
        """Delete an event or a workflow. Without confirm: true nothing is
        deleted: the answer says what would go, to show the user first. Its
        past jobs stay; deleting an event removes the workflow steps that run it."""
        return await _call(ctx, lambda s, settings, c: _delete(s, c, kind, id, confirm), write=confirm)

    @server.tool(annotations=RUN)
    async def run_event(ctx: Context, event_id: RowId, input: Any = None) -> dict[str, Any]:
        """Queue a run of the event (`input`: any JSON its script reads). Then
        poll get_job (wait_seconds) and read get_job_logs."""
        def work(s: Session, settings: Settings, c: Caller) -> dict[str, Any]:
            job, _created = create_jobs.for_event(s, settings, c.access, event_id=event_id, input=input)
            return {"jobId": job.id, "status": job.status}
        return await _call(ctx, work, write=True)

    @server.tool(annotations=RUN)
    async def run_workflow(ctx: Context, workflow_id: RowId, input: Any = None) -> dict[str, Any]:
        """Start a run of the workflow. Then poll get_workflow_run."""
        def work(s: Session, settings: Settings, c: Caller) -> dict[str, Any]:
            run, _created = workflow_runs.start_run(s, settings, c.access, workflow_id, input)
            return {"runId": run.id, "status": run.status}
        return await _call(ctx, work, write=True)

    @server.tool(annotations=READ)
    async def list_jobs(
        ctx: Context, event_id: RowId | None = None, workflow_id: RowId | None = None,
        status: Annotated[list[str], Field(max_length=10)] = [],  # noqa: B006 (never mutated)
        limit: PageSize = views.DEFAULT_PAGE,
        cursor: Annotated[str | None, Field(max_length=64, description="nextCursor of the previous page")] = None,
    ) -> dict[str, Any]:
        """Runs, newest first, as summaries."""
        def work(s: Session, settings: Settings, c: Caller) -> dict[str, Any]:
            flt = jobs.JobFilter(status=tuple(status), event_id=event_id, workflow_id=workflow_id)
            page = jobs.list_jobs(s, c.access, flt, limit=limit, cursor=cursor)
            return {"items": [views.job_summary(j) for j in page.items], "total": page.total,
                    "nextCursor": page.next_cursor}
        return await _call(ctx, work, write=False)

    @server.tool(annotations=READ)
    async def get_job(
        ctx: Context, job_id: Annotated[str, Field(min_length=1, max_length=64)],
        wait_seconds: Annotated[int, Field(ge=0, le=MAX_WAIT_SECONDS,
                                           description="Wait up to this long for the job to end")] = 0,
    ) -> dict[str, Any]:
        """A run: status, exit code, error, output. With wait_seconds, answers
        as soon as it has ended (or when the time is up)."""
        deadline = time.monotonic() + wait_seconds
        while True:
            job = await _call(ctx, lambda s, settings, c: jobs.get_job_dict(s, c.access, job_id), write=False)
            if job["status"] in TERMINAL or time.monotonic() >= deadline:
                return views.job_detail(job)
            await anyio.sleep(WAIT_POLL_SECONDS)

    @server.tool(annotations=READ)
    async def get_job_logs(
        ctx: Context, job_id: Annotated[str, Field(min_length=1, max_length=64)],
        lines: Annotated[int, Field(ge=1, le=views.MAX_TAIL_LINES)] = views.DEFAULT_TAIL_LINES,
        max_chars: Annotated[int, Field(ge=100, le=views.MAX_TAIL_CHARS,
                                        description="Keep at most this many characters, from the end")]
        = views.DEFAULT_TAIL_CHARS,
    ) -> dict[str, Any]:
        """The end of a run's log (stdout and stderr), cut to `lines` lines and
        `max_chars` characters. Secret values are masked in stored logs."""
        return await _call(ctx, lambda s, settings, c: views.log_tail(s, c.access, job_id, lines=lines,
                                                                      max_chars=max_chars), write=False)

    @server.tool(annotations=READ)
    async def get_workflow_run(ctx: Context, run_id: Annotated[str, Field(min_length=1, max_length=64)]) -> dict[str, Any]:
        """A workflow run: its status and each step's status and job."""
        return await _call(ctx, lambda s, settings, c: run_state.run_to_dict(s, run_state.get_run(s, c.access, run_id)),
                           write=False)


def _set_status(session: Session, settings: Settings, caller: Caller, kind: str, item_id: int,
                status: str) -> dict[str, Any]:
    if kind == "event":
        event = events.update_event(session, settings, caller.access, item_id,
                                    EventUpdate(status=EventStatus(status)))
        return {"kind": kind, "id": event.id, "status": event.status, "nextFireAt": events.event_to_dict(event)["nextFireAt"]}
    workflow = workflows.set_status(session, caller.access, item_id, status)
    return {"kind": kind, "id": workflow.id, "status": workflow.status,
            "nextFireAt": workflows.workflow_to_dict(session, workflow)["nextFireAt"]}


def _delete(session: Session, caller: Caller, kind: str, item_id: int, confirm: bool) -> dict[str, Any]:
    if kind == "event":
        name = events.get_event(session, caller.access, item_id).name
        used_by = workflows.names_using_event(session, caller.access, item_id)
    else:
        name = workflows.get_workflow(session, caller.access, item_id).name
        used_by = []
    if not confirm:
        return {"deleted": False, "kind": kind, "id": item_id, "name": name, "stepsRemovedFrom": used_by,
                "message": f"nothing deleted: show the user what would go, then call delete again with confirm: true"}
    if kind == "event":
        events.delete_event(session, caller.access, item_id)
    else:
        workflows.delete_workflow(session, caller.access, item_id)
    return {"deleted": True, "kind": kind, "id": item_id, "name": name, "stepsRemovedFrom": used_by}
