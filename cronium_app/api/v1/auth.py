from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from cronium_app.api.deps import client_address
from cronium_app.api.errors import BODY_ERRORS, errors
from cronium_app.api.v1 import replies
from cronium_app.api.v1.common import SettingsDep, UserDep
from cronium_app.auth.tokens import create_token, token_to_dict
from cronium_app.auth.users import (
    MAX_PASSWORD,
    add_account,
    change_password,
    login,
    prepare_registration,
    user_to_dict,
)
from cronium_app.db import write_session
from cronium_app.models import User
from cronium_app.settings import Settings
from cronium_app.timeutil import utcnow

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

AddressDep = Annotated[str, Depends(client_address)]
# Too many tries (429), or too many password checks at once on the server (503).
THROTTLED = (429, 503)


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD)
    token_name: str = Field(default="api", min_length=1, max_length=100, alias="tokenName")


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    current_password: str = Field(min_length=1, max_length=MAX_PASSWORD, alias="currentPassword")
    new_password: str = Field(max_length=MAX_PASSWORD, alias="newPassword")
    revoke_api_tokens: bool = Field(
        default=False,
        alias="revokeApiTokens",
        description="Also revoke every other API token of the account (the one of this request stays)",
    )


def _with_token(session: Session, settings: Settings, user: User, name: str) -> dict[str, Any]:
    """The reply of register and login: the user and a new API token that
    expires after CRONIUM_LOGIN_TOKEN_TTL (0: never)."""
    ttl = settings.login_token_ttl
    expires_at = utcnow() + ttl if ttl.total_seconds() > 0 else None
    token, raw = create_token(session, user.id, name, expires_at)
    return {"user": user_to_dict(user), "token": raw, "tokenInfo": token_to_dict(token)}


@router.post("/register", status_code=201, response_model=replies.SignedIn, responses=errors(403, 409, *THROTTLED, *BODY_ERRORS))
def register(body: Credentials, settings: SettingsDep, address: AddressDep) -> dict[str, Any]:
    """Create an account and a first API token (shown only in this reply;
    it expires after CRONIUM_LOGIN_TOKEN_TTL, 30 days by default)."""
    registration = prepare_registration(settings, body.email, body.password, address=address)
    with write_session() as session:
        user = add_account(session, registration)
        session.flush()
        return _with_token(session, settings, user, body.token_name)


@router.post("/login", name="login", response_model=replies.SignedIn, responses=errors(401, *THROTTLED, *BODY_ERRORS))
def login_route(body: Credentials, settings: SettingsDep, address: AddressDep) -> dict[str, Any]:
    """Exchange email and password for a new API token (it expires after
    CRONIUM_LOGIN_TOKEN_TTL, 30 days by default). After 10 wrong passwords
    in a minute for one account, sign-ins to it wait (429, Retry-After)."""
    user = login(settings, body.email, body.password, address=address)
    with write_session() as session:
        return _with_token(session, settings, user, body.token_name)


@router.post("/password", name="change_password", response_model=replies.UserReply, responses=errors(401, 403, 409, *THROTTLED, *BODY_ERRORS))
def change_password_route(
    body: PasswordChange, user: UserDep, settings: SettingsDep, address: AddressDep
) -> dict[str, Any]:
    """Change the account's password (the current one is required; a wrong
    one is a 403 and counts as a failed sign-in). Every web UI session of the
    account ends; API tokens keep working unless `revokeApiTokens` is true."""
    changed = change_password(
        settings,
        user.id,
        body.current_password,
        body.new_password,
        address=address,
        revoke_api_tokens=body.revoke_api_tokens,
        keep_token_id=user.token_id,
    )
    return {"user": user_to_dict(changed)}
