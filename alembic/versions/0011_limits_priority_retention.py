"""per-event concurrency limit, priority and history retention

- events.max_concurrent: jobs of the event running at once (0: no limit).
- events.priority: the priority its jobs get (an execute call may set its own).
- events.retention_days / retention_runs: how much history to keep (NULL:
  the instance default).
- retention_passes: what each pass of the history cleaner did.

Revision ID: 0011
Revises: 0008
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: Union[str, None] = "0008"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch_op:
        batch_op.add_column(sa.Column("max_concurrent", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("retention_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("retention_runs", sa.Integer(), nullable=True))
    op.create_table(
        "retention_passes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("jobs_deleted", sa.Integer(), nullable=False),
        sa.Column("runs_deleted", sa.Integer(), nullable=False),
        sa.Column("lines_deleted", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("error", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("retention_passes")
    with op.batch_alter_table("events") as batch_op:
        for column in ("retention_runs", "retention_days", "priority", "max_concurrent"):
            batch_op.drop_column(column)
