"""scheduler state on events and workflows; retries on jobs

- events, workflows: next_fire_at (the scheduler's due query reads it),
  queued_fire_at (a fire time waiting for the previous run: overlap "queue").
- jobs: retry_of, retry_number (a retry is a new job that names the failed one);
  idx_jobs_event_status for the scheduler's "is a run of this event going?".

Revision ID: 0003
Revises: 0002
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: Union[str, None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    for table in ("events", "workflows"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("next_fire_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
            batch_op.add_column(sa.Column("queued_fire_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
            batch_op.create_index(f"idx_{table}_next_fire_at", ["next_fire_at"], unique=False)
            batch_op.create_index(f"idx_{table}_queued_fire_at", ["queued_fire_at"], unique=False)
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retry_of", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("retry_number", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_index("idx_jobs_event_status", ["event_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("idx_jobs_event_status")
        batch_op.drop_column("retry_number")
        batch_op.drop_column("retry_of")
    for table in ("workflows", "events"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"idx_{table}_queued_fire_at")
            batch_op.drop_index(f"idx_{table}_next_fire_at")
            batch_op.drop_column("queued_fire_at")
            batch_op.drop_column("next_fire_at")
