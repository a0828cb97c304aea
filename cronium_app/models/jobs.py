from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cronium_app.models.types import json_field
from cronium_app.models.workspaces import workspace_column
from cronium_app.timeutil import utcnow


class Job(SQLModel, table=True):
    __tablename__ = "jobs"
    __table_args__ = (
        sa.Index("idx_jobs_status", "status"),
        sa.Index("idx_jobs_user_id", "user_id"),
        sa.Index("idx_jobs_created_at", "created_at"),
        # The claim query: pending jobs by priority, then age.
        sa.Index("idx_jobs_queue", "status", "priority", "created_at"),
        # The sweeper: held jobs whose lease ran out.
        sa.Index("idx_jobs_lease", "status", "lease_expires_at"),
        # A user's job list, newest first (keyset pagination).
        sa.Index("idx_jobs_user_created", "user_id", "created_at", "id"),
        # A workspace's job list, newest first (keyset pagination).
        sa.Index("idx_jobs_workspace_created", "workspace_id", "created_at", "id"),
        sa.Index("idx_jobs_event_id", "event_id"),
        sa.Index("idx_jobs_workflow_id", "workflow_id"),
        sa.Index("idx_jobs_workflow_run_id", "workflow_run_id"),
        # The scheduler's overlap check: does this event have a run going?
        sa.Index("idx_jobs_event_status", "event_id", "status"),
    )

    id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    event_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("events.id", ondelete="SET NULL"), nullable=True),
    )
    workflow_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("workflows.id", ondelete="SET NULL"), nullable=True),
    )
    workflow_run_id: str | None = Field(
        default=None,
        sa_column=sa.Column(sa.String(40), sa.ForeignKey("workflow_runs.id", ondelete="CASCADE"), nullable=True),
    )
    workflow_step_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("workflow_steps.id", ondelete="SET NULL"), nullable=True),
    )
    type: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    execution: dict[str, Any] = json_field(nullable=False, default_factory=dict)
    result: dict[str, Any] | None = json_field()
    user_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    # `user_id` is who started it (or whose event the scheduler fired): the
    # per-user running limit and queue quota count by it. The workspace scopes it.
    workspace_id: int = workspace_column()
    worker_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(128), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    acknowledged_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    # Queue bookkeeping.
    attempt: int = Field(default=0, nullable=False)
    lease_expires_at: datetime | None = None
    priority: int = Field(default=0, nullable=False)
    scheduled_for: datetime | None = None
    idempotency_key: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(255), nullable=True, unique=True)
    )
    cancel_requested_at: datetime | None = None
    exit_code: int | None = None
    error: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    # Set by the script through the runtime API (set_condition); workflow
    # edges of kind on_condition follow it.
    condition: bool | None = None
    input: Any = json_field()
    output: Any = json_field()
    # Retries (cronium_app/jobs/retry.py): the failed job this one re-runs,
    # and how many retries came before it plus one (0 for a first run).
    retry_of: str | None = Field(default=None, sa_column=sa.Column(sa.String(40), nullable=True))
    retry_number: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0"))
    updated_at: datetime = Field(default_factory=utcnow, nullable=False)
