"""Tools (a user's saved integrations), the conditional actions on events,
what those actions did for each job, and webhook triggers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cronium_app.models.types import SECRET, json_field
from cronium_app.models.workspaces import workspace_column
from cronium_app.timeutil import utcnow


def _user_column() -> Any:
    return Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False))


class Tool(SQLModel, table=True):
    """A Slack, Discord or Teams hook, a webhook or an email account.
    `credentials` is sealed (`cronium_app.sealing`, TOOL_CREDENTIALS): the
    hook URL, headers, signing secret or password; `config` holds the rest."""

    __tablename__ = "tools"
    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "name", name="uq_tools_workspace_name"),
        sa.Index("idx_tools_user", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _user_column()
    workspace_id: int = workspace_column()
    name: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    config: dict[str, Any] = json_field(nullable=False, default_factory=dict)
    credentials: str = Field(sa_column=sa.Column(sa.Text, nullable=False, info=SECRET))
    last_tested_at: datetime | None = None
    last_test_ok: bool | None = None
    last_test_message: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, nullable=False)


class EventAction(SQLModel, table=True):
    """What to do when a job of an event ends: send a message through a
    tool, or run another event with the job's output as its input. The
    alert state (failing, alerted, last_alert_at) is the action's own."""

    __tablename__ = "event_actions"
    __table_args__ = (sa.Index("idx_event_actions_event", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _user_column()
    event_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False)
    )
    # success | failure | always | condition
    trigger: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    # For trigger "condition": fire when the job's set_condition value is this.
    condition_value: bool = Field(default=True, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true()))
    # message | run_event
    kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    tool_id: int | None = Field(
        default=None, sa_column=sa.Column(sa.Integer, sa.ForeignKey("tools.id", ondelete="SET NULL"), nullable=True)
    )
    # The message's field templates ({} or a field left out: the default message).
    templates: dict[str, str] = json_field(nullable=False, default_factory=dict, server_default="{}")
    target_event_id: int | None = Field(
        default=None, sa_column=sa.Column(sa.Integer, sa.ForeignKey("events.id", ondelete="SET NULL"), nullable=True)
    )
    enabled: bool = Field(default=True, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true()))
    # At most one failure alert per this many seconds (0: every failure).
    alert_window_seconds: int = Field(default=3600, sa_column=sa.Column(sa.Integer, nullable=False, server_default="3600"))
    # Triggers "late" / "long_running" (jobs/late_runs.py): after how many seconds.
    threshold_seconds: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    failing: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()))
    alerted: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()))
    last_alert_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, nullable=False)


class JobAction(SQLModel, table=True):
    """One conditional action considered when a job ended, and what became
    of it: a job it queued (`result_job_id`), or why it did not."""

    __tablename__ = "job_actions"
    __table_args__ = (
        sa.Index("idx_job_actions_job", "job_id"),
        sa.Index("idx_job_actions_result", "result_job_id"),
    )

    id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    )
    user_id: int = _user_column()
    job_id: str = Field(
        sa_column=sa.Column(sa.String(40), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False)
    )
    action_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("event_actions.id", ondelete="SET NULL"), nullable=True),
    )
    kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    # alert | recovered | message | run_event
    purpose: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    # queued | suppressed | refused
    outcome: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    message: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    result_job_id: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(40), sa.ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True)
    )
    # How many actions led to this one's job (a guard against loops of events).
    depth: int = Field(default=1, nullable=False)
    created_at: datetime = Field(default_factory=utcnow, nullable=False)


class WebhookTrigger(SQLModel, table=True):
    """A secret URL that starts an event or a workflow. Only the secret's
    SHA-256 is kept; the signing secret (for HMAC checks) is sealed."""

    __tablename__ = "webhook_triggers"
    __table_args__ = (
        sa.Index("idx_webhook_triggers_user", "user_id"),
        sa.Index("idx_webhook_triggers_workspace", "workspace_id"),
    )

    id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    user_id: int = _user_column()
    workspace_id: int = workspace_column()
    event_id: int | None = Field(
        default=None, sa_column=sa.Column(sa.Integer, sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=True)
    )
    workflow_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("workflows.id", ondelete="CASCADE"), nullable=True),
    )
    name: str = Field(default="", sa_column=sa.Column(sa.String(100), nullable=False))
    secret_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, info=SECRET))
    signing_secret: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True, info=SECRET))
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    rotated_at: datetime | None = None
    last_used_at: datetime | None = None
