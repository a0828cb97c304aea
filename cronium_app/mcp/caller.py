"""Who calls the MCP endpoint: a user with an API token that allows MCP
(a token limited to the `mcp` scope, or one with full access). The tools
act in the token's workspace with the token's role, capped at the user's
current role there, exactly as /api/v1 does (`tokens.token_access`)."""

from __future__ import annotations

from dataclasses import dataclass

from cronium_app.auth.access import Access
from cronium_app.auth.tokens import MCP_SCOPE, allows, authenticate_token, bearer_token, token_access, touch_token
from cronium_app.db import read_session, write_session
from cronium_app.errors import Forbidden


@dataclass(frozen=True)
class Caller:
    user_id: int
    token_id: int
    # The workspace the tools act in and the role they act with: what every
    # tool hands to the services, whose checks refuse what the role may not do.
    access: Access
    # The account's email, for the audit log's entries of what the tools change.
    email: str


def authenticate(authorization: str | None) -> Caller:
    """The caller of one HTTP request, or Unauthorized / Forbidden."""
    raw = bearer_token(authorization)
    with read_session() as session:
        user, token, stale = authenticate_token(session, raw)
        if not allows(token, MCP_SCOPE):
            raise Forbidden("this token may not call the MCP endpoint")
        caller = Caller(
            user_id=user.id, token_id=token.id, access=token_access(session, token), email=user.email
        )
    if stale:
        with write_session() as session:
            touch_token(session, caller.token_id)
    return caller
