"""Accounts: register, log in, change the password, sign out everywhere,
and the admin from the environment.

Signing in, registering and changing the password go through the throttles
(auth/throttle.py) and the password hash gate (auth/passwords.py) whoever
calls them: the API and the web UI alike.

`users.session_version` is in every web UI session (auth/sessions.py):
bumping it ends all of the account's sessions at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from cronium_app import audit
from cronium_app.auth.passwords import has_password, hash_password, verify_password
from cronium_app.auth.personal_workspace import create_personal
from cronium_app.auth.throttle import PasswordRefused, account_throttles, sign_in_attempt
from cronium_app.auth.tokens import revoke_all_tokens
from cronium_app.db import read_session, write_session
from cronium_app.errors import Conflict, Forbidden, Invalid, Unauthorized
from cronium_app.models import Role, Theme, User
from cronium_app.settings import Settings
from cronium_app.timeutil import isoformat, utcnow

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024


def normalize_email(email: str) -> str:
    return email.strip().lower()


class WrongCredentials(Unauthorized, PasswordRefused):
    def __init__(self) -> None:
        super().__init__("wrong email or password")


class WrongCurrentPassword(Forbidden, PasswordRefused):
    def __init__(self) -> None:
        super().__init__("the current password is wrong", field="currentPassword")


def validate_credentials(email: str, password: str) -> str:
    email = validate_email(email)
    validate_password(password)
    return email


def validate_email(email: str) -> str:
    """The address, normalized, or Invalid."""
    email = normalize_email(email)
    if not EMAIL_RE.match(email) or len(email) > 320:
        raise Invalid("email must be a valid address such as name@example.com", field="email")
    return email


def validate_password(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"password must have at least {MIN_PASSWORD} characters", field=field)
    if len(password) > MAX_PASSWORD:
        raise Invalid(f"password must have at most {MAX_PASSWORD} characters", field=field)


REGISTRATION_REFUSED = {
    "invite": "new accounts on this server are by invitation only: ask an administrator for an invitation link",
    "closed": "registration is turned off on this server",
}


@dataclass(frozen=True)
class Registration:
    """A checked email and the new password's hash, ready to be written.
    `first_only`: registration is not open, so only the server's first
    account (its admin) may be created this way."""

    email: str
    password_hash: str
    first_only: bool = False


def refuse_unless_open(settings: Settings, *, has_users: bool) -> None:
    """Sign-ups from anyone: refused (403, in words) unless registration is
    open; the server's first account is always allowed."""
    mode = settings.registration_mode
    if mode != "open" and has_users:
        raise Forbidden(REGISTRATION_REFUSED[mode])


def any_users() -> bool:
    with read_session() as session:
        return session.exec(select(User.id).limit(1)).first() is not None


def register_user(session: Session, settings: Settings, email: str, password: str, *, role: str | None = None) -> User:
    """Create an account in the caller's transaction (the admin from the
    environment, tests). Sign-ups from people use `prepare_registration`."""
    first_only = settings.registration_mode != "open" and role is None
    email = validate_credentials(email, password)
    return add_account(session, Registration(email, hash_password(password), first_only), role=role)


def prepare_registration(settings: Settings, email: str, password: str, *, address: str) -> Registration:
    """A sign-up from `address` (the API's or the web UI's), throttled per
    address, up to the password hash. No transaction is open meanwhile: a
    hash takes a while, and SQLite has one writer at a time."""
    account_throttles(settings).register_by_address.take(address)
    refuse_unless_open(settings, has_users=any_users())
    email = validate_credentials(email, password)
    return Registration(email, hash_password(password), first_only=settings.registration_mode != "open")


def add_account(session: Session, registration: Registration, *, role: str | None = None) -> User:
    if session.exec(select(User.id).where(User.email == registration.email)).first() is not None:
        raise Conflict("an account with this email already exists", field="email")
    signing_up = role is None
    if signing_up:
        # The first account administers the server.
        has_users = session.exec(select(sa.func.count()).select_from(User)).one() > 0
        if has_users and registration.first_only:
            # Someone else was first while this password was being hashed.
            raise Forbidden("registration is turned off on this server")
        role = Role.user.value if has_users else Role.admin.value
    user = User(email=registration.email, password_hash=registration.password_hash, role=role)
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise Conflict("an account with this email already exists", field="email") from None
    create_personal(session, user.id)
    if signing_up:
        audit.context.identify(audit.ActorKind.user, user.id, user.email)
    audit.record(session, audit.Action.register, user, after=user)
    return user


