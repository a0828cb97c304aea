from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cronium_app.models.types import SECRET, json_field
from cronium_app.models.workspaces import workspace_column
from cronium_app.timeutil import utcnow


class Server(SQLModel, table=True):
    """A remote host that events can run on over SSH.

    `credentials` is an encrypted token (cronium_app/servers/secrets.py) of
    the private key, its passphrase or the password: never stored or
    returned in the clear. `host_key` is the server's public host key in
    OpenSSH form, pinned on the first successful connection.
    """

    __tablename__ = "servers"
    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "name", name="uq_servers_workspace_name"),
        sa.Index("idx_servers_user", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    workspace_id: int = workspace_column()
    name: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    host: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    port: int = Field(default=22, nullable=False)
    username: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    auth_type: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))  # key | password
    credentials: str = Field(sa_column=sa.Column(sa.Text, nullable=False, info=SECRET))
    host_key: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    tags: list[str] = json_field(nullable=False, default_factory=list)
    last_checked_at: datetime | None = None
    last_check_ok: bool | None = None
    last_check_message: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, nullable=False)
