"""jobs.orchestrator_id is the id of the worker holding the job: worker_id

Revision ID: 0005
Revises: 0004
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0005"
down_revision: Union[str, None] = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # A plain RENAME COLUMN on both databases (SQLite has it since 3.25):
    # no table copy, so a large jobs table is renamed at once.
    op.alter_column("jobs", "orchestrator_id", new_column_name="worker_id")


def downgrade() -> None:
    op.alter_column("jobs", "worker_id", new_column_name="orchestrator_id")
