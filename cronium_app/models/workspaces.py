"""Workspaces: what events, workflows, variables, servers, tools, webhook
triggers and jobs belong to, and who may do what in each (members' roles).
Every user has a personal workspace (they are its owner); team workspaces
have any number of members."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cronium_app.timeutil import utcnow


class WorkspaceRole(str, Enum):
    """From the most to the least a member may do (auth/access.py decides
    what each may do)."""

    owner = "owner"
    editor = "editor"
    runner = "runner"
    viewer = "viewer"


ROLE_NAMES = tuple(role.value for role in WorkspaceRole)


class Workspace(SQLModel, table=True):
    __tablename__ = "workspaces"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    slug: str = Field(sa_column=sa.Column(sa.String(120), nullable=False, unique=True))
    # A user's own workspace, made with the account: never deleted, never shared.
    personal: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()))
    created_at: datetime = Field(default_factory=utcnow, nullable=False)


class WorkspaceMember(SQLModel, table=True):
    __tablename__ = "workspace_members"
    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "user_id", name="uq_workspace_members_pair"),
        sa.Index("idx_workspace_members_user", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False)
    )
    user_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    role: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, nullable=False)


def workspace_column() -> Any:
    """The workspace a resource belongs to: deleting the workspace deletes it."""
    return Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False)
    )
