"""API shapes of a schedule: the fields a workflow carries (events carry
the same ones in `EventFields`), and the body of a draft-schedule preview."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from cronium_app.models import ScheduleType
from cronium_app.scheduler.triggers import ScheduleSpec
from cronium_app.timeutil import as_utc

CronText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)]


def max_executions_not_negative(value: Any) -> Any:
    """A clearer message than the generic bound (runs before it)."""
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        raise ValueError(f"must be 0 (no limit) or a positive number of runs; got {value}")
    return value


class ScheduleTimes(BaseModel):
    """When a schedule fires (what a preview needs)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schedule_type: ScheduleType = Field(default=ScheduleType.manual, alias="scheduleType")
    cron_expression: CronText | None = Field(default=None, alias="cronExpression")
    interval_seconds: int | None = Field(default=None, ge=1, alias="intervalSeconds")
    run_at: datetime | None = Field(default=None, alias="runAt")
    timezone: Annotated[str, StringConstraints(max_length=64)] = "UTC"
    start_at: datetime | None = Field(default=None, alias="startAt")

    def spec(self) -> ScheduleSpec:
        return ScheduleSpec(
            type=self.schedule_type.value,
            cron_expression=self.cron_expression,
            interval_seconds=self.interval_seconds,
            run_at=as_utc(self.run_at) if self.run_at else None,
            timezone=self.timezone,
            start_at=as_utc(self.start_at) if self.start_at else None,
        )


class ScheduleFields(ScheduleTimes):
    """Every schedule field, with its default (manual: no schedule)."""

    max_executions: int = Field(default=0, ge=0, alias="maxExecutions")
    misfire_policy: Literal["skip", "run_once", "run_all"] = Field(default="run_once", alias="misfirePolicy")
    overlap_policy: Literal["allow", "skip", "queue"] = Field(default="skip", alias="overlapPolicy")

    _max_executions = field_validator("max_executions", mode="before")(max_executions_not_negative)

    def row_values(self) -> dict[str, Any]:
        """The values to set on a row's schedule columns."""
        spec = self.spec()
        return {
            "schedule_type": spec.type,
            "cron_expression": spec.cron_expression,
            "interval_seconds": spec.interval_seconds,
            "run_at": spec.run_at,
            "timezone": spec.timezone,
            "start_at": spec.start_at,
            "max_executions": self.max_executions,
            "misfire_policy": self.misfire_policy,
            "overlap_policy": self.overlap_policy,
        }


class PreviewIn(ScheduleTimes):
    count: int = Field(default=5, ge=1, le=50)
