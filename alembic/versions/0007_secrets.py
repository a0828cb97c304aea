"""secret environment variables on events; secret variables

- events.secret_env: the secret variables' values, sealed together with a
  key derived from SECRET_KEY; events.secret_env_names: their names.
- variables.secret, variables.sealed_value: a secret variable's value is
  sealed, and `value` stays NULL.

Revision ID: 0007
Revises: 0006
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from cronium_app.models.types import JSONDocument

revision: str = "0007"
down_revision: Union[str, None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch_op:
        batch_op.add_column(sa.Column("secret_env", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("secret_env_names", JSONDocument(), nullable=False, server_default="[]"))
    with op.batch_alter_table("variables") as batch_op:
        batch_op.add_column(sa.Column("secret", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("sealed_value", sa.Text(), nullable=True))


def downgrade() -> None:
    # Secret values cannot become plain ones: they are dropped with their
    # columns (secret variables lose their value, which stays NULL).
    with op.batch_alter_table("variables") as batch_op:
        batch_op.drop_column("sealed_value")
        batch_op.drop_column("secret")
    with op.batch_alter_table("events") as batch_op:
        batch_op.drop_column("secret_env_names")
        batch_op.drop_column("secret_env")
