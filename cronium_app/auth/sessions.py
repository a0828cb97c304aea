"""Browser sessions for the web UI: a signed token in an HttpOnly cookie.

The token is a JWT (HS256, the server's SECRET_KEY) naming the user, with an
expiry and a fingerprint of the user's password hash: changing the password
changes the fingerprint, so every session signed before the change stops
working. This module is the UI's auth service: the states and the sign-in
API (cronium_app/api/session.py) call it, and it is the only UI code that
reads the users table.

The cookie is set and cleared by that API only, so the page's JavaScript
never sees the token; the states read it from the websocket's handshake
headers (`token_from_cookie_header`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

import jwt
from sqlmodel import select

from cronium_app.auth.users import login, register_user, user_to_dict
from cronium_app.db import read_session, write_session
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


def password_fingerprint(password_hash: str, settings: Settings) -> str:
    """A keyed digest of the password hash: it changes when the password does,
    and reveals nothing about the hash to whoever reads the token."""
    mac = hmac.new(settings.secret_key.encode(), b"session-fp:" + password_hash.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:16]).decode().rstrip("=")


def issue_session_token(user: User, settings: Settings, now: datetime | None = None) -> str:
    now = now or utcnow()
    claims = {
        "sub": str(user.id),
        "typ": _TOKEN_TYPE,
        "fp": password_fingerprint(user.password_hash, settings),
        "iat": int(now.timestamp()),
        "exp": int((now + SESSION_TTL).timestamp()),
    }
    return jwt.encode(claims, settings.secret_key, algorithm=_ALGORITHM)


def _claims(token: str, settings: Settings) -> dict[str, Any] | None:
    try:
        claims = jwt.decode(
            token, settings.secret_key, algorithms=[_ALGORITHM], options={"require": ["exp", "sub", "fp"]}
        )
    except jwt.PyJWTError:
        return None
    if claims.get("typ") != _TOKEN_TYPE or not str(claims["sub"]).isdigit():
        return None
    return claims


def user_for_session(token: str, settings: Settings) -> dict[str, Any] | None:
    """The signed-in user as a plain dict, or None for a missing, forged,
    expired or password-changed session."""
    if not token or len(token) > 2048:
        return None
    claims = _claims(token, settings)
    if claims is None:
        return None
    with read_session() as session:
        user = session.get(User, int(claims["sub"]))
        if user is None:
            return None
        if not hmac.compare_digest(claims["fp"], password_fingerprint(user.password_hash, settings)):
            return None
        return user_to_dict(user)


def sign_in(email: str, password: str, settings: Settings) -> tuple[str, dict[str, Any]]:
    """(session token, user) or Unauthorized."""
    with read_session() as session:
        user = login(session, email, password)
        return issue_session_token(user, settings), user_to_dict(user)


def sign_up(email: str, password: str, settings: Settings) -> tuple[str, dict[str, Any]]:
    """Create an account (the first one becomes admin) and sign it in."""
    with write_session() as session:
        user = register_user(session, settings, email, password)
        session.flush()
        return issue_session_token(user, settings), user_to_dict(user)


def registration_open(settings: Settings) -> bool:
    return settings.allow_registration


def has_users() -> bool:
    with read_session() as session:
        return session.exec(select(User.id).limit(1)).first() is not None
