"""Sessions, passwords and origins over real HTTP on the shared app: tokens
from login expire, changing the password (API and web UI) ends every web UI
session of the account, and only the public origin may open the websocket
or call the API with credentials."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import simple_websocket

from cronium_app.auth.sessions import SESSION_COOKIE
from tests.support.clients import session_cookie

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"
EVIL = "http://evil.example"


def new_email(prefix: str = "sessions") -> str:
    return f"{prefix}-{secrets.token_hex(5)}@example.com"


@pytest.fixture
def account(app_server) -> dict[str, Any]:
    email = new_email()
    response = httpx.post(f"{app_server.url}/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return {"email": email, **response.json()}


def api(app_server, token: str) -> httpx.Client:
    return httpx.Client(base_url=app_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def ui_change_password(app_server, cookie: str, current: str, new: str, **extra: Any) -> httpx.Response:
    return httpx.post(
        f"{app_server.url}/api/session/password",
        json={"currentPassword": current, "newPassword": new, **extra},
        headers={"Cookie": f"{SESSION_COOKIE}={cookie}"},
    )


def login(app_server, email: str, password: str) -> httpx.Response:
    return httpx.post(f"{app_server.url}/api/v1/auth/login", json={"email": email, "password": password})


def expires_in(token_info: dict[str, Any]) -> timedelta:
    return datetime.fromisoformat(token_info["expiresAt"].replace("Z", "+00:00")) - datetime.now(timezone.utc)


# -- tokens from login expire ----------------------------------------------------------


def test_a_login_token_expires_in_30_days(app_server, account):
    info = login(app_server, account["email"], PASSWORD).json()["tokenInfo"]
    assert timedelta(days=29, hours=23) < expires_in(info) <= timedelta(days=30)


def test_the_registration_token_expires_in_30_days(account):
    assert timedelta(days=29, hours=23) < expires_in(account["tokenInfo"]) <= timedelta(days=30)


def test_a_token_created_without_expiry_keeps_none(app_server, account):
    with api(app_server, account["token"]) as client:
        assert client.post("/api/v1/tokens", json={"name": "ci"}).json()["expiresAt"] is None


# -- changing the password through the API ----------------------------------------------------


def change(client: httpx.Client, current: str, new: str, **extra: Any) -> httpx.Response:
    return client.post("/api/v1/auth/password", json={"currentPassword": current, "newPassword": new, **extra})


def test_password_change_needs_the_current_password(app_server, account):
    with api(app_server, account["token"]) as client:
        response = change(client, "not the password", NEW_PASSWORD)
    assert response.status_code == 403, response.text
    assert response.json()["error"]["field"] == "currentPassword"
    assert login(app_server, account["email"], PASSWORD).status_code == 200


def test_password_change_refuses_a_short_new_password(app_server, account):
    with api(app_server, account["token"]) as client:
        response = change(client, PASSWORD, "short")
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == "newPassword"


def test_after_a_password_change_only_the_new_password_signs_in(app_server, account):
    with api(app_server, account["token"]) as client:
        assert change(client, PASSWORD, NEW_PASSWORD).status_code == 200
    assert login(app_server, account["email"], PASSWORD).status_code == 401
    assert login(app_server, account["email"], NEW_PASSWORD).status_code == 200


def test_a_password_change_ends_every_web_ui_session(app_server, account):
    cookie = session_cookie(app_server.url, account["email"])
    with api(app_server, account["token"]) as client:
        assert change(client, PASSWORD, NEW_PASSWORD).status_code == 200
    response = ui_change_password(app_server, cookie, NEW_PASSWORD, "yet another passphrase")
    assert response.status_code == 401, response.text


def test_a_password_change_keeps_api_tokens_unless_asked(app_server, account):
    other = login(app_server, account["email"], PASSWORD).json()["token"]
    with api(app_server, account["token"]) as client:
        assert change(client, PASSWORD, NEW_PASSWORD).status_code == 200
    with api(app_server, other) as client:
        assert client.get("/api/v1/events").status_code == 200


def test_revoke_api_tokens_revokes_every_other_token(app_server, account):
    other = login(app_server, account["email"], PASSWORD).json()["token"]
    with api(app_server, account["token"]) as client:
        assert change(client, PASSWORD, NEW_PASSWORD, revokeApiTokens=True).status_code == 200
        assert client.get("/api/v1/events").status_code == 200
        assert [t["id"] for t in client.get("/api/v1/tokens").json()["items"]] == [account["tokenInfo"]["id"]]
    with api(app_server, other) as client:
        assert client.get("/api/v1/events").status_code == 401


# -- changing the password in the web UI (the session API) ---------------------------------------


def test_the_web_ui_password_change_replaces_this_browsers_cookie(app_server, account):
    cookie = session_cookie(app_server.url, account["email"])
    elsewhere = session_cookie(app_server.url, account["email"])
    response = ui_change_password(app_server, cookie, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 200, response.text
    fresh = response.cookies[SESSION_COOKIE]
    assert fresh != cookie
    assert "httponly" in response.headers["set-cookie"].lower()
    # The old cookies (this one's and another browser's) have ended; the new one works.
    assert ui_change_password(app_server, cookie, NEW_PASSWORD, "third passphrase").status_code == 401
    assert ui_change_password(app_server, elsewhere, NEW_PASSWORD, "third passphrase").status_code == 401
    assert ui_change_password(app_server, fresh, NEW_PASSWORD, "third passphrase").status_code == 200


def test_the_web_ui_password_change_without_a_session_is_401(app_server):
    response = ui_change_password(app_server, "", PASSWORD, NEW_PASSWORD)
    assert response.status_code == 401, response.text


# -- origins -----------------------------------------------------------------------------------


def public_origin(app_server) -> str:
    return f"http://localhost:{app_server.port}"


def websocket(app_server, origin: str) -> simple_websocket.Client:
    """Open Reflex's websocket the way its frontend does (socket.io on /_event)."""
    url = f"ws://127.0.0.1:{app_server.port}/_event/?EIO=4&transport=websocket"
    return simple_websocket.Client.connect(url, headers={"Origin": origin})


def test_a_websocket_from_another_origin_is_refused(app_server):
    with pytest.raises(simple_websocket.ConnectionError):
        websocket(app_server, EVIL)


def test_a_websocket_from_the_public_origin_opens(app_server):
    ws = websocket(app_server, public_origin(app_server))
    try:
        assert ws.receive(timeout=60).startswith("0{")  # engine.io's "open" packet
    finally:
        ws.close()


def preflight(app_server, origin: str) -> httpx.Response:
    return httpx.options(
        f"{app_server.url}/api/v1/tokens",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


def test_a_credentialed_api_call_from_another_origin_is_refused(app_server, account):
    assert "access-control-allow-origin" not in preflight(app_server, EVIL).headers
    cookie = session_cookie(app_server.url, account["email"])
    response = httpx.get(
        f"{app_server.url}/api/v1/jobs",
        headers={"Origin": EVIL, "Cookie": f"{SESSION_COOKIE}={cookie}", "Authorization": f"Bearer {account['token']}"},
    )
    assert "access-control-allow-origin" not in response.headers


def test_the_public_origin_may_call_the_api_with_credentials(app_server):
    response = preflight(app_server, public_origin(app_server))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == public_origin(app_server)
    assert response.headers["access-control-allow-credentials"] == "true"


def test_signing_in_from_another_origin_is_403(app_server, account):
    response = httpx.post(
        f"{app_server.url}/api/session", json={"email": account["email"], "password": PASSWORD},
        headers={"Origin": EVIL},
    )
    assert response.status_code == 403, response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
