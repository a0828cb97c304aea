"""Workflow tables. The workflow engine fills them in; defined here so that
the schema's migrations stay one straight line."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cronium_app.models.schedule import ScheduleColumns, schedule_indexes
from cronium_app.models.types import json_field
from cronium_app.models.workspaces import workspace_column
from cronium_app.timeutil import utcnow


class Workflow(ScheduleColumns, table=True):
    __tablename__ = "workflows"
    __table_args__ = (
        sa.Index("idx_workflows_user_id", "user_id"),
        sa.Index("idx_workflows_workspace", "workspace_id"),
        *schedule_indexes("workflows"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    workspace_id: int = workspace_column()
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    description: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    status: str = Field(default="active", sa_column=sa.Column(sa.String(16), nullable=False))
    tags: list[str] = json_field(nullable=False, default_factory=list)
    # What created it: "mcp" (the MCP server's tools); None: the API, the UI, as code.
    source: str | None = Field(default=None, sa_column=sa.Column(sa.String(16), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, nullable=False)


class WorkflowStep(SQLModel, table=True):
    __tablename__ = "workflow_steps"
    __table_args__ = (sa.UniqueConstraint("workflow_id", "name", name="uq_workflow_steps_name"),)

    id: int | None = Field(default=None, primary_key=True)
    workflow_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("workflows.id", ondelete="CASCADE"), nullable=False)
    )
    event_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False)
    )
    name: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    position: dict[str, Any] | None = json_field()


class WorkflowEdge(SQLModel, table=True):
    __tablename__ = "workflow_edges"

    id: int | None = Field(default=None, primary_key=True)
    workflow_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("workflows.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    from_step_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("workflow_steps.id", ondelete="CASCADE"), nullable=False)
    )
    to_step_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("workflow_steps.id", ondelete="CASCADE"), nullable=False)
    )
    condition: str = Field(default="always", sa_column=sa.Column(sa.String(16), nullable=False))


class WorkflowRun(SQLModel, table=True):
    __tablename__ = "workflow_runs"
    __table_args__ = (
        sa.Index("idx_workflow_runs_workflow", "workflow_id", "created_at"),
        sa.Index("idx_workflow_runs_workspace", "workspace_id"),
    )

    id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    # NULL once the workflow is deleted: its runs (and their jobs) stay.
    workflow_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("workflows.id", ondelete="SET NULL"), nullable=True),
    )
    user_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    workspace_id: int = workspace_column()
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    input: Any = json_field()
    # The graph the run follows, frozen when it started (see jobs.run_state);
    # NULL for runs started before migration 0006.
    graph: dict[str, Any] | None = json_field()
    idempotency_key: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(255), nullable=True, unique=True)
    )
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    completed_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow, nullable=False)
