"""Metrics: jobs counted by status and type from an index alone, and a row
per worker with its job slots (cronium_app/metrics).

Revision ID: 0009
Revises: 0008
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: Union[str, None] = "0008"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index("idx_jobs_status_type", "jobs", ["status", "type"])
    op.create_table(
        "worker_presence",
        sa.Column("worker_id", sa.String(128), primary_key=True),
        sa.Column("slots_total", sa.Integer(), nullable=False),
        sa.Column("slots_used", sa.Integer(), nullable=False),
        sa.Column("last_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index("idx_worker_presence_seen", "worker_presence", ["last_seen_at"])


def downgrade() -> None:
    op.drop_index("idx_worker_presence_seen", table_name="worker_presence")
    op.drop_table("worker_presence")
    op.drop_index("idx_jobs_status_type", table_name="jobs")
