"""workers: the workers the app has heard from, for the Workers page

Revision ID: 0009
Revises: 0008
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

from cronium_app.models.types import JSONDocument

revision: str = "0009"
down_revision: Union[str, None] = "0008"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("engine_version", sa.String(length=64), nullable=True),
        sa.Column("engine_host", sa.String(length=255), nullable=True),
        sa.Column("concurrency", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=True),
        sa.Column("pool", JSONDocument(), nullable=True),
        sa.Column("first_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("idx_workers_last_seen", "workers", ["last_seen_at"])


def downgrade() -> None:
    op.drop_index("idx_workers_last_seen", table_name="workers")
    op.drop_table("workers")
