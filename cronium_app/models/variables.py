from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cronium_app.models.types import SECRET, json_field
from cronium_app.models.workspaces import workspace_column
from cronium_app.timeutil import utcnow


class Variable(SQLModel, table=True):
    __tablename__ = "variables"
    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "key", name="uq_variables_workspace_key"),
        sa.Index("idx_variables_user", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    workspace_id: int = workspace_column()
    key: str = Field(sa_column=sa.Column(sa.String(128), nullable=False))
    # A value is the user's data: the audit log says it changed, never what it is.
    value: Any = json_field(info=SECRET)
    # A secret variable's value is sealed in `sealed_value` (`value` stays
    # NULL): scripts read it through the runtime API, nobody else does.
    secret: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()))
    sealed_value: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True, info=SECRET))
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, nullable=False)
