"""FastAPI dependencies: settings, the database engine, and the two kinds of
callers (users with an API token, workers with the orchestrator token)."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass

from fastapi import Depends, Header
from starlette.requests import HTTPConnection

from cronium_app import audit
from cronium_app import client_address as addresses
from cronium_app.auth.access import Access
from cronium_app.auth.tokens import (
    allows, authenticate_token, bearer_token, is_account_token, token_access, touch_token,
)
from cronium_app.db import read_session, write_session
from cronium_app.errors import Forbidden, Invalid, Unauthorized
from cronium_app.models import Role
from cronium_app.settings import Settings, get_settings
from orchestrator_worker.protocol import WORKER_ID_HEADER

WORKER_ID_RE = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")


def settings_dep() -> Settings:
    return get_settings()


@dataclass(frozen=True)
class CurrentUser:
    id: int
    email: str
    role: str
    # The API token this request came with.
    token_id: int
    # The token's workspace and the role it acts with there: what every
    # /api/v1 route hands to the services.
    access: Access
    # The account's own full token (tokens.is_account_token): only it may
    # do what the instance's administrators do.
    account_token: bool


def current_user(authorization: str | None = Header(default=None)) -> CurrentUser:
    token = bearer_token(authorization)
    with read_session() as session:
        user, api_token, stale = authenticate_token(session, token)
        if not allows(api_token, None):
            raise Forbidden("this token is limited to MCP: it may call /api/mcp only")
        access = token_access(session, api_token)
        current = CurrentUser(id=user.id, email=user.email, role=user.role, token_id=api_token.id,
                              access=access, account_token=is_account_token(session, access))
    if stale:
        with write_session() as session:
            touch_token(session, current.token_id)
    audit.context.identify(audit.ActorKind.token, current.id, current.email, current.token_id)
    return current


def admin_user(user: CurrentUser = Depends(current_user)) -> CurrentUser:
    """The caller, who must administer this server."""
    if user.role != Role.admin.value:
        raise Forbidden("only an administrator may do this")
    if not user.account_token:
        raise Forbidden("this token acts in one workspace or with a lower role: administering the server takes "
                        "your account's own token")
    return user


def client_address(request: HTTPConnection, settings: Settings = Depends(settings_dep)) -> str:
    """Where the request comes from (cronium_app/client_address.py)."""
    return addresses.client_address(request, settings)


# Where a request came in, by the start of its path (the audit log's source).
_SOURCES = (
    ("/api/session", audit.Source.ui),
    ("/api/hooks/", audit.Source.webhook),
    ("/api/runtime/", audit.Source.runtime),
    ("/api/internal/", audit.Source.system),
)
# What the command line sends (cronium_cli/client.py); like any header, the
# client's to say: it tells apart API callers, it proves nothing.
CLI_USER_AGENT_PREFIX = "cronium-cli/"


def _source(request: HTTPConnection) -> audit.Source:
    path = request.url.path
    source = next((source for prefix, source in _SOURCES if path.startswith(prefix)), audit.Source.api)
    if source is audit.Source.api and request.headers.get("user-agent", "").startswith(CLI_USER_AGENT_PREFIX):
        return audit.Source.cli
    return source


async def audit_caller(request: HTTPConnection, address: str = Depends(client_address)) -> None:
    """Every request starts a new audit caller: where it came in and from
    which address (the token check names the user later). Async, so that
    it runs in the request's own context, which the route's thread copies."""
    audit.context.begin(_source(request), address)


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
