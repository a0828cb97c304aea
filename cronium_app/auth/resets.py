"""Password-reset links: an administrator makes one for an account; the
single-use link (valid CRONIUM_RESET_TTL, one hour by default) sets a new
password and ends every session of the account. A new link withdraws the
account's older ones; disabling the account withdraws them all."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from cronium_app import audit
from cronium_app.auth import links
from cronium_app.auth.admin import require_admin
from cronium_app.auth.passwords import hash_password
from cronium_app.auth.throttle import account_throttles
from cronium_app.auth.users import AccountDisabled, sign_out_everywhere, stamp_sign_in, validate_password
from cronium_app.db import read_session, write_session
from cronium_app.errors import Conflict, NotFound
from cronium_app.models import PasswordReset, User
from cronium_app.settings import Settings
from cronium_app.timeutil import isoformat, utcnow

WHAT = "password reset"
RESET_PATH = "/reset/"


def reset_url(settings: Settings, raw: str) -> str:
    return f"{settings.origin}{RESET_PATH}{raw}"


def create_reset(session: Session, settings: Settings, actor_id: int, user_id: int) -> tuple[dict[str, Any], str]:
    """(the reset, its link): shown once, only its hash is kept."""
    require_admin(session, actor_id)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    if user.disabled_at is not None:
        raise Conflict(f"{user.email} is disabled: enable the account before sending it a reset link")
    links.withdraw(session, PasswordReset, PasswordReset.user_id == user_id)
    now = utcnow()
    raw, token_hash = links.new_token()
    reset = PasswordReset(user_id=user_id, token_hash=token_hash, created_by=actor_id, created_at=now,
                          expires_at=now + settings.reset_ttl)
    session.add(reset)
    session.flush()
    audit.record(session, audit.Action.user_password_reset, user)
    return {"userId": user_id, "email": user.email, "expiresAt": isoformat(reset.expires_at)}, reset_url(settings, raw)


def _user_of(session: Session, reset: PasswordReset) -> User:
    user = session.get(User, reset.user_id)
    if user is None:
        raise links.LinkRefused(WHAT, "unknown")
    if user.disabled_at is not None:
        raise AccountDisabled()
    return user


def reset_for_link(raw: str) -> dict[str, Any]:
    """What the reset page shows (the account's email), or LinkRefused."""
    with read_session() as session:
        reset = links.find(session, PasswordReset, raw, WHAT)
        return {"email": _user_of(session, reset).email, "expiresAt": isoformat(reset.expires_at)}


def use_reset(settings: Settings, raw: str, password: str, *, address: str) -> User:
    """Set the new password, once; every session of the account ends."""
    account_throttles(settings).register_by_address.take(address)
    reset_for_link(raw)
    validate_password(password)
    new_hash = hash_password(password)
    with write_session() as session:
        reset = links.find(session, PasswordReset, raw, WHAT)
        user = _user_of(session, reset)
        links.claim(session, PasswordReset, reset.id, WHAT)
        session.execute(sa.update(User).where(User.id == user.id).values(password_hash=new_hash))
        sign_out_everywhere(session, user.id)
        stamp_sign_in(session, user.id)
        audit.record(session, audit.Action.password_change, audit.Target.of(user), details={"through": "reset link"})
        session.flush()
        session.refresh(user)
        return user
