"""`cronium mcp`: a local MCP server on stdin/stdout (what Claude Desktop,
Claude Code and other local MCP clients start) that forwards every JSON-RPC
message to the Cronium server's MCP endpoint (/api/mcp) with the user's
token, and every answer back. The tools live on the server only: this is
a pipe made of the MCP SDK's stdio server and Streamable HTTP client."""

from __future__ import annotations

import sys

import anyio
import httpx
from mcp.client.streamable_http import streamable_http_client
from mcp.server.stdio import stdio_server
from mcp.shared._httpx_utils import create_mcp_http_client

from cronium_cli import exits
from cronium_cli.client import Api
from cronium_cli.config import load
from cronium_cli.exits import CliError

MCP_PATH = "/api/mcp"
ACCEPT = "application/json, text/event-stream"


def _say(text: str) -> None:
    # stdout carries the protocol: anything for a person goes to stderr.
    print(f"cronium mcp: {text}", file=sys.stderr, flush=True)


def check_access(api: Api) -> None:
    """One ping before the client speaks: a bad token or a wrong URL is said
    plainly (and ends the bridge) instead of leaving the client waiting."""
    api.post(MCP_PATH, {"jsonrpc": "2.0", "id": 0, "method": "ping"}, headers={"Accept": ACCEPT})


async def forward(url: str, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with stdio_server() as (from_client, to_client), \
            create_mcp_http_client(headers=headers) as http, \
            streamable_http_client(url + MCP_PATH, http_client=http) as (from_server, to_server, _session):
        async with anyio.create_task_group() as tasks:
            async def upstream() -> None:
                async for message in from_client:
                    if isinstance(message, Exception):
                        _say(f"not a JSON-RPC message from the client: {message}")
                        continue
                    await to_server.send(message)
                # The client closed stdin: it is done with us.
                tasks.cancel_scope.cancel()

            async def downstream() -> None:
                async for message in from_server:
                    if isinstance(message, Exception):
                        _say(f"the server's answer could not be read: {message}")
                        continue
                    await to_client.send(message)

            tasks.start_soon(upstream)
            tasks.start_soon(downstream)


def serve() -> int:
    """Serve MCP on stdin/stdout, forwarding to CRONIUM_URL (or the stored
    URL) with CRONIUM_TOKEN (or the stored token; a token limited to MCP will do)."""
    cfg = load()
    if not cfg.token:
        raise CliError("no token: set CRONIUM_TOKEN (a token limited to MCP will do) or run `cronium login`",
                       exits.NOT_SIGNED_IN)
    check_access(Api(cfg.url, cfg.token))
    try:
        anyio.run(forward, cfg.url, cfg.token)
    except httpx.TransportError as exc:
        raise CliError(f"lost {cfg.url}: {exc or type(exc).__name__}", exits.UNREACHABLE) from None
    return exits.OK
