"""API tokens: 256 random bits, shown once, stored as a SHA-256 digest.

A token acts in one workspace with one role, no higher than its creator's
role there when it is made; at each request the creator's current role caps
it again (`token_access`), so demoting or removing a member demotes or stops
their tokens at once."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from cronium_app import audit
from cronium_app.auth.access import RANK, Access, access_for, member_role
from cronium_app.auth.personal_workspace import personal_workspace_id
from cronium_app.auth.throttle import account_throttles
from cronium_app.errors import Forbidden, Invalid, NotFound, Unauthorized
from cronium_app.models import ApiToken, User, Workspace, WorkspaceRole
from cronium_app.settings import Settings
from cronium_app.timeutil import as_utc, isoformat, utcnow

TOKEN_PREFIX = "crn_"
# Writing last_used_at on every request would turn each read into a write;
# once a minute is enough to tell which tokens are in use.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# A token with scopes may do only what they name; one without (every token
# made before scopes existed) has full access. "mcp": the MCP endpoint
# (/api/mcp) and nothing else, for an AI app that should not hold a key to
# the whole API.
MCP_SCOPE = "mcp"
SCOPES = (MCP_SCOPE,)


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header, or Unauthorized."""
    if not authorization:
        raise Unauthorized("missing Authorization header (expected 'Bearer <token>')")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization header must be 'Bearer <token>'")
    return token.strip()


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_scope(
    session: Session, user_id: int, workspace_id: int | None, role: str | None, *, within: Access | None = None
) -> tuple[int, str]:
    """The workspace and role a new token gets: by default the creator's
    personal workspace, and the creator's role there. A role above the
    creator's is refused; so is a workspace they are not a member of. A
    token made with another token (`within`) stays in that token's
    workspace and role, or below: a token never mints a stronger one. Only
    the account's own full token (its personal workspace, as owner: what
    signing in gives) makes tokens for the account's other workspaces."""
    if within is not None and not is_account_token(session, within):
        if workspace_id is not None and workspace_id != within.workspace_id:
            raise Forbidden("a token scoped to a workspace can only make tokens for that workspace", field="workspaceId")
        workspace_id = within.workspace_id
        role = role or within.role
        if role in RANK and RANK[role] > RANK[within.role]:
            raise Forbidden(f"this token's role is {within.role}: a token it makes cannot be {role}", field="role")
    elif within is not None and workspace_id is None:
        workspace_id = within.workspace_id
    if workspace_id is None:
        workspace_id = personal_workspace_id(session, user_id)
    held = member_role(session, user_id, workspace_id)
    if held is None:
        raise NotFound(f"workspace {workspace_id} not found", field="workspaceId")
    if role is None:
        return workspace_id, held
    if role not in RANK:
        raise Invalid(f"role must be one of {', '.join(RANK)}", field="role")
    if RANK[role] > RANK[held]:
        raise Forbidden(f"your role in this workspace is {held}: a token you make cannot be {role}", field="role")
    return workspace_id, role


def is_account_token(session: Session, access: Access) -> bool:
    """Does this access have everything the account has: its personal
    workspace, as owner (what signing in gives)? Only such a token makes
    tokens for other workspaces or administers the server: one scoped to a
    workspace or a role never carries more than that."""
    return access.role == WorkspaceRole.owner.value and access.workspace_id == personal_workspace_id(session, access.user_id)


def create_token(
    session: Session, user_id: int, name: str, expires_at: datetime | None = None,
    *, workspace_id: int | None = None, role: str | None = None, within: Access | None = None,
    scopes: tuple[str, ...] | None = None,
) -> tuple[ApiToken, str]:
    """`scopes`: None for full access, else some of SCOPES."""
    workspace_id, role = token_scope(session, user_id, workspace_id, role, within=within)
    raw = generate_token()
    unknown = sorted(set(scopes or ()) - set(SCOPES))
    if scopes is not None and (unknown or not scopes):
        raise Invalid(f"scopes must be some of {', '.join(SCOPES)} (or left out for full access)", field="scopes")
    token = ApiToken(
        user_id=user_id,
        workspace_id=workspace_id,
        role=role,
        name=name,
        token_hash=digest(raw),
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        expires_at=as_utc(expires_at) if expires_at else None,
        scopes=" ".join(sorted(set(scopes))) if scopes is not None else None,
    )
    session.add(token)
    session.flush()
    return token, raw


