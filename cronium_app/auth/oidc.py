"""Single sign-on through OpenID Connect: the browser's round trip.

`begin` makes a flow (state, nonce, PKCE verifier, the page to go to
after) and the provider's sign-in URL; the flow travels in a short-lived
cookie signed with SECRET_KEY (HttpOnly, SameSite=Lax: the provider's
redirect back is a top-level GET, which Lax cookies go with), so any app
replica can finish it. `complete` checks the provider's answer against that
cookie, has the code exchanged and the ID token verified
(auth/oidc_provider.py), and finds the account (auth/oidc_accounts.py).

Every refusal is a `SignOnRefused` whose reason is a key of REFUSALS (the
login page shows the words; the audit log records the reason), and is
recorded as a failed sign-in.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

import jwt
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from cronium_app import audit, routes
from cronium_app.auth import oidc_accounts, oidc_provider
from cronium_app.auth.oidc_accounts import SignOnRefused
from cronium_app.errors import CroniumError, TooManyRequests
from cronium_app.models import User
from cronium_app.settings import Settings
from cronium_app.timeutil import utcnow

logger = logging.getLogger(__name__)

FLOW_COOKIE = "cronium_oidc_flow"
FLOW_COOKIE_PATH = "/api/session/oidc"
# How long a person has at the provider before the flow expires.
FLOW_TTL = timedelta(minutes=10)
_FLOW_TYPE = "oidc-flow"
_ALGORITHM = "HS256"
# Bounds on what the provider's redirect brings back.
MAX_CODE_CHARS = 2048
MAX_STATE_CHARS = 128
MAX_COOKIE_CHARS = 4096

# The login page's words for each refusal (/login?sso_error=<reason>).
REFUSALS = {
    "denied": "Signing in was cancelled at the identity provider.",
    "provider_error": "The identity provider refused the sign-in. Try again, or ask an administrator.",
    "unreachable": "The identity provider could not be reached or gave an unusable answer. Try again in a moment.",
    "exchange": "The identity provider did not accept the sign-in's code. Start again.",
    "token": "The identity provider's answer could not be verified, so nobody was signed in. Start again.",
    "state": "This sign-in was not started in this browser (its state does not match), so it was refused. "
             "Start again from this page.",
    "expired": "The sign-in took too long (or was started in another browser). Start again.",
    "no_verified_email": "The identity provider did not give a verified email address, "
                         "which a new account here needs.",
    "unverified_email": "An account here has this email, but the identity provider has not verified the address, "
                        "so it was not linked. Verify the email at the provider, or sign in with the password.",
    "linked_elsewhere": "The account with this email is linked to another identity at the provider. "
                        "Ask an administrator.",
    "not_allowed": "There is no account here for this identity, and this server does not let single sign-on "
                   "create one. Ask an administrator for an invitation.",
    "disabled": "This account has been disabled by an administrator.",
    "throttled": "Too many new accounts from this address. Try again later.",
    "failed": "Signing in failed on the server. Try again in a moment.",
}


@dataclass(frozen=True)
class Flow:
    state: str
    nonce: str
    code_verifier: str
    next_page: str


def _seal(flow: Flow, settings: Settings) -> str:
    now = utcnow()
    claims = {"typ": _FLOW_TYPE, "st": flow.state, "no": flow.nonce, "cv": flow.code_verifier,
              "nx": flow.next_page, "iss": settings.oidc_issuer, "exp": int((now + FLOW_TTL).timestamp())}
    return jwt.encode(claims, settings.secret_key, algorithm=_ALGORITHM)


def _open(cookie: str, settings: Settings) -> Flow:
    """The flow this browser started, or SignOnRefused("expired") for a
    missing, forged or expired cookie (one for another provider too)."""
    if not cookie or len(cookie) > MAX_COOKIE_CHARS:
        raise SignOnRefused("expired")
    try:
        claims = jwt.decode(cookie, settings.secret_key, algorithms=[_ALGORITHM], options={"require": ["exp"]})
    except jwt.PyJWTError:
        raise SignOnRefused("expired") from None
    fields = [claims.get(name) for name in ("st", "no", "cv", "nx")]
    if (claims.get("typ") != _FLOW_TYPE or claims.get("iss") != settings.oidc_issuer
            or not all(isinstance(value, str) for value in fields)):
        raise SignOnRefused("expired")
    return Flow(*fields)


async def begin(settings: Settings, next_page: str | None) -> tuple[str, str]:
    """(the provider's sign-in URL, the flow cookie's value), or
    SignOnRefused("unreachable") when the provider cannot be asked."""
    flow = Flow(state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32),
                # RFC 7636: 43 to 128 characters; 64 random bytes give 86.
                code_verifier=secrets.token_urlsafe(64), next_page=routes.safe_next(next_page))
    try:
        provider = await oidc_provider.metadata(settings)
    except oidc_provider.ProviderFailed as failed:
        logger.warning("single sign-on could not start (%s): %s", failed.reason, failed.detail)
        raise SignOnRefused(failed.reason) from None
    url = oidc_provider.authorization_url(settings, provider, state=flow.state, nonce=flow.nonce,
                                          code_verifier=flow.code_verifier)
    return url, _seal(flow, settings)


@dataclass(frozen=True)
class Answer:
    """What the provider's redirect back brought (query parameters)."""

    code: str | None = None
    state: str | None = None
    error: str | None = None


