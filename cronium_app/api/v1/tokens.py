from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from cronium_app.api.errors import BODY_ERRORS, errors
from cronium_app.api.v1 import replies
from cronium_app.api.v1.common import SettingsDep, TokenId, UserDep
from cronium_app.auth import tokens
from cronium_app.db import read_session, write_session
from cronium_app.errors import Invalid
from cronium_app.timeutil import as_utc, utcnow

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"], responses=errors(401, 404, 422))


class TokenBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1, max_length=100)
    expires_at: datetime | None = Field(default=None, alias="expiresAt")
    # Left out: this token's workspace and role. Neither may go beyond them.
    workspace_id: int | None = Field(default=None, alias="workspaceId", ge=1, le=2**31 - 1)
    role: Literal["owner", "editor", "runner", "viewer"] | None = None
    scopes: list[Literal["mcp"]] | None = Field(
        default=None, min_length=1, max_length=len(tokens.SCOPES),
        description='Left out: full access. ["mcp"]: the token may call the MCP endpoint (/api/mcp) and nothing else',
    )


@router.get("", response_model=replies.TokenList)
def list_tokens(user: UserDep) -> dict[str, Any]:
    """Your API tokens (never the tokens themselves)."""
    with read_session() as session:
        return {"items": tokens.list_tokens(session, user.id)}


@router.post("", status_code=201, response_model=replies.NewToken, responses=errors(403, 429, *BODY_ERRORS))
def create_token(body: TokenBody, user: UserDep, settings: SettingsDep) -> dict[str, Any]:
    """The token itself is in this reply only; store it now. It expires at
    `expiresAt` (never when that is left out). `scopes: ["mcp"]` limits it
    to the MCP endpoint (/api/mcp): every /api/v1 route refuses it (403). An
    account may create 30 tokens an hour (CRONIUM_TOKEN_CREATE_LIMIT); past
    that, 429. The new token acts in this token's workspace, with `role`
    (default: this token's role; never higher)."""
    if body.expires_at is not None and as_utc(body.expires_at) <= utcnow():
        raise Invalid("expiresAt must be in the future", field="expiresAt")
    with write_session() as session:
        token, raw = tokens.create_user_token(
            session, settings, user.id, body.name.strip(), body.expires_at,
            workspace_id=body.workspace_id, role=body.role, within=user.access,
            scopes=tuple(body.scopes) if body.scopes is not None else None,
        )
        return {"token": raw, **tokens.token_to_dict(token)}


@router.delete("/{token_id}", status_code=204, responses=errors(404, 422))
def revoke_token(token_id: TokenId, user: UserDep) -> Response:
    """Revoke a token: requests made with it are refused from now on."""
    with write_session() as session:
        tokens.revoke_token(session, user.id, token_id)
    return Response(status_code=204)
