"""late and long-running run alerts

- event_actions.threshold_seconds: for the triggers "late" (no successful
  run in that long) and "long_running" (a run still going after that long).

Revision ID: 0012
Revises: 0011
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: Union[str, None] = "0011"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("event_actions") as batch_op:
        batch_op.add_column(sa.Column("threshold_seconds", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM event_actions WHERE trigger IN ('late', 'long_running')")
    with op.batch_alter_table("event_actions") as batch_op:
        batch_op.drop_column("threshold_seconds")
