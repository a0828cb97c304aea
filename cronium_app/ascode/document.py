"""The events-as-code document, version 1: what `cronium export` writes and
`cronium apply` reads (README, "Events as code").

```yaml
version: 1
variables:
- key: region
  value: eu
- key: smtp_password
  secret: true            # a reference: the value is never written
events:
- name: nightly report    # events are matched by name
  type: python
  script: |
    print("hello")
  secretEnvVarNames: [SMTP_PASSWORD]   # references, never values
  schedule: {type: cron, cronExpression: "0 2 * * *", timezone: Europe/Paris}
  actions: []             # reserved for conditional actions
workflows:
- name: nightly
  steps:
  - {name: report, event: nightly report}
  edges: []
```

Field names are the API's (camelCase). A field left out takes the value a
new event or workflow gets through the API, so a document states the whole
of what it names. Servers are named (`servers`), not numbered: ids differ
from one instance to another.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from cronium_app.bounds import INT32_MAX
from cronium_app.events.schemas import MIN_CPUS, PRIORITY_RANGE, EnvValue, HttpRequestSpec, Name, Tag
from cronium_app.models import EventStatus, EventType, Network, ScheduleType
from cronium_app.schedules.schemas import CronText, RunLimit, ScheduleDate
from cronium_app.workflows.schemas import EdgeCondition, StepName

VERSION = 1
VariableKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,128}$")]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ScheduleSpec(Spec):
    """When an event or a workflow runs by itself (left out: never, `manual`)."""

    type: ScheduleType = ScheduleType.manual
    cron_expression: CronText | None = Field(default=None, alias="cronExpression")
    interval_seconds: int | None = Field(default=None, ge=1, le=INT32_MAX, alias="intervalSeconds")
    run_at: ScheduleDate | None = Field(default=None, alias="runAt")
    timezone: Annotated[str, StringConstraints(max_length=64)] = "UTC"
    start_at: ScheduleDate | None = Field(default=None, alias="startAt")
    max_executions: RunLimit = Field(default=0, alias="maxExecutions")
    misfire_policy: Literal["skip", "run_once", "run_all"] = Field(default="run_once", alias="misfirePolicy")
    overlap_policy: Literal["allow", "skip", "queue"] = Field(default="skip", alias="overlapPolicy")

    def api_fields(self) -> dict[str, Any]:
        """The API's (flat) schedule fields."""
        return {
            "scheduleType": self.type.value, "cronExpression": self.cron_expression,
            "intervalSeconds": self.interval_seconds, "runAt": self.run_at, "timezone": self.timezone,
            "startAt": self.start_at, "maxExecutions": self.max_executions,
            "misfirePolicy": self.misfire_policy, "overlapPolicy": self.overlap_policy,
        }


class EventSpec(Spec):
    name: Name
    type: EventType
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    status: EventStatus = EventStatus.active
    script: str = ""
    http_request: HttpRequestSpec | None = Field(default=None, alias="httpRequest")
    # Left out: the server's defaults (CRONIUM_JOB_DEFAULT_*).
    timeout_seconds: int | None = Field(default=None, ge=1, le=INT32_MAX, alias="timeoutSeconds")
    retries: int = Field(default=0, ge=0, le=INT32_MAX)
    cpus: float | None = Field(default=None, ge=MIN_CPUS, le=1024, allow_inf_nan=False)
    memory_mb: int | None = Field(default=None, ge=16, le=INT32_MAX, alias="memoryMb")
    pids_limit: int | None = Field(default=None, ge=8, le=INT32_MAX, alias="pidsLimit")
    max_concurrent: int = Field(default=0, ge=0, le=10_000, alias="maxConcurrent")
    priority: int = Field(default=0, ge=-PRIORITY_RANGE, le=PRIORITY_RANGE)
    # Left out: the instance's default (CRONIUM_RETENTION_DAYS), no limit by count.
    retention_days: int | None = Field(default=None, ge=1, le=36_500, alias="retentionDays")
    retention_runs: int | None = Field(default=None, ge=1, le=1_000_000, alias="retentionRuns")
    network: Network = Network.none
    env_vars: dict[EnvName, EnvValue] = Field(default_factory=dict, alias="envVars", max_length=200)
    # References: the names of secret environment variables. Their values
    # are set through the API or the UI; apply never writes or clears one.
    secret_env_var_names: list[EnvName] = Field(default_factory=list, alias="secretEnvVarNames", max_length=200)
    image: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    servers: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=100, description="Names of the servers it runs on"
    )
    server_tags: list[Tag] = Field(default_factory=list, alias="serverTags", max_length=20)
    remote_docker: bool = Field(default=False, alias="remoteDocker")
    schedule: ScheduleSpec = Field(default_factory=ScheduleSpec)
    # Conditional actions (what to do when a run succeeds or fails), one
    # item each, once the server has them; none can be stated yet.
    actions: list[Any] = Field(default_factory=list, max_length=0)


class StepSpec(Spec):
    name: StepName
    event: Name = Field(description="The name of the event the step runs")
    position: dict[str, float] | None = None


class EdgeSpec(Spec):
    from_step: StepName = Field(alias="from")
    to_step: StepName = Field(alias="to")
    condition: EdgeCondition = EdgeCondition.on_success
    value: bool = True


class WorkflowSpec(Spec):
    name: Name
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    status: Literal["active", "paused", "archived"] = "active"
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    steps: list[StepSpec] = Field(min_length=1, max_length=100)
    edges: list[EdgeSpec] = Field(default_factory=list, max_length=500)
    schedule: ScheduleSpec = Field(default_factory=ScheduleSpec)


class VariableSpec(Spec):
    key: VariableKey
    value: Any = None
    secret: bool = Field(default=False, description="A reference: a secret variable's value is never written")

    @model_validator(mode="after")
    def _no_secret_value(self) -> "VariableSpec":
        if self.secret and self.value is not None:
            raise ValueError("a secret variable is a reference: leave its value out (set it with "
                             "`cronium variables set KEY VALUE --secret`, the API or the UI)")
        return self


class Document(Spec):
    version: Literal[1]
    variables: list[VariableSpec] = Field(default_factory=list, max_length=10_000)
    events: list[EventSpec] = Field(default_factory=list, max_length=10_000)
    workflows: list[WorkflowSpec] = Field(default_factory=list, max_length=10_000)

