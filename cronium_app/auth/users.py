"""Accounts: register, log in, and the admin from the environment."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from cronium_app.auth.passwords import hash_password, verify_password
from cronium_app.errors import Conflict, Forbidden, Invalid, Unauthorized
from cronium_app.models import Role, User
from cronium_app.settings import Settings
from cronium_app.timeutil import isoformat

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024


def normalize_email(email: str) -> str:
    return email.strip().lower()


def validate_credentials(email: str, password: str) -> str:
    email = normalize_email(email)
    if not EMAIL_RE.match(email) or len(email) > 320:
        raise Invalid("email must be a valid address such as name@example.com", field="email")
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"password must have at least {MIN_PASSWORD} characters", field="password")
    if len(password) > MAX_PASSWORD:
        raise Invalid(f"password must have at most {MAX_PASSWORD} characters", field="password")
    return email


def register_user(session: Session, settings: Settings, email: str, password: str, *, role: str | None = None) -> User:
    if not settings.allow_registration and role is None:
        raise Forbidden("registration is turned off on this server")
    email = validate_credentials(email, password)
    if session.exec(select(User.id).where(User.email == email)).first() is not None:
        raise Conflict("an account with this email already exists", field="email")
    if role is None:
        # The first account administers the server.
        has_users = session.exec(select(sa.func.count()).select_from(User)).one() > 0
        role = Role.user.value if has_users else Role.admin.value
    user = User(email=email, password_hash=hash_password(password), role=role)
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise Conflict("an account with this email already exists", field="email") from None
    return user


def login(session: Session, email: str, password: str) -> User:
    user = session.exec(select(User).where(User.email == normalize_email(email))).first()
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise Unauthorized("wrong email or password")
    return user


def ensure_admin(session: Session, settings: Settings) -> User | None:
    """Create (or promote) the admin named by CRONIUM_ADMIN_EMAIL/PASSWORD."""
    if not settings.admin_email or not settings.admin_password:
        return None
    email = validate_credentials(settings.admin_email, settings.admin_password)
    user = session.exec(select(User).where(User.email == email)).first()
    if user is None:
        return register_user(session, settings, email, settings.admin_password, role=Role.admin.value)
    if user.role != Role.admin.value:
        user.role = Role.admin.value
        session.add(user)
    return user


def user_to_dict(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "role": user.role, "createdAt": isoformat(user.created_at)}
