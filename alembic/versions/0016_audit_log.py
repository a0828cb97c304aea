"""audit log

- audit_entries: who changed or did what, when, from where
  (cronium_app/audit), with a nullable workspace_id for later.
- Append-only: a trigger refuses every UPDATE of an entry. On PostgreSQL
  another refuses every DELETE unless the transaction set
  `cronium.audit_cleaner` (only the retention cleaner does,
  cronium_app/audit/retention.py), and TRUNCATE too.

Revision ID: 0016
Revises: 0015
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

from cronium_app.models.types import JSONDocument

revision: str = "0016"
down_revision: Union[str, None] = "0015"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

REFUSAL = "audit entries are append-only"

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
    BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END""",
]
POSTGRES_TRIGGERS = [
    f"""CREATE FUNCTION cronium_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND current_setting('cronium.audit_cleaner', true) = 'on' THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'insufficient_privilege';
    END $$""",
    """CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION cronium_audit_append_only()""",
    """CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION cronium_audit_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_email", sa.String(320), nullable=True),
        sa.Column("actor_kind", sa.String(16), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("client_ip", sa.String(64), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_kind", sa.String(32), nullable=True),
        sa.Column("target_id", sa.String(64), nullable=True),
        sa.Column("target_label", sa.String(200), nullable=True),
        sa.Column("changes", JSONDocument(), nullable=True),
        sa.Column("workspace_id", sa.Integer(), nullable=True),
    )
    op.create_index("idx_audit_entries_at", "audit_entries", ["at"])
    op.create_index("idx_audit_entries_actor", "audit_entries", ["actor_user_id", "id"])
    op.create_index("idx_audit_entries_action", "audit_entries", ["action", "id"])
    op.create_index("idx_audit_entries_workspace", "audit_entries", ["workspace_id", "id"])
    for statement in SQLITE_TRIGGERS if _sqlite() else POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if _sqlite():
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_truncate ON audit_entries")
        op.execute("DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION IF EXISTS cronium_audit_append_only()")
    op.drop_table("audit_entries")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"
