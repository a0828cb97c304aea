"""Invitations: an administrator invites an email address with an instance
role; the single-use link (valid CRONIUM_INVITE_TTL, 7 days by default)
lets that person set a password and sign in. Accepting is how accounts
are made when registration is by invitation only; when it is closed, no
invitation is made or accepted."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from cronium_app import audit
from cronium_app.auth import links
from cronium_app.auth.admin import ROLES, require_admin
from cronium_app.auth.passwords import hash_password
from cronium_app.auth.throttle import account_throttles
from cronium_app.auth.users import Registration, add_account, stamp_sign_in, validate_email, validate_password
from cronium_app.db import read_session, write_session
from cronium_app.errors import Conflict, Forbidden, Invalid, NotFound
from cronium_app.models import Invitation, User
from cronium_app.settings import Settings
from cronium_app.timeutil import isoformat, utcnow

WHAT = "invitation"
INVITE_PATH = "/invite/"
CLOSED = "registration is closed on this server: no new account can be made, not even by invitation"
MAX_LISTED = 200


def invite_url(settings: Settings, raw: str) -> str:
    return f"{settings.origin}{INVITE_PATH}{raw}"


def invitation_to_dict(invitation: Invitation) -> dict[str, Any]:
    return {
        "id": invitation.id,
        "email": invitation.email,
        "role": invitation.role,
        "status": links.status(invitation),
        "createdAt": isoformat(invitation.created_at),
        "expiresAt": isoformat(invitation.expires_at),
        "usedAt": isoformat(invitation.used_at),
    }


def _refuse_when_closed(settings: Settings) -> None:
    if settings.registration_mode == "closed":
        raise Forbidden(CLOSED)


def create_invitation(
    session: Session, settings: Settings, actor_id: int, email: str, role: str
) -> tuple[dict[str, Any], str]:
    """(the invitation, its link): the link is shown once, only its hash is kept.
    A new invitation for the same email withdraws the older ones."""
    require_admin(session, actor_id)
    _refuse_when_closed(settings)
    email = validate_email(email)
    if role not in ROLES:
        raise Invalid(f"role must be one of: {', '.join(ROLES)}", field="role")
    if session.exec(select(User.id).where(User.email == email)).first() is not None:
        raise Conflict("an account with this email already exists", field="email")
    links.withdraw(session, Invitation, Invitation.email == email)
    now = utcnow()
    raw, token_hash = links.new_token()
    invitation = Invitation(email=email, role=role, token_hash=token_hash, created_by=actor_id, created_at=now,
                            expires_at=now + settings.invite_ttl)
    session.add(invitation)
    session.flush()
    audit.record(session, audit.Action.user_invite, audit.Target("invitation", invitation.id, email), details={"role": role})
    return invitation_to_dict(invitation), invite_url(settings, raw)


def list_invitations(session: Session, actor_id: int) -> list[dict[str, Any]]:
    """Invitations not used yet (pending, expired or withdrawn), newest first."""
    require_admin(session, actor_id)
    rows = session.exec(
        select(Invitation).where(Invitation.used_at.is_(None)).order_by(Invitation.id.desc()).limit(MAX_LISTED)
    ).all()
    return [invitation_to_dict(row) for row in rows]


def revoke_invitation(session: Session, actor_id: int, invitation_id: int) -> dict[str, Any]:
    require_admin(session, actor_id)
    invitation = session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound(f"invitation {invitation_id} not found")
    if invitation.used_at is not None:
        raise Conflict("this invitation has been used already: disable the account instead")
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        session.add(invitation)
        session.flush()
        audit.record(session, audit.Action.user_invite_revoke, audit.Target("invitation", invitation.id, invitation.email))
    return invitation_to_dict(invitation)


def invitation_for_link(settings: Settings, raw: str) -> dict[str, Any]:
    """What the invitation page shows (the email and role), or LinkRefused."""
    _refuse_when_closed(settings)
    with read_session() as session:
        return invitation_to_dict(links.find(session, Invitation, raw, WHAT))


def accept_for_verified_email(session: Session, registration: Registration) -> User | None:
    """Single sign-on by an invited person: the newest pending invitation
    for the registration's email (verified by the identity provider) makes
    the account with its role and is used up; None when there is none.
    The provider's check of the email stands in for the link."""
    if session.exec(select(User.id).where(User.email == registration.email)).first() is not None:
        return None
    now = utcnow()
    invitation = session.exec(
        select(Invitation)
        .where(Invitation.email == registration.email, Invitation.used_at.is_(None),
               Invitation.revoked_at.is_(None), Invitation.expires_at > now)
        .order_by(Invitation.id.desc())
    ).first()
    if invitation is None:
        return None
    user = add_account(session, registration, role=invitation.role)
    session.flush()
    links.claim(session, Invitation, invitation.id, WHAT, user_id=user.id)
    return user


def accept_invitation(settings: Settings, raw: str, password: str, *, address: str) -> User:
    """Create the invited account with this password, once."""
    account_throttles(settings).register_by_address.take(address)
    invited = invitation_for_link(settings, raw)
    validate_password(password)
    registration = Registration(invited["email"], hash_password(password))
    with write_session() as session:
        invitation = links.find(session, Invitation, raw, WHAT)
        user = add_account(session, registration, role=invitation.role)
        session.flush()
        links.claim(session, Invitation, invitation.id, WHAT, user_id=user.id)
        stamp_sign_in(session, user.id)
        session.flush()
        session.refresh(user)
        return user
