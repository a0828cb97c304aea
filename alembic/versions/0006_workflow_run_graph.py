"""workflow runs keep the graph they started with, and outlive their workflow

- workflow_runs.graph: the steps, edges and each step's execution spec as
  they were when the run started; the run follows it to the end, whatever
  happens to the workflow or its events meanwhile (NULL for older runs,
  which follow the current graph).
- workflow_runs.workflow_id: nullable, ON DELETE SET NULL (was CASCADE), so
  deleting a workflow neither deletes its history nor stops the runs (and
  their jobs) that are going.

Revision ID: 0006
Revises: 0005
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from cronium_app.models.types import JSONDocument

revision: str = "0006"
down_revision: Union[str, None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# SQLite's foreign keys have no names: batch mode names them by this rule
# when it copies the table, so the old one can be dropped by name.
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
SQLITE_FK = "fk_workflow_runs_workflow_id_workflows"
POSTGRES_FK = "workflow_runs_workflow_id_fkey"


def _workflow_fk(ondelete: str, nullable: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("workflow_runs", recreate="always", naming_convention=NAMING) as batch_op:
            batch_op.drop_constraint(SQLITE_FK, type_="foreignkey")
            batch_op.alter_column("workflow_id", existing_type=sa.Integer(), nullable=nullable)
            batch_op.create_foreign_key(SQLITE_FK, "workflows", ["workflow_id"], ["id"], ondelete=ondelete)
        return
    op.drop_constraint(POSTGRES_FK, "workflow_runs", type_="foreignkey")
    op.alter_column("workflow_runs", "workflow_id", existing_type=sa.Integer(), nullable=nullable)
    op.create_foreign_key(POSTGRES_FK, "workflow_runs", "workflows", ["workflow_id"], ["id"], ondelete=ondelete)


def upgrade() -> None:
    op.add_column("workflow_runs", sa.Column("graph", JSONDocument(), nullable=True))
    _workflow_fk("SET NULL", nullable=True)


def downgrade() -> None:
    # Runs of deleted workflows cannot point anywhere under the old schema.
    op.execute("DELETE FROM workflow_runs WHERE workflow_id IS NULL")
    _workflow_fk("CASCADE", nullable=False)
    with op.batch_alter_table("workflow_runs") as batch_op:
        batch_op.drop_column("graph")
