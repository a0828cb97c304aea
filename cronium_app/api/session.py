"""The web UI's sign-in: an HttpOnly cookie set and cleared over plain HTTP.

The page's JavaScript never holds the session token: the login form posts the
credentials here, this sets the cookie, and the page then loads anew, so the
websocket the Reflex state reads the cookie from (its handshake headers)
carries it. Signing out clears the cookie the same way, and changing the
password replaces it (the old one, like every other session of the account,
has ended).

Signing in and registering go through the same throttles as the API's
(cronium_app/auth/throttle.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from cronium_app import routes
from cronium_app.api.deps import client_address
from cronium_app.auth import oidc, sessions
from cronium_app.auth.users import MAX_PASSWORD
from cronium_app.errors import Forbidden, Unauthorized
from cronium_app.settings import Settings, get_settings

router = APIRouter(prefix="/api/session", tags=["session"])
# Single sign-on (auth/oidc.py): mounted only when CRONIUM_OIDC_ISSUER is set.
oidc_router = APIRouter(prefix="/api/session/oidc", tags=["session"])

MAX_EMAIL = 320
# The pages whose forms post here (see `early_submit`).
FORM_PAGES = (routes.LOGIN, routes.REGISTER, routes.SETTINGS)


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # No length limits here: the auth services give the clear messages, and
    # the body size limit caps what reaches them.
    email: str
    password: str


class LinkPassword(BaseModel):
    """The token of an invitation or reset link, and the password to set."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(max_length=200)
    password: str


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    current_password: str = Field(alias="currentPassword")
    new_password: str = Field(alias="newPassword")
    revoke_api_tokens: bool = Field(default=False, alias="revokeApiTokens")


def _refuse_cross_site(request: Request) -> None:
    """A page on another site must not sign a visitor in or out, nor change
    a password (login CSRF and the like): browsers say where a request comes
    from in Sec-Fetch-Site, and in Origin. Clients that send neither
    (scripts, old browsers) are not pages on another site."""
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        raise Forbidden("sign-in requests must come from this site's own pages")
    origin = request.headers.get("origin")
    if origin is not None and origin.rstrip("/").lower() != get_settings().origin.lower():
        raise Forbidden("sign-in requests must come from this site's own pages")


def _cookie_secure(request: Request, settings: Settings) -> bool:
    """Over https only when people reach the app over https (CRONIUM_PUBLIC_URL),
    even when a TLS proxy talks to it over plain http."""
    return settings.served_over_https or request.url.scheme == "https"


def _set_session_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        sessions.SESSION_COOKIE,
        token,
        max_age=int(sessions.SESSION_TTL.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=_cookie_secure(request, get_settings()),
    )


def _signed_in(request: Request, token: str, user: dict[str, Any], status_code: int) -> JSONResponse:
    # The token goes only into the cookie, never into the body.
    response = JSONResponse(status_code=status_code, content={"user": user})
    _set_session_cookie(response, request, token)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("")
async def sign_in(body: Credentials, request: Request, address: str = Depends(client_address)) -> JSONResponse:
    """Check email and password; on success set the session cookie."""
    _refuse_cross_site(request)
    if len(body.email) > MAX_EMAIL or len(body.password) > MAX_PASSWORD:
        # No account has such an email or password: refused without hashing
        # a huge input.
        raise Unauthorized("wrong email or password")
    token, user = await run_in_threadpool(
        sessions.sign_in, body.email, body.password, get_settings(), address=address
    )
    return _signed_in(request, token, user, 200)


@router.post("/register")
async def register(body: Credentials, request: Request, address: str = Depends(client_address)) -> JSONResponse:
    """Create an account (the first one administers the server) and sign it in."""
    _refuse_cross_site(request)
    token, user = await run_in_threadpool(
        sessions.sign_up, body.email, body.password, get_settings(), address=address
    )
    return _signed_in(request, token, user, 201)


async def _through_link(use, body: LinkPassword, request: Request, address: str, status_code: int) -> JSONResponse:
    _refuse_cross_site(request)
    token, user = await run_in_threadpool(use, body.token, body.password, get_settings(), address=address)
    return _signed_in(request, token, user, status_code)


@router.post("/invite")
async def accept_invitation(body: LinkPassword, request: Request, address: str = Depends(client_address)) -> JSONResponse:
    """Create the invited account with this password and sign it in."""
    return await _through_link(sessions.accept_invitation, body, request, address, 201)


