"""The FastAPI app that Reflex serves next to the UI (`api_transformer`)."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Route

from cronium_app.api import health, hooks, internal, metrics, runtime, session, terminal
from cronium_app.api.deps import audit_caller
from cronium_app.api.errors import install_error_handlers
from cronium_app.api.limits import BodySizeLimit
from cronium_app.api.v1 import (
    actions, ascode, audit, auth, events, jobs, schedules, servers, tokens, tools, triggers, users, variables, workers,
    workflows, workspaces,
)
from cronium_app.mcp.endpoint import PATH as MCP_PATH, McpEndpoint
from cronium_app.metrics.http import RequestTimer
from cronium_app.settings import Settings


DESCRIPTION = """\
Run your scripts (Bash, Python, Node.js, HTTP requests) in locked-down
containers, by hand, on a schedule or as workflow steps, and follow their logs.

Authenticate with an API token: `Authorization: Bearer crn_...` (from
`POST /api/v1/auth/register`, `POST /api/v1/auth/login`, `POST /api/v1/tokens`
or the web UI's Settings). Every error has the same JSON shape,
`{"error": {"code": "...", "message": "..."}}`; a validation error (422) lists
the fields at fault in `error.fields`. Times are ISO 8601 in UTC.

A typical run: `POST /api/v1/events` (create), `POST /api/v1/events/{id}/execute`
(queue a job), then `GET /api/v1/jobs/{jobId}/logs?after_seq=N` until
`complete`, and `GET /api/v1/jobs/{jobId}` for the exit code.
"""

TAGS = [
    {"name": "auth", "description": "Accounts: register, sign in for an API token, change the password."},
    {"name": "events", "description": "Events: a script or an HTTP request, its limits and its schedule. "
                                      "Executing one queues a job."},
    {"name": "jobs", "description": "Jobs: each run of an event (by hand, by a schedule, a retry or a workflow "
                                    "step), its status, result and log."},
    {"name": "workflows", "description": "Workflows: steps that run events, joined by conditional edges; "
                                         "each execution is a run."},
    {"name": "schedules", "description": "The next fire times of a saved or a draft schedule."},
    {"name": "variables", "description": "The workspace's variables: JSON values its scripts read and write by key."},
    {"name": "tokens", "description": "API tokens: list, create (shown once), revoke. Each acts in one "
                                      "workspace with one role."},
    {"name": "workspaces", "description": "Workspaces: yours, a new team workspace, and the token's workspace "
                                          "(rename, delete, members and their roles)."},
    {"name": "users", "description": "The server's accounts, for its administrators: invite, disable, "
                                     "the instance role, password-reset links."},
    {"name": "servers", "description": "SSH servers events can run on; credentials are write-only."},
    {"name": "as code", "description": "Events, workflows, schedules and variables as one YAML document: "
                                       "export it, plan a change, apply it."},
    {"name": "audit", "description": "The audit log: who changed or did what, when, from where (read only)."},
    {"name": "runtime", "description": "What a running script's helpers call (execution tokens only)."},
]


def operation_id(route: APIRoute) -> str:
    """The route's function name (`create_event`), what a generated client
    calls it; the runtime API's names are prefixed, being the same words."""
    return f"runtime_{route.name}" if route.path.startswith("/api/runtime") else route.name


def build_api(settings: Settings) -> FastAPI:
    api = FastAPI(
        title="Cronium API",
        version="1",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        generate_unique_id_function=operation_id,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        # Each request's audit caller (who, from where) starts here.
        dependencies=[Depends(audit_caller)],
    )
    install_error_handlers(api)
    for router in (auth.router, events.router, jobs.router, variables.router, tokens.router, workflows.router,
                   schedules.router, servers.router, workers.router, ascode.router, tools.router, actions.router,
                   triggers.router, workspaces.router, audit.router, users.router):
        api.include_router(router)
    api.include_router(internal.router, include_in_schema=False)
    api.include_router(runtime.router)
    api.include_router(hooks.router)
    api.include_router(session.router, include_in_schema=False)
    if settings.oidc_enabled:
        api.include_router(session.oidc_router, include_in_schema=False)
    api.include_router(audit.ui_router)
    api.include_router(terminal.router)
    api.include_router(health.router, include_in_schema=False)
    api.include_router(metrics.router)
    # The MCP server (Streamable HTTP). Whoever serves this app runs
    # `api.state.mcp.running()` around it (cronium_app.py: a lifespan task).
    mcp = McpEndpoint()
    api.router.routes.append(Route(MCP_PATH, endpoint=mcp, methods=["GET", "POST", "DELETE"]))
    api.state.mcp = mcp
    api.add_middleware(BodySizeLimit, max_bytes=settings.request_body_max_bytes)
    # Outermost: times the whole request, the body limit's refusals included.
    api.add_middleware(RequestTimer)
    return api
