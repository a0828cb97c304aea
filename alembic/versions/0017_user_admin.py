"""Instance user administration: a user can be disabled (users.disabled_at)
and shows when it last signed in (users.last_sign_in_at); invitations and
password-reset links are single-use, expiring, and stored only as the
SHA-256 of their token.

Revision ID: 0017
Revises: 0016
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0017"
down_revision: Union[str, None] = "0016"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.UTCDateTime(), nullable=nullable)


def _link_columns() -> list[sa.Column]:
    """What invitations and reset links share: the token's hash, who made
    the link, when, until when, and when it was used or withdrawn."""
    return [
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        _when("created_at", nullable=False),
        _when("expires_at", nullable=False),
        _when("used_at"),
        _when("revoked_at"),
    ]


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(_when("disabled_at"))
        batch_op.add_column(_when("last_sign_in_at"))
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        *_link_columns(),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_index("idx_invitations_email", "invitations", ["email"])
    op.create_table(
        "password_resets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        *_link_columns(),
    )
    op.create_index("idx_password_resets_user", "password_resets", ["user_id"])


def downgrade() -> None:
    op.drop_index("idx_password_resets_user", table_name="password_resets")
    op.drop_table("password_resets")
    op.drop_index("idx_invitations_email", table_name="invitations")
    op.drop_table("invitations")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("last_sign_in_at")
        batch_op.drop_column("disabled_at")
