"""FastAPI dependencies: settings, the database engine, and the two kinds of
callers (users with an API token, workers with the orchestrator token)."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass

from fastapi import Depends, Header, Request

from cronium_app.auth.tokens import authenticate_token, touch_token
from cronium_app.db import read_session, write_session
from cronium_app.errors import Forbidden, Invalid, Unauthorized
from cronium_app.models import Role
from cronium_app.settings import Settings, get_settings
from orchestrator_worker.protocol import WORKER_ID_HEADER

WORKER_ID_RE = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")


def settings_dep() -> Settings:
    return get_settings()


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("missing Authorization header (expected 'Bearer <token>')")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization header must be 'Bearer <token>'")
    return token.strip()


@dataclass(frozen=True)
class CurrentUser:
    id: int
    email: str
    role: str
    # The API token this request came with.
    token_id: int


def current_user(authorization: str | None = Header(default=None)) -> CurrentUser:
    token = bearer_token(authorization)
    with read_session() as session:
        user, api_token, stale = authenticate_token(session, token)
        current = CurrentUser(id=user.id, email=user.email, role=user.role, token_id=api_token.id)
    if stale:
        with write_session() as session:
            touch_token(session, current.token_id)
    return current


def admin_user(user: CurrentUser = Depends(current_user)) -> CurrentUser:
    """The caller, who must administer this server."""
    if user.role != Role.admin.value:
        raise Forbidden("only an administrator may do this")
    return user


def client_address(request: Request, settings: Settings = Depends(settings_dep)) -> str:
    """Where the request comes from: the peer's address, or behind
    CRONIUM_TRUSTED_PROXY_HOPS reverse proxies the address the farthest of
    them saw (X-Forwarded-For entries before that are the client's to make up)."""
    peer = request.client.host if request.client else "unknown"
    hops = settings.trusted_proxy_hops
    if not hops:
        return peer
    forwarded = [part.strip() for part in request.headers.get("x-forwarded-for", "").split(",") if part.strip()]
    return forwarded[-hops] if len(forwarded) >= hops else peer


def worker_id(
    authorization: str | None = Header(default=None),
    x_worker_id: str | None = Header(default=None, alias=WORKER_ID_HEADER),
    x_orchestrator_id: str | None = Header(default=None, deprecated=True),
    settings: Settings = Depends(settings_dep),
) -> str:
    """The calling worker's id, from `X-Worker-Id` (`X-Orchestrator-Id`, its
    old name, is still accepted from workers of the previous release)."""
    token = bearer_token(authorization)
    if not hmac.compare_digest(token.encode(), settings.orchestrator_token.encode()):
        raise Unauthorized("invalid orchestrator token")
    named = x_worker_id if x_worker_id is not None else x_orchestrator_id
    if not named or not WORKER_ID_RE.match(named):
        raise Invalid(f"{WORKER_ID_HEADER} header must name the worker (1-128 of letters, digits, '_.:@-')")
    return named