def login(settings: Settings, email: str, password: str, *, address: str) -> User:
    """The account these credentials open, or WrongCredentials (401); 429
    after too many failures for the account or from `address`. Reads in a
    transaction of its own (the hash must not hold a writer's lock)."""
    email = normalize_email(email)
    with sign_in_attempt(settings, address, email):
        with read_session() as session:
            user = session.exec(select(User).where(User.email == email)).first()
        if not verify_password(user.password_hash if user else None, password) or user is None:
            audit.record_now(audit.Action.sign_in_failed, audit.Target("user", user.id if user else None, email),
                             email=email)
            raise WrongCredentials()
    # Said only to whoever knows the password.
    refuse_disabled(user)
    with write_session() as session:
        stamp_sign_in(session, user.id)
    audit.context.identify(audit.ActorKind.user, user.id, user.email)
    audit.record_now(audit.Action.sign_in, audit.Target.of(user))
    return user


class AccountDisabled(Forbidden):
    def __init__(self) -> None:
        super().__init__("this account has been disabled by an administrator")


def refuse_disabled(user: User) -> None:
    if user.disabled_at is not None:
        raise AccountDisabled()


def stamp_sign_in(session: Session, user_id: int) -> None:
    session.execute(sa.update(User).where(User.id == user_id).values(last_sign_in_at=utcnow()))


def change_password(
    settings: Settings,
    user_id: int,
    current: str,
    new: str,
    *,
    address: str,
    revoke_api_tokens: bool = False,
    keep_token_id: int | None = None,
) -> User:
    """Set a new password once the current one is given (a wrong one counts
    as a failed sign-in). Every web UI session of the account ends; with
    `revoke_api_tokens`, every API token but `keep_token_id` goes too."""
    validate_password(new, field="newPassword")
    with read_session() as session:
        user = session.get(User, user_id)
    if user is None:
        raise Unauthorized("the account no longer exists")
    with sign_in_attempt(settings, address, user.email):
        if not verify_password(user.password_hash, current):
            audit.record_now(audit.Action.sign_in_failed, audit.Target.of(user),
                             details={"during": "password change"})
            raise WrongCurrentPassword()
    new_hash = hash_password(new)
    with write_session() as session:
        changed = session.execute(
            sa.update(User)
            .where(User.id == user_id, User.password_hash == user.password_hash)
            .values(password_hash=new_hash)
        )
        if changed.rowcount != 1:
            raise Conflict("the password was changed meanwhile: give the new current password")
        sign_out_everywhere(session, user_id, revoke_api_tokens=revoke_api_tokens, keep_token_id=keep_token_id)
        audit.record(session, audit.Action.password_change, audit.Target.of(user),
                     details={"apiTokensRevoked": revoke_api_tokens})
        return session.get(User, user_id)


def sign_out_everywhere(
    session: Session, user_id: int, *, revoke_api_tokens: bool = False, keep_token_id: int | None = None
) -> bool:
    """End every web UI session of the account (the next request or event of
    each is refused); with `revoke_api_tokens`, every API token but
    `keep_token_id` too. False when there is no such account."""
    ended = session.execute(
        sa.update(User).where(User.id == user_id).values(session_version=User.session_version + 1)
    ).rowcount
    if revoke_api_tokens:
        revoke_all_tokens(session, user_id, keep_token_id=keep_token_id)
    session.flush()
    return bool(ended)


def set_theme(session: Session, user_id: int, theme: str) -> str:
    """Keep the web UI theme the user picked (Theme's values only)."""
    if theme not in {t.value for t in Theme}:
        raise Invalid("theme must be one of: " + ", ".join(t.value for t in Theme))
    session.execute(sa.update(User).where(User.id == user_id).values(theme=theme))
    return theme


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


def sign_in_methods(user: User, *, single_sign_on: bool) -> list[str]:
    """How the account signs in: "password" (it has one), "sso" (it is
    linked to an identity at the OpenID provider), or both."""
    return [method for method, has in (("password", has_password(user.password_hash)), ("sso", single_sign_on)) if has]


def user_to_admin_dict(user: User, *, single_sign_on: bool = False) -> dict[str, Any]:
    """What an administrator sees of an account (the Users page, /api/v1/users)."""
    return {
        **user_to_dict(user),
        "signIn": sign_in_methods(user, single_sign_on=single_sign_on),
        "status": "disabled" if user.disabled_at is not None else "active",
        "disabledAt": isoformat(user.disabled_at),
        "lastSignInAt": isoformat(user.last_sign_in_at),
    }
