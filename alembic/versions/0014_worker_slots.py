"""Workers' job slots move onto the `workers` row: `worker_presence` (from
0013) kept a second row per worker with its slots and when it was last heard
from, which `workers` already has. Each worker's slots and latest sighting
are carried over; a worker only `worker_presence` knew (it claimed but sent
no heartbeat yet) gets a `workers` row.

Revision ID: 0014
Revises: 0013
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: Union[str, None] = "0013"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("workers") as batch:
        batch.add_column(sa.Column("slots_used", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("slots_total", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE workers SET slots_used = p.slots_used, slots_total = p.slots_total, "
        "last_seen_at = CASE WHEN p.last_seen_at > workers.last_seen_at THEN p.last_seen_at ELSE workers.last_seen_at END "
        "FROM worker_presence AS p WHERE p.worker_id = workers.id"
    )
    op.execute(
        "INSERT INTO workers (id, slots_used, slots_total, first_seen_at, last_seen_at) "
        "SELECT worker_id, slots_used, slots_total, last_seen_at, last_seen_at FROM worker_presence "
        "WHERE worker_id NOT IN (SELECT id FROM workers)"
    )
    op.drop_index("idx_worker_presence_seen", table_name="worker_presence")
    op.drop_table("worker_presence")


def downgrade() -> None:
    op.create_table(
        "worker_presence",
        sa.Column("worker_id", sa.String(128), primary_key=True),
        sa.Column("slots_total", sa.Integer(), nullable=False),
        sa.Column("slots_used", sa.Integer(), nullable=False),
        sa.Column("last_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index("idx_worker_presence_seen", "worker_presence", ["last_seen_at"])
    op.execute(
        "INSERT INTO worker_presence (worker_id, slots_total, slots_used, last_seen_at) "
        "SELECT id, slots_total, slots_used, last_seen_at FROM workers WHERE slots_total IS NOT NULL"
    )
    with op.batch_alter_table("workers") as batch:
        batch.drop_column("slots_total")
        batch.drop_column("slots_used")