def authenticate_token(session: Session, raw: str) -> tuple[User, ApiToken, bool]:
    """The user a bearer token belongs to and the token, or Unauthorized.
    Also says whether its last-use stamp is due for a refresh (see touch_token)."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        raise Unauthorized("invalid API token")
    wanted = digest(raw)
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == wanted)).first()
    # The lookup is by digest; compare again in constant time all the same.
    if token is None or not hmac.compare_digest(token.token_hash, wanted):
        raise Unauthorized("invalid API token")
    now = utcnow()
    if token.expires_at is not None and as_utc(token.expires_at) <= now:
        raise Unauthorized("API token has expired")
    user = session.get(User, token.user_id)
    if user is None:
        raise Unauthorized("invalid API token")
    # Disabling an account deletes its tokens; this refuses one made in a
    # race with that.
    if user.disabled_at is not None:
        raise Unauthorized("this account has been disabled by an administrator")
    stale = token.last_used_at is None or now - as_utc(token.last_used_at) > LAST_USED_RESOLUTION
    return user, token, stale


def token_access(session: Session, token: ApiToken) -> Access:
    """What a request with this token may do: the token's role, lowered to
    the creator's current role in the token's workspace."""
    try:
        return access_for(session, token.user_id, token.workspace_id, capped_at=token.role)
    except NotFound:
        raise Unauthorized("this API token's creator is no longer a member of its workspace") from None


def token_scopes(token: ApiToken) -> tuple[str, ...] | None:
    """The token's scopes; None: full access."""
    return tuple(token.scopes.split()) if token.scopes is not None else None


def allows(token: ApiToken, scope: str | None) -> bool:
    """May the token be used for `scope` (None: the whole API, /api/v1)?"""
    scopes = token_scopes(token)
    return scopes is None or (scope is not None and scope in scopes)


def touch_token(session: Session, token_id: int) -> None:
    session.execute(sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow()))


def list_tokens(session: Session, user_id: int) -> list[dict[str, Any]]:
    """The account's tokens, each with the name of the workspace it acts in
    (to tell a CI token of one team from another's)."""
    rows = session.exec(
        select(ApiToken, Workspace.name)
        .join(Workspace, Workspace.id == ApiToken.workspace_id)
        .where(ApiToken.user_id == user_id)
        .order_by(ApiToken.id)
    ).all()
    return [{**token_to_dict(token), "workspaceName": name} for token, name in rows]


def create_user_token(
    session: Session, settings: Settings, user_id: int, name: str, expires_at: datetime | None = None,
    *, workspace_id: int | None = None, role: str | None = None, within: Access | None = None,
    scopes: tuple[str, ...] | None = None,
) -> tuple[ApiToken, str]:
    """A token the user asked for by name (the API's /tokens, the Settings
    page): throttled per user."""
    account_throttles(settings).token_create_by_user.take(str(user_id))
    token, raw = create_token(
        session, user_id, name, expires_at, workspace_id=workspace_id, role=role, within=within, scopes=scopes
    )
    audit.record(session, audit.Action.token_create, token, after=token)
    return token, raw


def revoke_all_tokens(session: Session, user_id: int, *, keep_token_id: int | None = None) -> None:
    statement = sa.delete(ApiToken).where(ApiToken.user_id == user_id)
    if keep_token_id is not None:
        statement = statement.where(ApiToken.id != keep_token_id)
    session.execute(statement)


def revoke_token(session: Session, user_id: int, token_id: int) -> None:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        raise NotFound(f"token {token_id} not found")
    audit.record(session, audit.Action.token_revoke, token, before=token)
    session.delete(token)
    session.flush()


def token_to_dict(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "createdAt": isoformat(token.created_at),
        "lastUsedAt": isoformat(token.last_used_at),
        "expiresAt": isoformat(token.expires_at),
        "workspaceId": token.workspace_id,
        "role": token.role,
        "scopes": list(token_scopes(token)) if token.scopes is not None else None,
    }
