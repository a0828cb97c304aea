"""Shapes of event input (API and UI). Shape errors are 422s raised by
pydantic; limits that depend on settings are checked by the service."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from cronium_app.bounds import INT32_MAX, RowId
from cronium_app.models import EventStatus, EventType, Network, ScheduleType
from cronium_app.schedules.schemas import RunLimit, ScheduleDate

MIN_CPUS = 0.01
PRIORITY_RANGE = 1000
ENV_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
EnvValue = Annotated[str, StringConstraints(max_length=32768)]


class HttpRequestSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Literal[HTTP_METHODS] = "GET"  # type: ignore[valid-type]
    url: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048)]
    headers: dict[str, Annotated[str, StringConstraints(max_length=8192)]] = Field(default_factory=dict, max_length=100)
    body: Annotated[str, StringConstraints(max_length=1024 * 1024)] | None = None

    @field_validator("url")
    @classmethod
    def _http_scheme(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value, re.IGNORECASE):
            raise ValueError("url must start with http:// or https:// followed by a host")
        return value

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class EventFields(BaseModel):
    """Every field a user may set. All optional here: create fills defaults."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: Name | None = None
    description: Annotated[str, StringConstraints(max_length=5000)] | None = None
    type: EventType | None = None
    # Size is checked against settings by the service (413), not here.
    script: str | None = None
    http_request: HttpRequestSpec | None = Field(default=None, alias="httpRequest")
    status: EventStatus | None = None
    timeout_seconds: int | None = Field(default=None, ge=1, le=INT32_MAX, alias="timeoutSeconds")
    retries: int | None = Field(default=None, ge=0, le=INT32_MAX)
    # A hundredth of a CPU at least: Docker reads a smaller share as "no limit".
    cpus: float | None = Field(default=None, ge=MIN_CPUS, le=1024, allow_inf_nan=False)
    memory_mb: int | None = Field(default=None, ge=16, le=INT32_MAX, alias="memoryMb")
    pids_limit: int | None = Field(default=None, ge=8, le=INT32_MAX, alias="pidsLimit")
    # Jobs of this event running at once; 0: no limit.
    max_concurrent: int | None = Field(default=None, ge=0, le=10_000, alias="maxConcurrent")
    # Higher first; the default for its runs (an execute call may give its own).
    priority: int | None = Field(default=None, ge=-PRIORITY_RANGE, le=PRIORITY_RANGE)
    # History kept: days, and/or the last N runs; null: the instance default.
    retention_days: int | None = Field(default=None, ge=1, le=36_500, alias="retentionDays")
    retention_runs: int | None = Field(default=None, ge=1, le=1_000_000, alias="retentionRuns")
    network: Network | None = None
    env_vars: dict[str, EnvValue] | None = Field(default=None, alias="envVars", max_length=200)
    # Write-only: values are sealed at rest, never shown again (responses
    # list `secretEnvVarNames`), and masked in job logs. In an update, a
    # name set to null removes that secret; names left out keep theirs.
    secret_env_vars: dict[str, EnvValue | None] | None = Field(default=None, alias="secretEnvVars", max_length=200)
    image: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)] | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50)
    # Remote servers (none: the local container runtime).
    server_ids: list[RowId] | None = Field(default=None, alias="serverIds", max_length=100)
    server_tags: list[Tag] | None = Field(default=None, alias="serverTags", max_length=20)
    remote_docker: bool | None = Field(default=None, alias="remoteDocker")
    schedule_type: ScheduleType | None = Field(default=None, alias="scheduleType")
    cron_expression: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] | None = Field(
        default=None, alias="cronExpression"
    )
    interval_seconds: int | None = Field(default=None, ge=1, alias="intervalSeconds")
    run_at: ScheduleDate | None = Field(default=None, alias="runAt")
    timezone: Annotated[str, StringConstraints(max_length=64)] | None = None
    start_at: ScheduleDate | None = Field(default=None, alias="startAt")
    max_executions: RunLimit | None = Field(default=None, alias="maxExecutions")
    misfire_policy: Literal["skip", "run_once", "run_all"] | None = Field(default=None, alias="misfirePolicy")
    overlap_policy: Literal["allow", "skip", "queue"] | None = Field(default=None, alias="overlapPolicy")

    @field_validator("env_vars", "secret_env_vars")
    @classmethod
    def _env_keys(cls, value: dict[str, str | None] | None) -> dict[str, str | None] | None:
        if value is None:
            return None
        for key in value:
            if not ENV_KEY_RE.match(key):
                raise ValueError(f"environment variable name {key!r} must match {ENV_KEY_RE.pattern}")
            if key.startswith("CRONIUM_"):
                raise ValueError(f"environment variable name {key!r} is reserved (CRONIUM_ prefix)")
        return value

    @field_validator("image")
    @classmethod
    def _image_ref(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[A-Za-z0-9][A-Za-z0-9._/:@-]*$", value):
            raise ValueError("image must be a Docker image reference such as 'name:tag'")
        return value


class EventCreate(EventFields):
    name: Name
    type: EventType


class EventUpdate(EventFields):
    pass
