"""API shapes of a schedule: the fields a workflow carries (events carry
the same ones in `EventFields`), and the body of a draft-schedule preview."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from cronium_app.models import ScheduleType
from cronium_app.schedules.triggers import ScheduleSpec
from cronium_app.timeutil import as_utc

CronText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)]
# A run limit is stored in a 32-bit integer column.
MAX_RUN_LIMIT = 2**31 - 1
# Dates stay well inside what datetime can hold: fire-time arithmetic (a
# cron's next match, an interval's next step, the UTC offset) adds to them.
LAST_YEAR = 8999


def max_executions_in_range(value: Any) -> Any:
    """Clearer messages than the generic bounds (runs before them)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"must be 0 (no limit) or a positive number of runs; got {value}")
        if value > MAX_RUN_LIMIT:
            raise ValueError(f"must be at most {MAX_RUN_LIMIT} runs, or 0 for no limit; got {value}")
    return value


def schedule_date_in_range(value: datetime) -> datetime:
    try:
        year = as_utc(value).year
    except OverflowError:  # a zone offset that crosses year 1 or 9999
        year = 0
    if not 1 <= year <= LAST_YEAR:
        raise ValueError(f"must be a date from the year 1 to {LAST_YEAR}; got {value.isoformat()}")
    return value


RunLimit = Annotated[int, BeforeValidator(max_executions_in_range), Field(ge=0)]
ScheduleDate = Annotated[datetime, AfterValidator(schedule_date_in_range)]


class ScheduleTimes(BaseModel):
    """When a schedule fires (what a preview needs)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schedule_type: ScheduleType = Field(default=ScheduleType.manual, alias="scheduleType")
    cron_expression: CronText | None = Field(default=None, alias="cronExpression")
    interval_seconds: int | None = Field(default=None, ge=1, alias="intervalSeconds")
    run_at: ScheduleDate | None = Field(default=None, alias="runAt")
    timezone: Annotated[str, StringConstraints(max_length=64)] = "UTC"
    start_at: ScheduleDate | None = Field(default=None, alias="startAt")

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

    max_executions: RunLimit = Field(default=0, alias="maxExecutions")
    misfire_policy: Literal["skip", "run_once", "run_all"] = Field(default="run_once", alias="misfirePolicy")
    overlap_policy: Literal["allow", "skip", "queue"] = Field(default="skip", alias="overlapPolicy")

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
