"""token scopes and where events and workflows come from

- api_tokens.scopes: what a token may do, space-separated (`mcp`: only the
  MCP endpoint, /api/mcp). NULL, as on every token made before: full access.
- events.source, workflows.source: what created the row (`mcp` for the MCP
  server's tools; NULL: the API, the UI or a document applied as code).

Revision ID: 0015
Revises: 0014
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: Union[str, None] = "0014"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.add_column(sa.Column("scopes", sa.String(200), nullable=True))
    for table in ("events", "workflows"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("source", sa.String(16), nullable=True))


def downgrade() -> None:
    # A scoped token must not come out of a downgrade with full access.
    op.execute("DELETE FROM api_tokens WHERE scopes IS NOT NULL")
    for table in ("workflows", "events"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("source")
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.drop_column("scopes")
