"""The web UI's sign-in API (/api/session) over real HTTP against the running
app: the session cookie it sets is HttpOnly and SameSite=Lax and never in the
reply's body, wrong credentials get a 401 with a clear JSON message, signing
out clears the cookie, and requests from another site's pages are refused."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from cronium_app.auth.sessions import SESSION_COOKIE

PASSWORD = "correct horse battery"


def new_email(prefix: str = "ui-session") -> str:
    return f"{prefix}-{secrets.token_hex(5)}@example.com"


def sign_in(base_url: str, email: str, password: str = PASSWORD, **headers: str) -> httpx.Response:
    return httpx.post(f"{base_url}/api/session", json={"email": email, "password": password}, headers=headers)


def session_cookie_header(response: httpx.Response) -> str:
    """The one Set-Cookie header for the session cookie."""
    found = [value for value in response.headers.get_list("set-cookie") if value.startswith(f"{SESSION_COOKIE}=")]
    assert len(found) == 1, response.headers.get_list("set-cookie")
    return found[0]


def attributes(set_cookie: str) -> dict[str, str]:
    """Set-Cookie attributes by lower-case name (flags map to "")."""
    pairs = [part.strip().partition("=") for part in set_cookie.split(";")[1:]]
    return {name.lower(): value for name, _, value in pairs}


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()["error"]


@pytest.fixture(scope="module")
def account(app_server) -> dict[str, Any]:
    email = new_email()
    response = httpx.post(f"{app_server.url}/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return {"email": email}


@pytest.fixture(scope="module")
def signed_in(app_server, account) -> httpx.Response:
    """One successful sign-in, shared (each costs an Argon2 hash)."""
    response = sign_in(app_server.url, account["email"])
    assert response.status_code == 200, response.text
    return response


def test_sign_in_sets_an_http_only_cookie(signed_in):
    assert "httponly" in attributes(session_cookie_header(signed_in))


def test_sign_in_cookie_is_same_site_lax(signed_in):
    assert attributes(session_cookie_header(signed_in))["samesite"].lower() == "lax"


def test_sign_in_cookie_covers_the_whole_site_for_the_session_lifetime(signed_in):
    attrs = attributes(session_cookie_header(signed_in))
    assert attrs["path"] == "/"
    assert int(attrs["max-age"]) == 7 * 24 * 3600


def test_sign_in_cookie_over_plain_http_is_not_secure_only(signed_in):
    # Secure is set when the request came over https (see the unit tests);
    # over plain http the browser would otherwise drop the cookie.
    assert "secure" not in attributes(session_cookie_header(signed_in))


def test_sign_in_reply_names_the_user_but_holds_no_token(signed_in, account):
    token = signed_in.cookies[SESSION_COOKIE]
    assert signed_in.json()["user"]["email"] == account["email"]
    assert token and token not in signed_in.text
    assert signed_in.headers["cache-control"] == "no-store"


def test_sign_in_with_email_in_other_case_works(app_server, account):
    assert sign_in(app_server.url, account["email"].upper()).status_code == 200


def test_wrong_password_is_401_with_a_clear_message(app_server, account):
    response = sign_in(app_server.url, account["email"], password="not the password")
    error = error_of(response, 401)
    assert error == {"code": "unauthorized", "message": "wrong email or password"}
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_unknown_email_is_401_with_the_same_message(app_server):
    error = error_of(sign_in(app_server.url, new_email("nobody")), 401)
    assert error["message"] == "wrong email or password"


def test_overlong_password_is_401_with_the_same_message(app_server, account):
    error = error_of(sign_in(app_server.url, account["email"], password="x" * 5000), 401)
    assert error["message"] == "wrong email or password"


def test_missing_password_is_422(app_server, account):
    error_of(httpx.post(f"{app_server.url}/api/session", json={"email": account["email"]}), 422)


def test_sign_in_from_another_sites_page_is_403_without_cookie(app_server, account):
    response = sign_in(app_server.url, account["email"], **{"Sec-Fetch-Site": "cross-site"})
    error_of(response, 403)
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_sign_in_from_this_sites_page_works(app_server, account):
    response = sign_in(app_server.url, account["email"], **{"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 200, response.text


def test_sign_out_clears_the_cookie(app_server):
    response = httpx.delete(f"{app_server.url}/api/session")
    assert response.status_code == 204
    set_cookie = session_cookie_header(response)
    assert set_cookie.startswith(f'{SESSION_COOKIE}="";') or set_cookie.startswith(f"{SESSION_COOKIE}=;")
    attrs = attributes(set_cookie)
    assert attrs["max-age"] == "0"
    assert "httponly" in attrs
    assert attrs["path"] == "/"


def test_register_creates_the_account_and_sets_the_cookie(app_server):
    email = new_email("ui-register")
    response = httpx.post(f"{app_server.url}/api/session/register", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    assert response.json()["user"]["email"] == email
    assert "httponly" in attributes(session_cookie_header(response))


def test_register_with_taken_email_is_409_naming_the_field(app_server, account):
    response = httpx.post(
        f"{app_server.url}/api/session/register", json={"email": account["email"], "password": PASSWORD}
    )
    error = error_of(response, 409)
    assert error["field"] == "email"
    assert error["message"] == "an account with this email already exists"


def test_register_with_short_password_is_422_naming_the_field(app_server):
    response = httpx.post(f"{app_server.url}/api/session/register", json={"email": new_email(), "password": "short"})
    assert error_of(response, 422)["field"] == "password"
