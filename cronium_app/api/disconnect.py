"""Noticing that an HTTP client hung up while its request is still being
answered (a long poll)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import Request


async def _watch(request: Request, hung_up: asyncio.Event) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass
    hung_up.set()


@contextlib.asynccontextmanager
async def hang_up_watch(request: Request) -> AsyncIterator[asyncio.Event]:
    """An event set when the client disconnects, for as long as the block runs."""
    hung_up = asyncio.Event()
    watcher = asyncio.create_task(_watch(request, hung_up))
    try:
        yield hung_up
    finally:
        watcher.cancel()
