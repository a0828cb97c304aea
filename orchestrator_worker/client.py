"""HTTP client of the app's orchestrator API, with retries.

Transient failures (the app restarting, a timeout, a 5xx, a 429) are retried
with capped exponential backoff for as long as it takes: a job's logs and its
completion are never dropped because the app was briefly away. The app
ignores duplicates (log seq, attempt fencing), so resending is always safe.
A 4xx other than 408/429 is final and raised as `Refused`.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from typing import Any

import httpx

from orchestrator_worker.protocol import (
    WORKER_ID_HEADER, WORKER_SLOTS_HEADER, ClaimedJobBody, HeartbeatBody, JobResultBody, LogRun, WorkerInfo,
    heartbeat_body,
)
from orchestrator_worker.settings import WorkerSettings

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}
BACKOFF_START_S = 0.1
BACKOFF_MAX_S = 5.0


class Refused(Exception):
    """The app answered with a final 4xx (the job is gone, stale, ...)."""

    def __init__(self, status_code: int, message: str):
        super().__init__(f"{status_code}: {message}")
        self.status_code = status_code
        self.message = message


class OrchestratorClient:
    def __init__(self, settings: WorkerSettings, *, transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings
        limits = httpx.Limits(max_connections=settings.concurrency * 2 + 20, max_keepalive_connections=64)
        self.http = httpx.AsyncClient(
            base_url=settings.orchestrator_url.rstrip("/"),
            headers={
                "Authorization": f"Bearer {settings.orchestrator_token}",
                WORKER_ID_HEADER: settings.worker_id,
            },
            timeout=httpx.Timeout(30.0, connect=5.0),
            limits=limits,
            transport=transport,
        )
        # An app of an earlier release refuses a heartbeat that says who the
        # worker is (422): from then on the heartbeats leave that out.
        self.app_takes_worker_info = True
        # (total, used) job slots, told to the app on claims and heartbeats.
        self.slots: Callable[[], tuple[int, int]] | None = None

    async def aclose(self) -> None:
        await self.http.aclose()

    async def request(self, method: str, path: str, *, retry: bool = True, timeout: float | None = None, **kwargs) -> Any:
        delay = BACKOFF_START_S
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self.http.request(method, path, timeout=timeout or httpx.USE_CLIENT_DEFAULT, **kwargs)
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code < 400:
                    return response.json() if response.content else None
                if response.status_code not in RETRYABLE_STATUS:
                    raise Refused(response.status_code, _message(response))
                problem = f"HTTP {response.status_code}"
            if not retry:
                raise ConnectionError(problem)
            if attempt == 1 or attempt % 20 == 0:
                logger.warning("app unreachable (%s %s: %s); retrying", method, path, problem)
            await asyncio.sleep(delay * (0.5 + random.random() / 2))
            delay = min(delay * 2, BACKOFF_MAX_S)

    # -- the orchestrator API ---------------------------------------------------

    async def claim(self, limit: int, wait: float) -> list[ClaimedJobBody]:
        body = await self.request(
            "GET", "/api/internal/jobs/queue", params={"limit": limit, "wait": wait}, timeout=wait + 30,
            headers=self._slots_header(),
        )
        return body["jobs"]

    async def running(self, job_id: str, attempt: int, run_ms: int) -> dict[str, Any]:
        """The job runs, and has since this worker got it `run_ms` ago."""
        return await self.request(
            "POST", f"/api/internal/jobs/{job_id}/status", json={"status": "running", "attempt": attempt, "runMs": run_ms}
        )

    async def logs(self, job_id: str, attempt: int, runs: list[LogRun]) -> dict[str, Any]:
        return await self.request(
            "POST", f"/api/internal/jobs/{job_id}/logs", json={"attempt": attempt, "runs": runs}
        )

    async def complete(
        self, job_id: str, attempt: int, body: JobResultBody, *, runs: list[LogRun] | None = None, run_ms: int | None = None
    ) -> dict[str, Any]:
        """The job's end; `runs`: its last log lines, stored with it; `run_ms`:
        how long this worker has had it (its start, if it never said running)."""
        extra: dict[str, Any] = {}
        if runs:
            extra["runs"] = runs
        if run_ms is not None:
            extra["runMs"] = run_ms
        return await self.request(
            "POST", f"/api/internal/jobs/{job_id}/complete", json={"attempt": attempt, **body, **extra}
        )

    async def release(self, job_id: str, attempt: int, reason: str) -> dict[str, Any]:
        return await self.request(
            "POST", f"/api/internal/jobs/{job_id}/release", json={"attempt": attempt, "reason": reason}
        )

    async def heartbeat(self, jobs: list[tuple[str, int]], info: WorkerInfo | None = None) -> dict[str, Any]:
        """Renew these leases; `info` tells the app about this worker."""
        if info is not None and self.app_takes_worker_info:
            try:
                return await self._heartbeat(heartbeat_body(self.settings.worker_id, jobs, info))
            except Refused as exc:
                if exc.status_code != 422:
                    raise
                logger.warning("the app refused the worker's details in its heartbeat (%s); sending leases only", exc)
                self.app_takes_worker_info = False
        return await self._heartbeat(heartbeat_body(self.settings.worker_id, jobs))

    async def _heartbeat(self, body: HeartbeatBody) -> dict[str, Any]:
        return await self.request(
            "POST", "/api/internal/heartbeat", json=body, retry=False, timeout=10, headers=self._slots_header()
        )

    def _slots_header(self) -> dict[str, str]:
        if self.slots is None:
            return {}
        total, used = self.slots()
        return {WORKER_SLOTS_HEADER: f"{used}/{total}"}

    async def pin_host_key(self, server_id: int, job_id: str, attempt: int, host_key: str) -> str:
        """Pin a server's first-seen host key; returns the key now pinned."""
        body = await self.request(
            "POST", f"/api/internal/servers/{server_id}/host-key",
            json={"jobId": job_id, "attempt": attempt, "hostKey": host_key},
        )
        return body["hostKey"]

    async def held(self, jobs: list[tuple[str, int]]) -> set[str]:
        """Which of these (job, attempt) pairs are still running somewhere."""
        body = await self.request(
            "POST", "/api/internal/jobs/held", json={"jobs": [{"id": j, "attempt": a} for j, a in jobs]}
        )
        return set(body["held"])


def _message(response: httpx.Response) -> str:
    try:
        return response.json()["error"]["message"]
    except Exception:
        return response.text[:200]
