"""The audit log's table: one row per change or action, written once and
never changed (cronium_app/audit owns it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cronium_app.models.types import json_field
from cronium_app.timeutil import utcnow


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entries"
    __table_args__ = (
        sa.Index("idx_audit_entries_at", "at"),
        sa.Index("idx_audit_entries_actor", "actor_user_id", "id"),
        sa.Index("idx_audit_entries_action", "action", "id"),
        sa.Index("idx_audit_entries_workspace", "workspace_id", "id"),
    )

    # BIGINT on PostgreSQL; SQLite's rowid alias must be INTEGER.
    id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
    )
    at: datetime = Field(default_factory=utcnow, nullable=False)
    # Who: no foreign key, so that an entry outlives its user; the email as
    # it was then.
    actor_user_id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    actor_email: str | None = Field(default=None, sa_column=sa.Column(sa.String(320), nullable=True))
    actor_kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    token_id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    source: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    client_ip: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), nullable=True))
    action: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    target_kind: str | None = Field(default=None, sa_column=sa.Column(sa.String(32), nullable=True))
    target_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), nullable=True))
    target_label: str | None = Field(default=None, sa_column=sa.Column(sa.String(200), nullable=True))
    # {field: {"before": ..., "after": ...}} of the fields that changed,
    # secrets masked (cronium_app/audit/snapshots.py); details of an action.
    changes: dict[str, Any] | None = json_field()
    # The workspace the action happened in (none for what belongs to an
    # account or to the server: sign-ins, users, invitations).
    workspace_id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
