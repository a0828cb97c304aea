"""Values that cross the worker's boundaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ClaimedJob:
    id: str
    attempt: int
    type: str
    user_id: int
    execution: dict[str, Any]
    input: Any
    log_seq_start: int
    execution_token: str | None = None
    # Remote servers to run on, with credentials (only for jobs with a target).
    servers: tuple[dict[str, Any], ...] = ()

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> "ClaimedJob":
        return cls(
            id=body["id"],
            attempt=body["attempt"],
            type=body["type"],
            user_id=body["userId"],
            execution=body.get("execution") or {},
            input=body.get("input"),
            log_seq_start=body.get("logSeqStart", 1),
            execution_token=body.get("executionToken"),
            servers=tuple(body.get("servers") or ()),
        )

    @property
    def timeout_s(self) -> float:
        return float(self.execution.get("timeoutSeconds") or 300)


@dataclass
class Outcome:
    """How a job ended, as reported to the app."""

    status: str  # completed | failed | timed_out | cancelled
    exit_code: int | None = None
    error: str | None = None
    output: Any = None
    metrics: dict[str, Any] = field(default_factory=dict)
    # One result per server, for jobs that ran on remote servers.
    servers: list[dict[str, Any]] | None = None
