"""The official MCP Python client against the real app, over either
transport: Streamable HTTP straight to /api/mcp, or stdio through the
`cronium mcp` bridge (a subprocess, as Claude Desktop would start it)."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult

from tests.support.cli import CRONIUM

TRANSPORTS = ("http", "stdio")


@dataclass
class Reply:
    """A tool's answer: its error flag, its text, and its JSON when it is JSON."""

    is_error: bool
    text: str

    @property
    def data(self) -> Any:
        assert not self.is_error, self.text
        return json.loads(self.text)


def reply_of(result: CallToolResult) -> Reply:
    return Reply(bool(result.isError), "".join(getattr(block, "text", "") for block in result.content))


@contextlib.asynccontextmanager
async def mcp_session(transport: str, url: str, token: str, config_home: Path | None = None
                      ) -> AsyncIterator[ClientSession]:
    """An initialized client session with the app's MCP server."""
    if transport == "http":
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http, \
                streamable_http_client(f"{url}/api/mcp", http_client=http) as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield session
        return
    env = {key: value for key, value in os.environ.items() if not key.startswith("CRONIUM_")}
    env.update({"CRONIUM_URL": url, "CRONIUM_TOKEN": token})
    if config_home is not None:
        env["XDG_CONFIG_HOME"] = str(config_home)
    params = StdioServerParameters(command=CRONIUM, args=["mcp"], env=env)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            yield session


async def call(session: ClientSession, tool: str, **arguments: Any) -> Reply:
    return reply_of(await session.call_tool(tool, arguments))
