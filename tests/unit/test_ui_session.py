"""The session cookie's pieces that need no database: finding the token in a
Cookie header, the Secure flag over https, and where the login form may send
the browser afterwards."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from cronium_app.api import session as session_api
from cronium_app.api.errors import install_error_handlers
from cronium_app.auth.sessions import SESSION_COOKIE, token_from_cookie_header
from cronium_app.settings import Settings
from cronium_app.state.auth import next_page, submit_script


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("", ""),
        ("cronium_tz=Europe/Paris", ""),
        (f"{SESSION_COOKIE}=a.b.c", "a.b.c"),
        (f"cronium_tz=UTC; {SESSION_COOKIE}=a.b.c; other=1", "a.b.c"),
        (f"{SESSION_COOKIE}=first; {SESSION_COOKIE}=second", "first"),
        (f"x{SESSION_COOKIE}=a.b.c", ""),
        (f"{SESSION_COOKIE}", ""),
    ],
)
def test_token_from_cookie_header(header, token):
    assert token_from_cookie_header(header) == token


def _call(base_url: str, method: str, path: str, **headers: str) -> httpx.Response:
    """A request to the session router alone (no database needed)."""
    api = FastAPI()
    install_error_handlers(api)
    api.include_router(session_api.router)

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url=base_url) as client:
            return await client.request(method, path, headers=headers)

    return asyncio.run(call())


def _delete(base_url: str, **headers: str) -> httpx.Response:
    return _call(base_url, "DELETE", "/api/session", **headers)


@pytest.fixture
def public_url(monkeypatch):
    """Run the router with CRONIUM_PUBLIC_URL set to the given value."""

    def use(url: str) -> None:
        settings = Settings(DATABASE_URL="sqlite://", SECRET_KEY="k" * 32, ORCHESTRATOR_TOKEN="t" * 32,
                            CRONIUM_PUBLIC_URL=url)
        monkeypatch.setattr(session_api, "get_settings", lambda: settings)

    return use


def test_cookie_is_secure_over_http_when_the_public_url_is_https(public_url):
    public_url("https://cronium.example")
    response = _delete("http://127.0.0.1:8000")
    assert "secure" in response.headers["set-cookie"].lower()


def test_a_request_from_another_origin_is_refused(public_url):
    public_url("https://cronium.example")
    response = _delete("http://127.0.0.1:8000", Origin="https://evil.example")
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


def test_a_request_from_the_public_origin_is_accepted(public_url):
    public_url("https://cronium.example/")
    assert _delete("http://127.0.0.1:8000", Origin="https://cronium.example").status_code == 204


@pytest.mark.parametrize(
    ("back", "target"), [("/login", "/login"), ("/register", "/register"), ("/settings", "/settings"),
                         ("//evil.example", "/login"), ("/jobs", "/login")],
)
def test_an_early_native_submit_is_sent_back_to_its_page(back, target):
    response = _call("http://localhost", "POST", f"/api/session/early-submit?back={back}")
    assert response.status_code == 303
    assert response.headers["location"] == target


def test_sign_out_over_https_clears_a_secure_cookie():
    response = _delete("https://cronium.example")
    assert response.status_code == 204
    assert "secure" in response.headers["set-cookie"].lower()


def test_sign_out_over_http_clears_a_cookie_without_secure():
    response = _delete("http://localhost")
    assert "secure" not in response.headers["set-cookie"].lower()


def test_sign_out_from_another_sites_page_is_refused():
    response = _delete("http://localhost", **{"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    ("next_param", "target"),
    [
        (None, "/"),
        ("/jobs?status=failed", "/jobs?status=failed"),
        ("//evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("/\n/evil.example", "/"),
        ("https://evil.example", "/"),
        ("/login", "/"),
    ],
)
def test_next_page_stays_on_this_site(next_param, target):
    assert next_page(next_param) == target


def test_submit_script_quotes_the_target_as_a_string_literal():
    script = submit_script("login-form", "/api/session", '/jobs?q="x"')
    assert '"/jobs?q=\\"x\\""' in script
