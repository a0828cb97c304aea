"""tools, conditional actions, their results per job, webhook triggers;
events.tool_action for `tool` events

Revision ID: 0010
Revises: 0009
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

from cronium_app.models.types import JSONDocument

revision: str = "0010"
down_revision: Union[str, None] = "0009"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _user_id() -> sa.Column:
    return sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("events") as batch_op:
        batch_op.add_column(sa.Column("tool_action", JSONDocument(), nullable=True))
    op.create_table(
        "tools",
        sa.Column("id", sa.Integer(), primary_key=True),
        _user_id(),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("config", JSONDocument(), nullable=False),
        sa.Column("credentials", sa.Text(), nullable=False),
        sa.Column("last_tested_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_test_ok", sa.Boolean(), nullable=True),
        sa.Column("last_test_message", sa.Text(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("user_id", "name", name="uq_tools_user_name"),
    )
    op.create_table(
        "event_actions",
        sa.Column("id", sa.Integer(), primary_key=True),
        _user_id(),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("condition_value", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("tool_id", sa.Integer(), sa.ForeignKey("tools.id", ondelete="SET NULL"), nullable=True),
        sa.Column("templates", JSONDocument(), nullable=False, server_default="{}"),
        sa.Column("target_event_id", sa.Integer(), sa.ForeignKey("events.id", ondelete="SET NULL"), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("alert_window_seconds", sa.Integer(), nullable=False, server_default="3600"),
        sa.Column("failing", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("alerted", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("last_alert_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index("idx_event_actions_event", "event_actions", ["event_id"])
    op.create_table(
        "job_actions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        _user_id(),
        sa.Column("job_id", sa.String(40), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("action_id", sa.Integer(), sa.ForeignKey("event_actions.id", ondelete="SET NULL"), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("result_job_id", sa.String(40), sa.ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index("idx_job_actions_job", "job_actions", ["job_id"])
    op.create_index("idx_job_actions_result", "job_actions", ["result_job_id"])
    op.create_table(
        "webhook_triggers",
        sa.Column("id", sa.String(40), primary_key=True),
        _user_id(),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=True),
        sa.Column("workflow_id", sa.Integer(), sa.ForeignKey("workflows.id", ondelete="CASCADE"), nullable=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("signing_secret", sa.Text(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("rotated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )
    op.create_index("idx_webhook_triggers_user", "webhook_triggers", ["user_id"])


def downgrade() -> None:
    # Tool events cannot run without their tools: they go with them.
    op.execute("DELETE FROM events WHERE type = 'tool'")
    op.drop_index("idx_webhook_triggers_user", table_name="webhook_triggers")
    op.drop_table("webhook_triggers")
    op.drop_index("idx_job_actions_result", table_name="job_actions")
    op.drop_index("idx_job_actions_job", table_name="job_actions")
    op.drop_table("job_actions")
    op.drop_index("idx_event_actions_event", table_name="event_actions")
    op.drop_table("event_actions")
    op.drop_table("tools")
    with op.batch_alter_table("events") as batch_op:
        batch_op.drop_column("tool_action")
