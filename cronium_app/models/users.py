from __future__ import annotations

from datetime import datetime
from enum import Enum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cronium_app.models.types import SECRET
from cronium_app.timeutil import utcnow


class Role(str, Enum):
    admin = "admin"
    user = "user"


class Theme(str, Enum):
    """The web UI's colour theme; `system` follows the browser's setting."""

    system = "system"
    light = "light"
    dark = "dark"


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_column=sa.Column(sa.String(320), nullable=False, unique=True))
    password_hash: str = Field(sa_column=sa.Column(sa.String(255), nullable=False, info=SECRET))
    role: str = Field(default=Role.user.value, sa_column=sa.Column(sa.String(16), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    # In every web UI session of the account; bumping it ends them all.
    session_version: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default=sa.text("0"))
    )
    # Set while an administrator has disabled the account: it cannot sign
    # in, and its sessions, API tokens and schedules stop.
    disabled_at: datetime | None = None
    last_sign_in_at: datetime | None = None
    theme: str = Field(
        default=Theme.system.value,
        sa_column=sa.Column(sa.String(8), nullable=False, server_default=Theme.system.value),
    )


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    name: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    # SHA-256 of the token: tokens are 256-bit random, so a fast hash is safe
    # and keeps every authenticated request cheap.
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True, info=SECRET))
    prefix: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    last_used_at: datetime | None = None
    expires_at: datetime | None = None
    # The workspace the token acts in, and the most it may do there (the
    # creator's current role caps it at each request: auth/access.py).
    workspace_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    role: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    # Space-separated scopes (auth.tokens.SCOPES); None: full access.
    scopes: str | None = Field(default=None, sa_column=sa.Column(sa.String(200), nullable=True))


class SingleUseLink(SQLModel):
    """What invitations and password resets share: the SHA-256 of the link's
    token (never the token), who made it, until when it works, and when it
    was used or withdrawn."""

    token_hash: str = Field(sa_type=sa.String(64), nullable=False, unique=True, sa_column_kwargs={"info": SECRET})
    # The administrator who made the link (NULL once that account is deleted).
    created_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    expires_at: datetime = Field(nullable=False)
    used_at: datetime | None = None
    revoked_at: datetime | None = None


class Invitation(SingleUseLink, table=True):
    """A single-use link that lets `email` create an account with `role`."""

    __tablename__ = "invitations"
    __table_args__ = (sa.Index("idx_invitations_email", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_column=sa.Column(sa.String(320), nullable=False))
    role: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    # The account the invitation created.
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")


class PasswordReset(SingleUseLink, table=True):
    """A single-use link that sets a new password for `user_id`."""

    __tablename__ = "password_resets"
    __table_args__ = (sa.Index("idx_password_resets_user", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )


class OidcIdentity(SQLModel, table=True):
    """An account's identity at an OpenID provider: the provider's issuer and
    its subject (`sub`, stable for a person at that provider) sign in
    `user_id`. The email is what the provider said at the last sign-in, for
    people reading the table; the account is found by (issuer, subject)."""

    __tablename__ = "oidc_identities"
    __table_args__ = (
        sa.UniqueConstraint("issuer", "subject", name="uq_oidc_identities_issuer_subject"),
        sa.Index("idx_oidc_identities_user", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    issuer: str = Field(sa_column=sa.Column(sa.String(500), nullable=False))
    subject: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    email: str | None = Field(default=None, sa_column=sa.Column(sa.String(320), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    last_sign_in_at: datetime | None = None