@router.post("/reset")
async def reset_password(body: LinkPassword, request: Request, address: str = Depends(client_address)) -> JSONResponse:
    """Set a new password through a reset link: every session of the
    account ends, and this browser is signed in."""
    return await _through_link(sessions.reset_password, body, request, address, 200)


@router.post("/password")
async def change_password(
    body: PasswordChange, request: Request, address: str = Depends(client_address)
) -> JSONResponse:
    """Change the signed-in user's password: every session of the account
    ends (with revokeApiTokens, every API token too), and this browser gets
    a new session cookie."""
    _refuse_cross_site(request)
    token = sessions.token_from_cookie_header(request.headers.get("cookie", ""))
    new_token, user = await run_in_threadpool(
        sessions.change_password_here,
        token,
        body.current_password,
        body.new_password,
        get_settings(),
        address=address,
        revoke_api_tokens=body.revoke_api_tokens,
    )
    return _signed_in(request, new_token, user, 200)


@router.delete("", status_code=204)
async def sign_out(request: Request) -> Response:
    """Clear the session cookie (signed out or not, the answer is the same)."""
    _refuse_cross_site(request)
    token = sessions.token_from_cookie_header(request.headers.get("cookie", ""))
    if token:
        await run_in_threadpool(sessions.sign_out, token, get_settings())
    response = Response(status_code=204)
    response.delete_cookie(
        sessions.SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_cookie_secure(request, get_settings()),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/early-submit", status_code=303)
async def early_submit(back: str = routes.LOGIN) -> RedirectResponse:
    """Where the password forms point when the browser submits them itself:
    a click before the page's scripts have started. The form is posted (so
    the password is never in a URL), read by nobody, and the browser is sent
    back to the form's page to try again."""
    target = back if back in FORM_PAGES else routes.LOGIN
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})



def _flow_cookie(response: Response, request: Request, value: str | None) -> None:
    """Set (a value) or clear (None) the single sign-on flow's cookie."""
    options = dict(path=oidc.FLOW_COOKIE_PATH, httponly=True, samesite="lax",
                   secure=_cookie_secure(request, get_settings()))
    if value is None:
        response.delete_cookie(oidc.FLOW_COOKIE, **options)
    else:
        response.set_cookie(oidc.FLOW_COOKIE, value, max_age=int(oidc.FLOW_TTL.total_seconds()), **options)
    response.headers["Cache-Control"] = "no-store"


def _to_login(request: Request, reason: str) -> RedirectResponse:
    """Back to the login page, which says in words why (REFUSALS)."""
    response = RedirectResponse(f"{routes.LOGIN}?sso_error={reason}", status_code=303)
    _flow_cookie(response, request, None)
    return response


@oidc_router.get("/login")
async def oidc_login(request: Request, next: str | None = Query(default=None, max_length=2048)) -> RedirectResponse:
    """Start single sign-on: to the provider's sign-in page, with this
    browser's flow (state, nonce, PKCE verifier) in a short-lived cookie."""
    try:
        url, flow = await oidc.begin(get_settings(), next)
    except oidc.SignOnRefused as refused:
        return _to_login(request, refused.reason)
    response = RedirectResponse(url, status_code=303)
    _flow_cookie(response, request, flow)
    return response


@oidc_router.get("/callback")
async def oidc_callback(
    request: Request,
    address: str = Depends(client_address),
    code: str | None = Query(default=None, max_length=oidc.MAX_CODE_CHARS),
    state: str | None = Query(default=None, max_length=oidc.MAX_STATE_CHARS),
    error: str | None = Query(default=None, max_length=200),
) -> RedirectResponse:
    """Where the provider sends the browser back: on success the session
    cookie is set (as by a password sign-in) and the browser goes on to the
    page it asked for; every failure goes to /login, which says why."""
    settings = get_settings()
    try:
        user, next_page = await oidc.complete(
            settings, request.cookies.get(oidc.FLOW_COOKIE, ""), oidc.Answer(code=code, state=state, error=error),
            address=address,
        )
    except oidc.SignOnRefused as refused:
        return _to_login(request, refused.reason)
    response = RedirectResponse(next_page, status_code=303)
    _flow_cookie(response, request, None)
    _set_session_cookie(response, request, sessions.issue_session_token(user, settings))
    return response
