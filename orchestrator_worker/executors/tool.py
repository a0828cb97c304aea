"""Runs a `tool` job in the worker itself, without a container (like an
HTTP event): fetch the variables its templates name, render its fields in
a sandboxed child process (tools/templates.py), send them through its tool
(tools/deliver.py), and log an account of the request and the reply.

The tool's credentials come with the claim (opened for this worker only)
and are never logged: the account names a hook by scheme and host, and the
app masks every credential of the tool in the job's log besides. Variables
are read through the runtime API with the job's own execution token, so
the app checks them as it checks a script's reads.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import httpx

from orchestrator_worker.control import JobControl
from orchestrator_worker.executors.base import run_within_timeout
from orchestrator_worker.jobs import ClaimedJob, Outcome
from orchestrator_worker.logs import LogSink
from orchestrator_worker.settings import WorkerSettings
from orchestrator_worker.tools.deliver import deliver
from orchestrator_worker.tools.templates import TemplateProblem, render_isolated


class _Failed(Exception):
    pass


class ToolExecutor:
    def __init__(self, settings: WorkerSettings):
        self.settings = settings
        # The runtime API's client: the job's execution token, never the worker's.
        self.runtime = httpx.AsyncClient(base_url=settings.orchestrator_url.rstrip("/"), timeout=httpx.Timeout(15.0, connect=5.0))

    async def run(self, job: ClaimedJob, sink: LogSink, control: JobControl) -> Outcome:
        started = time.monotonic()
        return await run_within_timeout(job, sink, control, self._run(job, sink, started), started)

    async def _run(self, job: ClaimedJob, sink: LogSink, started: float) -> Outcome:
        spec = job.execution.get("tool") or {}
        login = job.tool or {"error": "the job names no tool"}

        def metrics() -> dict[str, Any]:
            return {"duration_ms": round((time.monotonic() - started) * 1000)}

        try:
            if login.get("error"):
                raise _Failed(login["error"])
            await sink.system(f"tool {login.get('name')!r} ({login.get('kind')}): {spec.get('action')}")
            context = {
                "input": job.input,
                "event": job.execution.get("event") or {},
                "job": {"id": job.id, "attempt": job.attempt},
                "variables": await self._variables(job, spec.get("variables") or []),
            }
            try:
                fields = await render_isolated(dict(spec.get("fields") or {}), context)
            except TemplateProblem as exc:
                raise _Failed(f"{exc.field + ': ' if exc.field else ''}{exc.message}") from None
            remaining = max(1.0, job.timeout_s - (time.monotonic() - started))
            result = await deliver(login, fields, delivery_id=job.id, allow=self.settings.tool_allow, timeout=remaining)
        except _Failed as exc:
            await sink.system(str(exc))
            return Outcome(status="failed", error=str(exc), metrics=metrics())
        for line in result.lines:
            await sink.system(line)
        return Outcome(
            status="completed" if result.ok else "failed", error=result.error, output=result.output, metrics=metrics()
        )

    async def _variables(self, job: ClaimedJob, names: list[str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in names[:20]:
            try:
                response = await self.runtime.get(
                    f"/api/runtime/executions/{job.id}/variables/{quote(str(name), safe='')}",
                    headers={"Authorization": f"Bearer {job.execution_token}"},
                )
            except httpx.HTTPError as exc:
                raise _Failed(f"could not read variable {name!r}: {type(exc).__name__}") from None
            if response.status_code == 404:
                continue  # a missing variable renders as nothing
            if response.status_code != 200:
                raise _Failed(f"could not read variable {name!r}: HTTP {response.status_code}")
            values[name] = response.json().get("value")
        return values

    async def cleanup(self, job: ClaimedJob) -> None:
        """Nothing outlives the delivery."""

    async def aclose(self) -> None:
        await self.runtime.aclose()
