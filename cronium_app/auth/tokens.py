"""API tokens: 256 random bits, shown once, stored as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from cronium_app.auth.throttle import account_throttles
from cronium_app.errors import NotFound, Unauthorized
from cronium_app.models import ApiToken, User
from cronium_app.settings import Settings
from cronium_app.timeutil import as_utc, isoformat, utcnow

TOKEN_PREFIX = "crn_"
# Writing last_used_at on every request would turn each read into a write;
# once a minute is enough to tell which tokens are in use.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_token(
    session: Session, user_id: int, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    raw = generate_token()
    token = ApiToken(
        user_id=user_id,
        name=name,
        token_hash=digest(raw),
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        expires_at=as_utc(expires_at) if expires_at else None,
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
    stale = token.last_used_at is None or now - as_utc(token.last_used_at) > LAST_USED_RESOLUTION
    return user, token, stale


def touch_token(session: Session, token_id: int) -> None:
    session.execute(sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow()))


def list_tokens(session: Session, user_id: int) -> list[dict[str, Any]]:
    rows = session.exec(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)).all()
    return [token_to_dict(t) for t in rows]


def create_user_token(
    session: Session, settings: Settings, user_id: int, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A token the user asked for by name (the API's /tokens, the Settings
    page): throttled per user."""
    account_throttles(settings).token_create_by_user.take(str(user_id))
    return create_token(session, user_id, name, expires_at)


def revoke_all_tokens(session: Session, user_id: int, *, keep_token_id: int | None = None) -> None:
    statement = sa.delete(ApiToken).where(ApiToken.user_id == user_id)
    if keep_token_id is not None:
        statement = statement.where(ApiToken.id != keep_token_id)
    session.execute(statement)


def revoke_token(session: Session, user_id: int, token_id: int) -> None:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        raise NotFound(f"token {token_id} not found")
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
    }
