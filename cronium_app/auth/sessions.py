"""Browser sessions for the web UI: a signed token in an HttpOnly cookie.

The token is a JWT (HS256, the server's SECRET_KEY) naming the user, with an
expiry and the account's session version (`users.session_version`). Signing
out everywhere and changing the password bump the version, so every session
signed before stops working: the sign-in API checks it on each request that
carries the cookie, and the UI checks it on every websocket event
(cronium_app/session_check.py). This module is the UI's auth service: the
states and the sign-in API (cronium_app/api/session.py) call it, and it is
the only UI code that reads the users table.

The cookie is set and cleared by that API only, so the page's JavaScript
never sees the token; the states read it from the websocket's handshake
headers (`token_from_cookie_header`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import jwt
from sqlmodel import Session, select

from cronium_app import audit
from cronium_app.auth import invitations, resets
from cronium_app.auth.users import (
    add_account,
    change_password,
    login,
    prepare_registration,
    sign_out_everywhere,
    user_to_dict,
)
from cronium_app.db import read_session, write_session
from cronium_app.errors import Unauthorized
from cronium_app.models import User
from cronium_app.settings import Settings
from cronium_app.timeutil import utcnow

SESSION_COOKIE = "cronium_session"
SESSION_TTL = timedelta(days=7)
_ALGORITHM = "HS256"
_TOKEN_TYPE = "ui-session"


def token_from_cookie_header(cookie_header: str) -> str:
    """The session token in a Cookie request header ("" when there is none).
    A browser sends the most specific path first, so the first one wins."""
    for part in (cookie_header or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name == SESSION_COOKIE:
            return value.strip().strip('"')
    return ""


def issue_session_token(user: User, settings: Settings, now: datetime | None = None) -> str:
    now = now or utcnow()
    claims = {
        "sub": str(user.id),
        "typ": _TOKEN_TYPE,
        "sv": user.session_version,
        "iat": int(now.timestamp()),
        "exp": int((now + SESSION_TTL).timestamp()),
    }
    return jwt.encode(claims, settings.secret_key, algorithm=_ALGORITHM)


def _claims(token: str, settings: Settings) -> dict[str, Any] | None:
    try:
        claims = jwt.decode(
            token, settings.secret_key, algorithms=[_ALGORITHM], options={"require": ["exp", "sub", "sv"]}
        )
    except jwt.PyJWTError:
        return None
    if claims.get("typ") != _TOKEN_TYPE or not str(claims["sub"]).isdigit() or type(claims["sv"]) is not int:
        return None
    return claims


def _session_user(session: Session, token: str, settings: Settings) -> User | None:
    if not token or len(token) > 2048:
        return None
    claims = _claims(token, settings)
    if claims is None:
        return None
    user = session.get(User, int(claims["sub"]))
    if user is None or user.session_version != claims["sv"] or user.disabled_at is not None:
        return None
    return user


def user_for_session(token: str, settings: Settings) -> dict[str, Any] | None:
    """The signed-in user as a plain dict (with the UI theme they picked),
    or None for a missing, forged, expired or ended (signed out everywhere,
    password changed) session."""
    with read_session() as session:
        user = _session_user(session, token, settings)
        return {**user_to_dict(user), "theme": user.theme} if user is not None else None


def sign_in(email: str, password: str, settings: Settings, *, address: str) -> tuple[str, dict[str, Any]]:
    """(session token, user) or Unauthorized (429 when throttled)."""
    user = login(settings, email, password, address=address)
    return issue_session_token(user, settings), user_to_dict(user)


def sign_up(email: str, password: str, settings: Settings, *, address: str) -> tuple[str, dict[str, Any]]:
    """Create an account (the first one becomes admin) and sign it in."""
    registration = prepare_registration(settings, email, password, address=address)
    with write_session() as session:
        user = add_account(session, registration)
        session.flush()
        return issue_session_token(user, settings), user_to_dict(user)


def accept_invitation(raw: str, password: str, settings: Settings, *, address: str) -> tuple[str, dict[str, Any]]:
    """Create the invited account with this password and sign it in."""
    user = invitations.accept_invitation(settings, raw, password, address=address)
    return issue_session_token(user, settings), user_to_dict(user)


def reset_password(raw: str, password: str, settings: Settings, *, address: str) -> tuple[str, dict[str, Any]]:
    """Set the password a reset link is for (every other session of the
    account ends) and sign this browser in."""
    user = resets.use_reset(settings, raw, password, address=address)
    return issue_session_token(user, settings), user_to_dict(user)


def change_password_here(
    token: str, current: str, new: str, settings: Settings, *, address: str, revoke_api_tokens: bool
) -> tuple[str, dict[str, Any]]:
    """Change the password of the session's user: every session of the
    account ends, and this one goes on with the returned token."""
    signed_in = user_for_session(token, settings)
    if signed_in is None:
        raise Unauthorized("sign in again: this session has ended")
    user = change_password(
        settings, signed_in["id"], current, new, address=address, revoke_api_tokens=revoke_api_tokens
    )
    return issue_session_token(user, settings), user_to_dict(user)


def end_all_sessions(user_id: int, *, revoke_api_tokens: bool) -> None:
    """Sign the account out everywhere (this browser too)."""
    with write_session() as session:
        if not sign_out_everywhere(session, user_id, revoke_api_tokens=revoke_api_tokens):
            raise Unauthorized("sign in first")  # nobody signed in: nothing ended, nothing to record
        audit.record(session, audit.Action.sign_out_everywhere, audit.Target("user", user_id),
                     details={"apiTokensRevoked": revoke_api_tokens})


def sign_out(token: str, settings: Settings) -> None:
    """Record that the session's user signed out in this browser (the
    cookie itself is cleared by the sign-in API; a session that no longer
    works signs out nobody)."""
    user = user_for_session(token, settings)
    if user is not None:
        audit.context.identify(audit.ActorKind.user, user["id"], user["email"])
        audit.record_now(audit.Action.sign_out, audit.Target("user", user["id"], user["email"]))


def registration_open(settings: Settings) -> bool:
    return settings.registration_mode == "open"


def has_users() -> bool:
    with read_session() as session:
        return session.exec(select(User.id).limit(1)).first() is not None
