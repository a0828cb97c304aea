from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from cronium_app.api.errors import BODY_ERRORS, errors
from cronium_app.api.v1.common import SettingsDep
from cronium_app.auth.tokens import create_token, token_to_dict
from cronium_app.auth.users import login, register_user, user_to_dict
from cronium_app.db import write_session

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    token_name: str = Field(default="api", min_length=1, max_length=100, alias="tokenName")


def _with_token(session, user, name: str) -> dict[str, Any]:
    token, raw = create_token(session, user.id, name)
    return {"user": user_to_dict(user), "token": raw, "tokenInfo": token_to_dict(token)}


@router.post("/register", status_code=201, responses=errors(409, *BODY_ERRORS))
def register(body: Credentials, settings: SettingsDep) -> dict[str, Any]:
    """Create an account and a first API token (shown only in this reply)."""
    with write_session() as session:
        user = register_user(session, settings, body.email, body.password)
        session.flush()
        return _with_token(session, user, body.token_name)


@router.post("/login", responses=errors(401, *BODY_ERRORS))
def login_route(body: Credentials) -> dict[str, Any]:
    """Exchange email and password for a new API token."""
    with write_session() as session:
        user = login(session, body.email, body.password)
        return _with_token(session, user, body.token_name)
