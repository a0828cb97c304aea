"""The schedule columns events and workflows share, declared once.

Both tables carry a schedule (what fires when) and the scheduler's state for
it. `ScheduleColumns` is a non-table SQLModel base: each table class that
inherits it gets its own copy of every column. The columns are described by
`sa_type` rather than `sa_column=`, because a `Column` object belongs to
exactly one table and would be shared by both subclasses.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class ScheduleType(str, Enum):
    manual = "manual"
    cron = "cron"
    interval = "interval"
    once = "once"


class ScheduleColumns(SQLModel):
    """Schedule fields; the scheduler (cronium_app/scheduler) decides what they mean."""

    schedule_type: str = Field(default=ScheduleType.manual.value, sa_type=sa.String(16), nullable=False)
    cron_expression: str | None = Field(default=None, sa_type=sa.String(120))
    interval_seconds: int | None = None
    run_at: datetime | None = None
    timezone: str = Field(default="UTC", sa_type=sa.String(64), nullable=False)
    start_at: datetime | None = None
    max_executions: int = Field(default=0, nullable=False)
    execution_count: int = Field(default=0, nullable=False)
    misfire_policy: str = Field(default="run_once", sa_type=sa.String(16), nullable=False)
    overlap_policy: str = Field(default="skip", sa_type=sa.String(16), nullable=False)
    # The scheduler's state: the next fire time (NULL when the schedule does
    # not fire: manual, not active, used up), and a fire time waiting for the
    # previous run to end (overlap policy "queue").
    next_fire_at: datetime | None = None
    queued_fire_at: datetime | None = None


def schedule_indexes(table: str) -> tuple[sa.Index, ...]:
    """The indexes of `table`'s scheduler state: the scheduler's due query
    reads next_fire_at, its overlap-queue check queued_fire_at."""
    return (
        sa.Index(f"idx_{table}_next_fire_at", "next_fire_at"),
        sa.Index(f"idx_{table}_queued_fire_at", "queued_fire_at"),
    )
