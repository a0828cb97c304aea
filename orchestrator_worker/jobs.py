"""Values that cross the worker's boundaries: a claimed job as the worker
holds it, and how it ended. Their wire forms are in protocol.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orchestrator_worker.protocol import (
    ClaimedJobBody,
    ExecutionSpec,
    JobResultBody,
    ResultStatus,
    ServerLogin,
    ServerResultBody,
    ToolLogin,
)

DEFAULT_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class ClaimedJob:
    id: str
    attempt: int
    type: str
    user_id: int
    execution: ExecutionSpec
    input: Any
    log_seq_start: int
    execution_token: str | None = None
    # Remote servers to run on, with credentials (only for jobs with a target).
    servers: tuple[ServerLogin, ...] = ()
    # The tool and its credentials (only for tool jobs).
    tool: ToolLogin | None = None

    @classmethod
    def from_api(cls, body: ClaimedJobBody) -> "ClaimedJob":
        return cls(
            id=body["id"],
            attempt=body["attempt"],
            type=body["type"],
            user_id=body["userId"],
            execution=body.get("execution") or {},  # type: ignore[typeddict-item]
            input=body.get("input"),
            log_seq_start=body.get("logSeqStart", 1),
            execution_token=body.get("executionToken"),
            servers=tuple(body.get("servers") or ()),
            tool=body.get("tool"),
        )

    @property
    def kind(self) -> str:
        """What to run: the spec's type (bash, python, node, http, tool)."""
        return self.execution.get("type") or self.type

    @property
    def timeout_s(self) -> float:
        return float(self.execution.get("timeoutSeconds") or DEFAULT_TIMEOUT_S)


@dataclass
class Outcome:
    """How a job ended, as reported to the app."""

    status: ResultStatus
    exit_code: int | None = None
    error: str | None = None
    output: Any = None
    metrics: dict[str, Any] = field(default_factory=dict)
    # One result per server, for jobs that ran on remote servers.
    servers: list[ServerResultBody] | None = None

    def to_api(self) -> JobResultBody:
        body = JobResultBody(
            status=self.status, exitCode=self.exit_code, error=self.error, output=self.output, metrics=self.metrics
        )
        if self.servers is not None:
            body["servers"] = self.servers
        return body

    def refused(self, reason: str) -> Outcome:
        """What is left to say when the app refused this result: failed, with
        the exit code and why, and nothing of what was too much for it."""
        return Outcome(status="failed", exit_code=self.exit_code, error=f"the app refused this job's result ({reason[:500]})")
