"""The web UI's sign-in: an HttpOnly cookie set and cleared over plain HTTP.

The page's JavaScript never holds the session token: the login form posts the
credentials here, this sets the cookie, and the page then loads anew, so the
websocket the Reflex state reads the cookie from (its handshake headers)
carries it. Signing out clears the cookie the same way.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from cronium_app.auth import sessions
from cronium_app.auth.users import MAX_PASSWORD
from cronium_app.errors import Forbidden, Unauthorized
from cronium_app.settings import get_settings

router = APIRouter(prefix="/api/session", tags=["session"])

MAX_EMAIL = 320


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # No length limits here: the auth services give the clear messages, and
    # the body size limit caps what reaches them.
    email: str
    password: str


def _refuse_cross_site(request: Request) -> None:
    """A page on another site must not sign a visitor in or out (login CSRF):
    browsers say where a request comes from in Sec-Fetch-Site. Clients that
    send none (scripts, old browsers) are not pages on another site."""
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        raise Forbidden("sign-in requests must come from this site's own pages")


def _set_session_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        sessions.SESSION_COOKIE,
        token,
        max_age=int(sessions.SESSION_TTL.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def _signed_in(request: Request, token: str, user: dict[str, Any], status_code: int) -> JSONResponse:
    # The token goes only into the cookie, never into the body.
    response = JSONResponse(status_code=status_code, content={"user": user})
    _set_session_cookie(response, request, token)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("")
async def sign_in(body: Credentials, request: Request) -> JSONResponse:
    """Check email and password; on success set the session cookie."""
    _refuse_cross_site(request)
    if len(body.email) > MAX_EMAIL or len(body.password) > MAX_PASSWORD:
        # No account has such an email or password: refused without hashing
        # a huge input.
        raise Unauthorized("wrong email or password")
    token, user = await run_in_threadpool(sessions.sign_in, body.email, body.password, get_settings())
    return _signed_in(request, token, user, 200)


@router.post("/register")
async def register(body: Credentials, request: Request) -> JSONResponse:
    """Create an account (the first one administers the server) and sign it in."""
    _refuse_cross_site(request)
    token, user = await run_in_threadpool(sessions.sign_up, body.email, body.password, get_settings())
    return _signed_in(request, token, user, 201)


@router.delete("", status_code=204)
async def sign_out(request: Request) -> Response:
    """Clear the session cookie (signed out or not, the answer is the same)."""
    _refuse_cross_site(request)
    response = Response(status_code=204)
    response.delete_cookie(
        sessions.SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    response.headers["Cache-Control"] = "no-store"
    return response