def _checked_flow(settings: Settings, cookie: str, answer: Answer) -> Flow:
    if answer.error is not None:
        # An error signs nobody in, so it is told whatever its state (some
        # providers leave the state out of an error).
        raise SignOnRefused("denied" if answer.error == "access_denied" else "provider_error")
    flow = _open(cookie, settings)
    state = answer.state or ""
    # Constant time: the state is what ties the answer to this browser.
    if len(state) > MAX_STATE_CHARS or not hmac.compare_digest(state.encode(), flow.state.encode()):
        raise SignOnRefused("state")
    if not answer.code or len(answer.code) > MAX_CODE_CHARS:
        raise SignOnRefused("provider_error")
    return flow


async def complete(settings: Settings, cookie: str, answer: Answer, *, address: str) -> tuple[User, str]:
    """(the signed-in account, the page to go to) or SignOnRefused; the
    sign-in or its failure is in the audit log either way."""
    try:
        flow = _checked_flow(settings, cookie, answer)
        claims = await _claims(settings, answer.code or "", flow)
        identity = oidc_accounts.identity_from_claims(settings, settings.oidc_issuer, claims)
        user = await run_in_threadpool(_sign_in, settings, identity, address)
        return user, flow.next_page
    except SignOnRefused as refused:
        await run_in_threadpool(_record_failure, refused, settings)
        raise


async def _claims(settings: Settings, code: str, flow: Flow) -> dict:
    try:
        return await oidc_provider.verified_claims(settings, code, code_verifier=flow.code_verifier, nonce=flow.nonce)
    except oidc_provider.ProviderFailed as failed:
        # What failed, for the operator; never a token or the secret.
        logger.warning("single sign-on refused (%s): %s", failed.reason, failed.detail)
        raise SignOnRefused(failed.reason) from None


def _sign_in(settings: Settings, identity: oidc_accounts.ProviderIdentity, address: str) -> User:
    try:
        return oidc_accounts.sign_in(settings, identity, address=address)
    except TooManyRequests:
        raise SignOnRefused("throttled", identity.email) from None
    except CroniumError as error:
        logger.warning("single sign-on could not open an account: %s", error.message)
        raise SignOnRefused("failed", identity.email) from None
    except IntegrityError:
        # A race: the same identity or email signed on in another request meanwhile.
        logger.warning("single sign-on raced another sign-in of the same identity")
        raise SignOnRefused("failed", identity.email) from None


def _record_failure(refused: SignOnRefused, settings: Settings) -> None:
    target = audit.Target("user", refused.user_id, refused.email) if refused.email or refused.user_id else None
    audit.record_now(audit.Action.sign_in_failed, target, email=refused.email,
                     details={"method": "single sign-on", "provider": settings.oidc_issuer,
                              "reason": refused.reason})


def refusal_words(reason: str | None) -> str:
    """The login page's words for a refusal reason ("" for none or an unknown one)."""
    return REFUSALS.get(reason or "", "")


def start_url(next_page: str | None) -> str:
    """The login page's "Sign in with ..." link (the page to go to after)."""
    return f"{FLOW_COOKIE_PATH}/login?next={quote(routes.safe_next(next_page), safe='/')}"
