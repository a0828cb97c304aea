"""users.theme: the colour theme the user picked in the web UI ("system"
follows the browser's prefers-color-scheme; "light" or "dark" hold). Kept on
the account, not in one browser's storage, so it follows the user to every
browser they sign in from.

Revision ID: 0018
Revises: 0017
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: Union[str, None] = "0017"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("theme", sa.String(8), nullable=False, server_default="system"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("theme")
