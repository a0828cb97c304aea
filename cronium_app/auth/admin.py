"""Instance administration of accounts: the list, disabling and enabling,
the instance role. Each action is one function taking the acting
administrator's id, checked against the database in the same transaction
(a tab or a token that was an admin's a moment ago is not enough).

The server always keeps an enabled administrator: demoting or disabling
the last one is refused. On PostgreSQL the enabled admins' rows are locked
first, so two admins demoting each other at the same moment cannot both
succeed; SQLite runs one write transaction at a time already.

Disabling an account ends its web sessions (the session version moves on),
deletes its API tokens and withdraws its password-reset links at once; its
schedules stop firing while it stays disabled (scheduler/firing.py skips
their fire times). Enabling it lets it sign in again; it makes new tokens.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from cronium_app import audit
from cronium_app.auth import links
from cronium_app.auth.tokens import revoke_all_tokens
from cronium_app.auth.users import sign_out_everywhere, user_to_admin_dict
from cronium_app.db import is_sqlite
from cronium_app.errors import Conflict, Forbidden, Invalid, NotFound
from cronium_app.models import OidcIdentity, PasswordReset, Role, User
from cronium_app.pagination import Page, escape_like
from cronium_app.timeutil import utcnow

MAX_PAGE = 100
MAX_QUERY = 320
ROLES = tuple(role.value for role in Role)


def require_admin(session: Session, actor_id: int) -> User:
    """The acting user, who must be an enabled administrator now."""
    actor = session.get(User, actor_id)
    if actor is None or actor.role != Role.admin.value or actor.disabled_at is not None:
        raise Forbidden("only an administrator may do this")
    return actor


def _target(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def refuse_last_admin(session: Session, losing: User, what: str) -> None:
    """Refuse when `losing` is the last enabled administrator."""
    if losing.role != Role.admin.value or losing.disabled_at is not None:
        return
    query = select(User.id).where(User.role == Role.admin.value, User.disabled_at.is_(None))
    if not is_sqlite(session.get_bind()):
        query = query.with_for_update()
    admins = set(session.exec(query).all())
    if admins <= {losing.id}:
        raise Conflict(
            f"cannot {what} {losing.email}: it is the last enabled administrator, and the server must keep one "
            "(make another account an administrator first)"
        )


def list_users(session: Session, actor_id: int, *, q: str = "", offset: int = 0, limit: int = 50) -> Page:
    """Accounts, oldest first; `q` finds emails containing it."""
    require_admin(session, actor_id)
    if len(q) > MAX_QUERY:
        raise Invalid(f"the search may have at most {MAX_QUERY} characters", field="q")
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise Invalid(f"limit must be 1 to {MAX_PAGE} and offset 0 or more", field="limit")
    where = []
    if q.strip():
        where.append(sa.func.lower(User.email).like(f"%{escape_like(q.strip().lower())}%", escape="\\"))
    total = session.exec(select(sa.func.count()).select_from(User).where(*where)).one()
    rows = session.exec(select(User).where(*where).order_by(User.id).offset(offset).limit(limit)).all()
    linked = _with_single_sign_on(session, [user.id for user in rows])
    items = [user_to_admin_dict(user, single_sign_on=user.id in linked) for user in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


def _with_single_sign_on(session: Session, user_ids: list[int]) -> set[int]:
    """Those of the accounts that are linked to an identity at an OpenID provider."""
    if not user_ids:
        return set()
    return set(session.exec(select(OidcIdentity.user_id).where(OidcIdentity.user_id.in_(user_ids))).all())


def _admin_view(session: Session, user: User) -> dict[str, Any]:
    return user_to_admin_dict(user, single_sign_on=bool(_with_single_sign_on(session, [user.id])))


def get_user(session: Session, actor_id: int, user_id: int) -> dict[str, Any]:
    require_admin(session, actor_id)
    return _admin_view(session, _target(session, user_id))


def disable_user(session: Session, actor_id: int, user_id: int) -> dict[str, Any]:
    """The account can no longer sign in; its sessions, API tokens and
    reset links stop working now. Disabling a disabled account changes nothing."""
    require_admin(session, actor_id)
    if user_id == actor_id:
        raise Conflict("you cannot disable your own account: ask another administrator")
    user = _target(session, user_id)
    if user.disabled_at is not None:
        return _admin_view(session, user)
    refuse_last_admin(session, user, "disable")
    now = utcnow()
    session.execute(sa.update(User).where(User.id == user_id).values(disabled_at=now))
    sign_out_everywhere(session, user_id)
    revoke_all_tokens(session, user_id)
    links.withdraw(session, PasswordReset, PasswordReset.user_id == user_id)
    session.flush()
    session.refresh(user)
    audit.record(session, audit.Action.user_disable, user)
    return _admin_view(session, user)


def enable_user(session: Session, actor_id: int, user_id: int) -> dict[str, Any]:
    """The account may sign in again (with its password; its old tokens are gone)."""
    require_admin(session, actor_id)
    user = _target(session, user_id)
    if user.disabled_at is not None:
        session.execute(sa.update(User).where(User.id == user_id).values(disabled_at=None))
        session.flush()
        session.refresh(user)
        audit.record(session, audit.Action.user_enable, user)
    return _admin_view(session, user)


def set_role(session: Session, actor_id: int, user_id: int, role: str) -> dict[str, Any]:
    """Make the account an administrator of the server, or a user."""
    require_admin(session, actor_id)
    if role not in ROLES:
        raise Invalid(f"role must be one of: {', '.join(ROLES)}", field="role")
    user = _target(session, user_id)
    if user.role == role:
        return _admin_view(session, user)
    if role != Role.admin.value:
        refuse_last_admin(session, user, "demote")
    before = audit.snapshot(user)
    session.execute(sa.update(User).where(User.id == user_id).values(role=role))
    session.flush()
    session.refresh(user)
    audit.record(session, audit.Action.user_update, user, before=before, after=user)
    return _admin_view(session, user)
