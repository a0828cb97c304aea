"""Shapes of workflow definitions. Steps are named; edges name their ends."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cronium_app.bounds import RowId
from cronium_app.schedules.schemas import ScheduleFields

StepName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class EdgeCondition(str, Enum):
    always = "always"  # the parent finished, whatever its outcome
    on_success = "on_success"
    on_failure = "on_failure"  # failed or timed out
    on_condition = "on_condition"  # the parent's set_condition value equals `value`


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: StepName
    event_id: RowId = Field(alias="eventId")
    position: dict[str, float] | None = None


class EdgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_step: StepName = Field(alias="from")
    to_step: StepName = Field(alias="to")
    condition: EdgeCondition = EdgeCondition.on_success
    # For on_condition edges: follow when the parent set this value.
    value: bool = True


class WorkflowIn(ScheduleFields):
    """A whole definition (PUT replaces it), its schedule fields included:
    leaving them out means no schedule (manual)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    status: Annotated[str, StringConstraints(pattern="^(active|paused|archived)$")] = "active"
    steps: list[StepIn] = Field(min_length=1, max_length=100)
    edges: list[EdgeIn] = Field(default_factory=list, max_length=500)
    tags: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]] = Field(
        default_factory=list, max_length=50
    )
