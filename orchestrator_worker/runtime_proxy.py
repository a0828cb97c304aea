"""The runtime API socket: one unix socket per job, in the job's host
directory (mounted into its container at /run/cronium), relaying each
helper request to the app's /api/runtime routes.

The container has no network; this socket is its only way out, and it only
leads to this job's own runtime routes. The request (including the
execution token) is passed on unchanged, so the app does all the checking;
the relay adds nothing of the worker's own, least of all its orchestrator
token. One request per connection (helpers send `Connection: close`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from http import HTTPStatus
from pathlib import Path

import httpx

from orchestrator_worker.settings import WorkerSettings

logger = logging.getLogger(__name__)

SOCKET_NAME = "runtime.sock"
HEAD_MAX_BYTES = 16 * 1024
FORWARDED_HEADERS = ("authorization", "content-type", "accept")
READ_TIMEOUT_S = 30.0
# While the app cannot be reached at all (it is restarting), a request is
# tried again for this long: nothing was sent, so nothing happens twice. Well
# within the helpers' own 30 s timeouts.
CONNECT_RETRY_S = 20.0


class RuntimeProxy:
    def __init__(self, settings: WorkerSettings):
        self.settings = settings
        self.body_max = settings.runtime_body_max_bytes
        # A client of its own: no orchestrator credentials on it.
        self.http = httpx.AsyncClient(
            base_url=settings.orchestrator_url.rstrip("/"),
            timeout=httpx.Timeout(30.0, connect=5.0),
            limits=httpx.Limits(max_connections=settings.concurrency * 2 + 10),
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def serve(self, job_id: str, job_dir: Path) -> asyncio.AbstractServer:
        path = job_dir / SOCKET_NAME
        server = await asyncio.start_unix_server(lambda r, w: self._handle(job_id, r, w), path=str(path))
        # The job's user (another uid) must be able to connect.
        os.chmod(path, 0o666)
        return server

    async def _handle(self, job_id: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, content_type, body = await asyncio.wait_for(self._relay(job_id, reader), READ_TIMEOUT_S)
        except asyncio.TimeoutError:
            status, content_type, body = 408, "application/json", b'{"error":{"code":"timeout","message":"request not received in time"}}'
        except Exception as exc:  # never let one bad request take the socket down
            logger.warning("runtime relay for job %s failed: %s", job_id, exc, extra={"job_id": job_id})
            status, content_type, body = 502, "application/json", b'{"error":{"code":"bad_gateway","message":"the app could not be reached"}}'
        try:
            writer.write(
                f"HTTP/1.1 {status} {_reason(status)}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode("latin-1")
                + body
            )
            await writer.drain()
        finally:
            writer.close()

    async def _relay(self, job_id: str, reader: asyncio.StreamReader) -> tuple[int, str, bytes]:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            return _error(431, "request head too large")
        except asyncio.IncompleteReadError:
            return _error(400, "incomplete request")
        if len(head) > HEAD_MAX_BYTES:
            return _error(431, "request head too large")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        parts = request_line.split(" ")
        if len(parts) != 3:
            return _error(400, "malformed request line")
        method, target, _version = parts
        prefix = f"/api/runtime/executions/{job_id}/"
        if not target.startswith(prefix) or ".." in target:
            return _error(403, "this socket only serves the job's own runtime API")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            if name:
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        if length < 0 or length > self.body_max:
            return _error(413, f"request body over {self.body_max} bytes")
        body = await reader.readexactly(length) if length else b""
        response = await self._send(
            method,
            target,
            content=body,
            headers={name: headers[name] for name in FORWARDED_HEADERS if name in headers},
        )
        return response.status_code, response.headers.get("content-type", "application/json"), response.content

    async def _send(self, method: str, target: str, **kwargs) -> httpx.Response:
        deadline = time.monotonic() + CONNECT_RETRY_S
        delay = 0.2
        while True:
            try:
                return await self.http.request(method, target, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                if time.monotonic() + delay > deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)


def _error(status: int, message: str) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps({"error": {"code": "relay", "message": message}}).encode()


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
