"""workspaces, their members' roles, and workspace-scoped API tokens

- workspaces, workspace_members (role: owner | editor | runner | viewer).
- Every existing user gets a personal workspace (slug `personal-<user id>`)
  and owns it; every event, workflow, workflow run, job, variable, server,
  tool and webhook trigger moves into its owner's personal workspace
  (`workspace_id`, not null, indexed). `user_id` stays: who created it.
- Variables, servers and tools are unique by key/name per workspace, no
  longer per user.
- api_tokens.workspace_id / role: an existing token acts in its owner's
  personal workspace as owner (what it could do before).

Downgrade: every personal workspace's rows stay with their user. Rows of team
workspaces go back to the user who created them, except a variable, server
or tool whose key or name that user already has (the old schema holds one
per user): those are deleted. Tokens of team workspaces are deleted.

Revision ID: 0019
Revises: 0018
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0019"
down_revision: Union[str, None] = "0018"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# table -> the index on workspace_id the models declare (None: a unique
# constraint or another index leads with it).
RESOURCES = {
    "events": "idx_events_workspace",
    "workflows": "idx_workflows_workspace",
    "workflow_runs": "idx_workflow_runs_workspace",
    "jobs": None,
    "variables": None,
    "servers": None,
    "tools": None,
    "webhook_triggers": "idx_webhook_triggers_workspace",
}
# table -> (the column unique per owner, the old constraint, the new one, the index on user_id)
UNIQUE_PER_OWNER = {
    "variables": ("key", "uq_variables_user_key", "uq_variables_workspace_key", "idx_variables_user"),
    "servers": ("name", "uq_servers_user_name", "uq_servers_workspace_name", "idx_servers_user"),
    "tools": ("name", "uq_tools_user_name", "uq_tools_workspace_name", "idx_tools_user"),
}
PERSONAL_SLUG = "'personal-' || CAST({user_id} AS VARCHAR(20))"


def _sqlite_triggers(bind) -> list[str]:
    """The triggers on the tables this migration rebuilds. A batch
    migration on SQLite copies a table and drops the old one, and its
    triggers (0013's job tallies) go with it: they are made again after."""
    if bind.dialect.name != "sqlite":
        return []
    tables = ", ".join(f"'{table}'" for table in (*RESOURCES, "api_tokens"))
    return [row[0] for row in bind.execute(sa.text(
        f"SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({tables})"
    ))]


def _restore_triggers(bind, statements: list[str]) -> None:
    for statement in statements:
        bind.execute(sa.text(statement))


def _personal_workspace_of(user_id_sql: str) -> str:
    return f"(SELECT w.id FROM workspaces w WHERE w.slug = {PERSONAL_SLUG.format(user_id=user_id_sql)})"


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("slug", sa.String(120), nullable=False, unique=True),
        sa.Column("personal", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_table(
        "workspace_members",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("workspace_id", sa.Integer(), sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("workspace_id", "user_id", name="uq_workspace_members_pair"),
    )
    op.create_index("idx_workspace_members_user", "workspace_members", ["user_id"])
    bind = op.get_bind()
    triggers = _sqlite_triggers(bind)
    bind.execute(sa.text(
        "INSERT INTO workspaces (name, slug, personal, created_at) "
        f"SELECT 'Personal', {PERSONAL_SLUG.format(user_id='id')}, :personal, created_at FROM users"
    ), {"personal": True})
    bind.execute(sa.text(
        "INSERT INTO workspace_members (workspace_id, user_id, role, created_at) "
        f"SELECT {_personal_workspace_of('u.id')}, u.id, 'owner', u.created_at FROM users u"
    ))
    for table in (*RESOURCES, "api_tokens"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("workspace_id", sa.Integer(), nullable=True))
            if table == "api_tokens":
                batch_op.add_column(sa.Column("role", sa.String(16), nullable=True))
        bind.execute(sa.text(f"UPDATE {table} SET workspace_id = {_personal_workspace_of(f'{table}.user_id')}"))
    bind.execute(sa.text("UPDATE api_tokens SET role = 'owner'"))
    for table, index in RESOURCES.items():
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column("workspace_id", existing_type=sa.Integer(), nullable=False)
            batch_op.create_foreign_key(f"fk_{table}_workspace", "workspaces", ["workspace_id"], ["id"], ondelete="CASCADE")
            if index:
                batch_op.create_index(index, ["workspace_id"])
            if table == "jobs":
                batch_op.create_index("idx_jobs_workspace_created", ["workspace_id", "created_at", "id"])
            if table in UNIQUE_PER_OWNER:
                column, old, new, by_user = UNIQUE_PER_OWNER[table]
                batch_op.drop_constraint(old, type_="unique")
                batch_op.create_unique_constraint(new, ["workspace_id", column])
                batch_op.create_index(by_user, ["user_id"])
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.alter_column("workspace_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("role", existing_type=sa.String(16), nullable=False)
        batch_op.create_foreign_key("fk_api_tokens_workspace", "workspaces", ["workspace_id"], ["id"], ondelete="CASCADE")
        batch_op.create_index("ix_api_tokens_workspace_id", ["workspace_id"])
    _restore_triggers(bind, triggers)


def _drop_rows_the_old_schema_cannot_hold(bind) -> None:
    """A team workspace's variable, server or tool whose key or name its
    creator also has (in another workspace) cannot go back to them."""
    team = "(SELECT id FROM workspaces WHERE personal = :team)"
    for table, (column, *_rest) in UNIQUE_PER_OWNER.items():
        bind.execute(sa.text(
            f"DELETE FROM {table} WHERE workspace_id IN {team} AND EXISTS ("
            f"SELECT 1 FROM {table} other WHERE other.user_id = {table}.user_id AND other.{column} = {table}.{column} "
            f"AND other.id <> {table}.id AND (other.workspace_id NOT IN {team} OR other.id < {table}.id))"
        ), {"team": False})
    bind.execute(sa.text(f"DELETE FROM api_tokens WHERE workspace_id IN {team}"), {"team": False})


def downgrade() -> None:
    bind = op.get_bind()
    triggers = _sqlite_triggers(bind)
    _drop_rows_the_old_schema_cannot_hold(bind)
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.drop_index("ix_api_tokens_workspace_id")
        batch_op.drop_constraint("fk_api_tokens_workspace", type_="foreignkey")
        batch_op.drop_column("role")
        batch_op.drop_column("workspace_id")
    for table, index in RESOURCES.items():
        with op.batch_alter_table(table) as batch_op:
            if table in UNIQUE_PER_OWNER:
                column, old, new, by_user = UNIQUE_PER_OWNER[table]
                batch_op.drop_index(by_user)
                batch_op.drop_constraint(new, type_="unique")
                batch_op.create_unique_constraint(old, ["user_id", column])
            if table == "jobs":
                batch_op.drop_index("idx_jobs_workspace_created")
            if index:
                batch_op.drop_index(index)
            batch_op.drop_constraint(f"fk_{table}_workspace", type_="foreignkey")
            batch_op.drop_column("workspace_id")
    _restore_triggers(bind, triggers)
    op.drop_index("idx_workspace_members_user", table_name="workspace_members")
    op.drop_table("workspace_members")
    op.drop_table("workspaces")
