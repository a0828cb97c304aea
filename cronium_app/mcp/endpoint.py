"""/api/mcp: the MCP server over Streamable HTTP, behind the API token check.

Stateless: each POST is a whole exchange (JSON replies, no server-side
session), so any app replica can answer any request and nothing is kept
between them. The SDK's session manager still needs its task group running:
the app starts it with `running()` as a lifespan task (Reflex does not run a
FastAPI lifespan)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import anyio
from mcp.server.fastmcp import FastMCP
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from cronium_app.errors import CroniumError, Unauthorized
from cronium_app.mcp import tools
from cronium_app.mcp.caller import authenticate

PATH = "/api/mcp"
INSTRUCTIONS = """\
Cronium runs the user's scripts (Bash, Python, Node.js, HTTP requests, tool
messages) in locked-down containers, by hand, on a schedule or as workflow
steps. Call get_capabilities first. To build something: draft a plan, check
it with validate_plan, create it with create_bundle, run it (run_event /
run_workflow), poll get_job (wait_seconds) or get_workflow_run, read
get_job_logs, fix a failing script with update_event and run again. Ask the
user before activate (schedules start running) and before delete (which
needs confirm: true)."""


def build_server() -> FastMCP:
    server = FastMCP(name="cronium", instructions=INSTRUCTIONS)
    tools.register(server)
    return server


class McpEndpoint:
    """An ASGI app: authenticates the request's API token, then hands it to
    the MCP session manager with the caller in the request's scope."""

    def __init__(self) -> None:
        self.server = build_server()
        self.manager = StreamableHTTPSessionManager(app=self.server._mcp_server, stateless=True, json_response=True)
        self._started = False

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with self.manager.run():
            self._started = True
            try:
                yield
            finally:
                self._started = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            caller = await anyio.to_thread.run_sync(authenticate, Headers(scope=scope).get("authorization"))
        except CroniumError as exc:
            headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
            response = JSONResponse({"error": {"code": exc.code, "message": exc.message}},
                                    status_code=exc.status_code, headers=headers)
            return await response(scope, receive, send)
        if not self._started:
            response = JSONResponse({"error": {"code": "busy", "message": "the MCP server is starting: try again"}},
                                    status_code=503, headers={"Retry-After": "1"})
            return await response(scope, receive, send)
        await self.manager.handle_request({**scope, tools.CALLER_SCOPE_KEY: caller}, receive, send)
