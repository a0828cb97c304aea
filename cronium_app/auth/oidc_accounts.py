"""The account a verified single sign-on opens (auth/oidc.py calls this
once the provider's ID token is checked).

In order: the account already linked to the provider's (issuer, subject);
else the account with the provider's email, linked now if the provider says
the email is verified; else a new account, if this server lets single
sign-on create one (CRONIUM_OIDC_CREATE_ACCOUNTS). New accounts are made by
`users.add_account`, the one service registration and invitations use.

With CRONIUM_OIDC_ROLE_CLAIM set, the instance role follows the claim at
every sign-in; the last enabled administrator is never demoted by it (the
role stays admin and the audit log says why).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from cronium_app import audit
from cronium_app.auth import admin, invitations
from cronium_app.auth.passwords import NO_PASSWORD
from cronium_app.auth.throttle import account_throttles
from cronium_app.auth.users import EMAIL_RE, Registration, add_account, normalize_email, stamp_sign_in
from cronium_app.db import write_session
from cronium_app.errors import Conflict, Forbidden
from cronium_app.models import OidcIdentity, Role, User
from cronium_app.settings import Settings
from cronium_app.timeutil import utcnow

logger = logging.getLogger(__name__)

# A role claim with more values than this is not read (a person's groups
# are a few dozen at most).
MAX_CLAIM_VALUES = 1000


class SignOnRefused(Exception):
    """The sign-on cannot open an account; `reason` is a key of
    auth/oidc.py's REFUSALS (the words the login page shows)."""

    def __init__(self, reason: str, email: str | None = None, user_id: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.email = email
        self.user_id = user_id


@dataclass(frozen=True)
class ProviderIdentity:
    """What the provider vouches for, read from a verified ID token."""

    issuer: str
    subject: str
    # Normalized; None when the token has none (or not a valid address).
    email: str | None
    email_verified: bool
    # admin or user from the role claim; None when roles are not managed by it.
    role: str | None


def _claim(claims: dict[str, Any], path: str) -> Any:
    """A claim by name, or by a dotted path into nested objects
    (`realm_access.roles`)."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def role_from_claims(settings: Settings, claims: dict[str, Any]) -> str | None:
    """admin when the role claim holds one of CRONIUM_OIDC_ADMIN_VALUES
    (a string, or a list of them), else user; None when no claim is set."""
    if not settings.oidc_role_claim:
        return None
    value = _claim(claims, settings.oidc_role_claim)
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    held = {item for item in values[:MAX_CLAIM_VALUES] if isinstance(item, str)}
    return Role.admin.value if held & settings.oidc_admin_value_set else Role.user.value


def identity_from_claims(settings: Settings, issuer: str, claims: dict[str, Any]) -> ProviderIdentity:
    email = claims.get("email")
    email = normalize_email(email) if isinstance(email, str) else None
    if email is not None and (len(email) > 320 or not EMAIL_RE.match(email)):
        email = None
    return ProviderIdentity(
        issuer=issuer,
        subject=claims["sub"],
        email=email,
        # Only a JSON true counts: some providers send "true" as a string,
        # which is not what the claim's definition says.
        email_verified=claims.get("email_verified") is True,
        role=role_from_claims(settings, claims),
    )


def sign_in(settings: Settings, identity: ProviderIdentity, *, address: str) -> User:
    """The account this identity opens, linked, created and given its role
    as needed, with the sign-in recorded; or SignOnRefused."""
    with write_session() as session:
        user = _linked_account(session, identity) or _account_by_email(session, identity)
        if user is None:
            user = _new_account(session, settings, identity, address=address)
        if user.disabled_at is not None:
            raise SignOnRefused("disabled", user.email, user.id)
        audit.context.identify(audit.ActorKind.user, user.id, user.email)
        _apply_claimed_role(session, user, identity.role)
        stamp_sign_in(session, user.id)
        session.execute(
            sa.update(OidcIdentity)
            .where(OidcIdentity.issuer == identity.issuer, OidcIdentity.subject == identity.subject)
            .values(last_sign_in_at=utcnow(), email=identity.email)
        )
        audit.record(session, audit.Action.sign_in, audit.Target.of(user),
                     details={"method": "single sign-on", "provider": identity.issuer})
        session.flush()
        session.refresh(user)
        return user


def _linked_account(session: Session, identity: ProviderIdentity) -> User | None:
    return session.exec(
        select(User).join(OidcIdentity, OidcIdentity.user_id == User.id)
        .where(OidcIdentity.issuer == identity.issuer, OidcIdentity.subject == identity.subject)
    ).first()


def _link(session: Session, user: User, identity: ProviderIdentity) -> None:
    session.add(OidcIdentity(user_id=user.id, issuer=identity.issuer, subject=identity.subject, email=identity.email))
    session.flush()


def _account_by_email(session: Session, identity: ProviderIdentity) -> User | None:
    """The existing account with the provider's email, now linked to the
    identity; None when there is none."""
    if identity.email is None:
        return None
    user = session.exec(select(User).where(User.email == identity.email)).first()
    if user is None:
        return None
    # Linking on an email the provider has not verified would be an account
    # takeover: anyone able to register that address at the provider (or a
    # provider that lets users type any email) would sign in to the
    # existing password account of its owner here.
    if not identity.email_verified:
        raise SignOnRefused("unverified_email", identity.email, user.id)
    # The account already has an identity at this provider, another person
    # (subject) there: the provider gave the email to someone else since.
    other = session.exec(
        select(OidcIdentity.id).where(OidcIdentity.user_id == user.id, OidcIdentity.issuer == identity.issuer)
    ).first()
    if other is not None:
        raise SignOnRefused("linked_elsewhere", identity.email, user.id)
    _link(session, user, identity)
    audit.record(session, audit.Action.sso_link, audit.Target.of(user), details={"provider": identity.issuer})
    return user


def _new_account(session: Session, settings: Settings, identity: ProviderIdentity, *, address: str) -> User:
    """A new account for the identity, if this server lets single sign-on
    make one; else SignOnRefused("not_allowed")."""
    # The email becomes the account's key here and the address other
    # people's invitations and resets are sent to: it must be the person's.
    if identity.email is None or not identity.email_verified:
        raise SignOnRefused("no_verified_email", identity.email)
    mode = settings.oidc_create_accounts
    if mode == "never":
        raise SignOnRefused("not_allowed", identity.email)
    account_throttles(settings).register_by_address.take(address)
    registration = Registration(identity.email, NO_PASSWORD)
    user: User | None
    if mode == "always" or settings.registration_mode == "open":
        user = add_account(session, registration)
    else:
        user = invitations.accept_for_verified_email(session, registration)
        if user is None:
            # Not invited: only the server's first account, as with a password.
            user = _first_account(session, registration, identity.email)
    _link(session, user, identity)
    return user


def _first_account(session: Session, registration: Registration, email: str) -> User:
    try:
        return add_account(session, Registration(registration.email, registration.password_hash, first_only=True))
    except Forbidden:
        raise SignOnRefused("not_allowed", email) from None


def _apply_claimed_role(session: Session, user: User, role: str | None) -> None:
    if role is None or role == user.role:
        return
    if role != Role.admin.value:
        try:
            admin.refuse_last_admin(session, user, "demote")
        except Conflict:
            logger.warning("the role claim would demote the last enabled administrator (user %s): kept admin",
                           user.id)
            audit.record(session, audit.Action.user_role_kept, audit.Target.of(user),
                         details={"claimedRole": role, "kept": "admin: the last enabled administrator"})
            return
    before = audit.snapshot(user)
    session.execute(sa.update(User).where(User.id == user.id).values(role=role))
    session.flush()
    session.refresh(user)
    audit.record(session, audit.Action.user_update, user, before=before, after=user,
                 details={"by": "the identity provider's role claim"})
