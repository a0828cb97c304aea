"""Instance user administration over real HTTP against the running app, on
a database of its own (its first account is the admin): registration by
invitation only, invitation and reset links (single use, expiry,
withdrawal), disabling (sessions and tokens stop at once), enabling, the
instance role and the last-admin rule; registration closed on another app;
an invitation sent by email through a real local SMTP server."""

from __future__ import annotations

import email
import email.policy
import re
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from cronium_app.auth.sessions import SESSION_COOKIE
from cronium_app.db import make_engine
from cronium_app.timeutil import utcnow
from tests.support.app_server import AppServer
from tests.support.clients import session_cookie, team_workspace, token_client, workspace_token
from tests.support.databases import migrated_database
# The local SMTP server (STARTTLS and a login) and its certificate.
from tests.integration.worker.test_tools import SMTP_PASSWORD, certificate, smtp  # noqa: F401 (fixtures)

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"


def new_email(prefix: str = "member") -> str:
    return f"{prefix}-{secrets.token_hex(5)}@example.com"


def error_of(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    message = response.json()["error"]["message"]
    assert message
    return message


@pytest.fixture(scope="module")
def db_url() -> Iterator[str]:
    with migrated_database("cronium_user_admin") as url:
        yield url


@pytest.fixture(scope="module")
def app(db_url, certificate) -> Iterator[AppServer]:
    env = {"CRONIUM_REGISTRATION": "invite", "CRONIUM_TOOL_ALLOW": "127.0.0.1,localhost",
           "SSL_CERT_FILE": str(certificate[0])}
    with AppServer(database_url=db_url, env_overrides=env) as server:
        yield server


class Account:
    def __init__(self, app: AppServer, email_address: str, token: str, user: dict[str, Any]):
        self.email, self.user = email_address, user
        self.http = httpx.Client(base_url=app.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


@pytest.fixture(scope="module")
def admin(app) -> Account:
    """The first account: allowed although registration is by invitation, and the admin."""
    address = new_email("admin")
    response = httpx.post(f"{app.url}/api/v1/auth/register", json={"email": address, "password": PASSWORD})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["user"]["role"] == "admin"
    return Account(app, address, body["token"], body["user"])


def run_sql(db_url: str, statement: str, **params: Any) -> None:
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(statement), params)
    finally:
        engine.dispose()


def invite(admin: Account, address: str | None = None, role: str = "user", **extra: Any) -> dict[str, Any]:
    response = admin.http.post("/api/v1/users/invitations", json={"email": address or new_email(), "role": role, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def link_token(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def accept(app: AppServer, url: str, password: str = PASSWORD) -> httpx.Response:
    return httpx.post(f"{app.url}/api/session/invite", json={"token": link_token(url), "password": password})


def api_login(app: AppServer, address: str, password: str = PASSWORD) -> httpx.Response:
    return httpx.post(f"{app.url}/api/v1/auth/login", json={"email": address, "password": password})


def member(app: AppServer, admin: Account, role: str = "user") -> Account:
    """An account made through an invitation, signed in through the API."""
    made = invite(admin, role=role)
    assert accept(app, made["url"]).status_code == 201
    body = api_login(app, made["invitation"]["email"]).json()
    return Account(app, made["invitation"]["email"], body["token"], body["user"])


def session_works(app: AppServer, cookie: str) -> bool:
    """Whether a web UI session still works: the password route says "sign
    in again" (401) for an ended one, "wrong current password" (403) otherwise."""
    response = httpx.post(f"{app.url}/api/session/password", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"},
                          json={"currentPassword": "not the password", "newPassword": NEW_PASSWORD})
    assert response.status_code in (401, 403), response.text
    return response.status_code == 403


# -- registration by invitation ------------------------------------------------------------


def test_a_sign_up_without_an_invitation_is_refused_in_words(app, admin):
    message = error_of(httpx.post(f"{app.url}/api/v1/auth/register",
                                  json={"email": new_email(), "password": PASSWORD}), 403)
    assert "invitation" in message


def test_only_admins_reach_the_users_api(app, admin):
    user = member(app, admin)
    assert "administrator" in error_of(user.http.get("/api/v1/users"), 403)
    assert user.http.post("/api/v1/users/invitations", json={"email": new_email()}).status_code == 403
    assert httpx.get(f"{app.url}/api/v1/users").status_code == 401


def test_an_invitation_link_creates_the_account_with_its_role_and_signs_it_in(app, admin):
    made = invite(admin, role="admin")
    assert made["url"].startswith("http://localhost:") and "/invite/" in made["url"]
    assert made["invitation"]["status"] == "pending" and made["emailed"] is False
    response = accept(app, made["url"])
    assert response.status_code == 201, response.text
    assert response.cookies[SESSION_COOKIE]
    assert response.json()["user"] == {**response.json()["user"], "email": made["invitation"]["email"], "role": "admin"}
    assert api_login(app, made["invitation"]["email"]).status_code == 200


def test_an_invitation_link_works_once(app, admin):
    made = invite(admin)
    assert accept(app, made["url"]).status_code == 201
    assert "used already" in error_of(accept(app, made["url"], NEW_PASSWORD), 410)
    assert api_login(app, made["invitation"]["email"], NEW_PASSWORD).status_code == 401


def test_an_expired_invitation_link_says_so(app, admin, db_url):
    made = invite(admin)
    run_sql(db_url, "UPDATE invitations SET expires_at = :then WHERE id = :id",
            then=utcnow() - timedelta(seconds=1), id=made["invitation"]["id"])
    assert "expired" in error_of(accept(app, made["url"]), 410)


def test_a_new_invitation_withdraws_the_older_one(app, admin):
    address = new_email()
    first, second = invite(admin, address), invite(admin, address)
    assert "withdrawn" in error_of(accept(app, first["url"]), 410)
    assert accept(app, second["url"]).status_code == 201


def test_a_withdrawn_invitation_link_stops_working(app, admin):
    made = invite(admin)
    response = admin.http.delete(f"/api/v1/users/invitations/{made['invitation']['id']}")
    assert response.status_code == 200 and response.json()["status"] == "revoked"
    assert "withdrawn" in error_of(accept(app, made["url"]), 410)


def test_an_unknown_or_mangled_link_is_not_found(app):
    assert "not valid" in error_of(accept(app, "/invite/" + secrets.token_urlsafe(32)), 404)
    assert "not valid" in error_of(accept(app, "/invite/" + "x" * 150), 404)


def test_only_the_hash_of_an_invitation_token_is_stored(app, admin, db_url):
    made = invite(admin)
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            stored = connection.execute(sa.text("SELECT token_hash FROM invitations WHERE id = :id"),
                                        {"id": made["invitation"]["id"]}).scalar_one()
    finally:
        engine.dispose()
    assert link_token(made["url"]) not in stored and len(stored) == 64


def test_an_invitation_for_an_existing_account_is_a_conflict(app, admin):
    assert "already exists" in error_of(admin.http.post("/api/v1/users/invitations", json={"email": admin.email}), 409)


@pytest.mark.parametrize("body", [{"email": "not an email"}, {"email": new_email(), "role": "owner"},
                                  {"email": new_email(), "extra": 1}, {"email": new_email(), "emailToolId": 0}])
def test_a_bad_invitation_is_a_422(admin, body):
    assert admin.http.post("/api/v1/users/invitations", json=body).status_code == 422


def test_a_short_password_on_an_invitation_is_refused_and_the_link_still_works(app, admin):
    made = invite(admin)
    assert "at least 8" in error_of(accept(app, made["url"], "short"), 422)
    assert accept(app, made["url"]).status_code == 201


# -- the list --------------------------------------------------------------------------------


def test_the_list_pages_and_finds_by_email(app, admin):
    tag = secrets.token_hex(4)
    for _ in range(3):
        made = invite(admin, f"find-{tag}-{secrets.token_hex(3)}@example.com")
        accept(app, made["url"])
    found = admin.http.get("/api/v1/users", params={"q": f"FIND-{tag}", "limit": 2}).json()
    assert found["total"] == 3 and len(found["items"]) == 2
    rest = admin.http.get("/api/v1/users", params={"q": f"find-{tag}", "limit": 2, "offset": 2}).json()
    assert len(rest["items"]) == 1
    item = found["items"][0]
    assert item["status"] == "active" and item["role"] == "user" and item["lastSignInAt"] and item["createdAt"]


def test_a_search_with_like_wildcards_matches_them_literally(admin):
    assert admin.http.get("/api/v1/users", params={"q": "%"}).json()["total"] == 0


# -- disable and enable ------------------------------------------------------------------------


def test_disabling_ends_sessions_and_tokens_at_once(app, admin):
    user = member(app, admin)
    cookie = session_cookie(app.url, user.email)
    assert session_works(app, cookie) and user.http.get("/api/v1/events").status_code == 200
    response = admin.http.post(f"/api/v1/users/{user.user['id']}/disable")
    assert response.status_code == 200 and response.json()["user"]["status"] == "disabled"
    assert user.http.get("/api/v1/events").status_code == 401
    assert not session_works(app, cookie)


def test_a_disabled_account_cannot_sign_in_and_is_told_why(app, admin):
    user = member(app, admin)
    admin.http.post(f"/api/v1/users/{user.user['id']}/disable")
    assert "disabled" in error_of(api_login(app, user.email), 403)
    assert "disabled" in error_of(httpx.post(f"{app.url}/api/session", json={"email": user.email, "password": PASSWORD}), 403)
    # A wrong password is still only "wrong": being disabled is said to whoever knows the password.
    assert "wrong" in error_of(api_login(app, user.email, "not the password"), 401)


def test_enabling_lets_the_account_sign_in_again_but_old_tokens_stay_revoked(app, admin):
    user = member(app, admin)
    admin.http.post(f"/api/v1/users/{user.user['id']}/disable")
    response = admin.http.post(f"/api/v1/users/{user.user['id']}/enable")
    assert response.status_code == 200 and response.json()["user"]["status"] == "active"
    assert api_login(app, user.email).status_code == 200
    assert user.http.get("/api/v1/events").status_code == 401


def test_an_unknown_user_is_a_404(admin):
    assert "not found" in error_of(admin.http.post("/api/v1/users/999999/disable"), 404)
    assert admin.http.post("/api/v1/users/0/disable").status_code == 422


# -- roles and the last admin ---------------------------------------------------------------------


def test_the_last_enabled_admin_cannot_be_demoted_or_disabled(app, admin):
    # Other tests made more admins: disable them all but this one first.
    others = [item for item in admin.http.get("/api/v1/users", params={"limit": 100}).json()["items"]
              if item["role"] == "admin" and item["id"] != admin.user["id"]]
    for item in others:
        admin.http.put(f"/api/v1/users/{item['id']}/role", json={"role": "user"})
    assert "last enabled administrator" in error_of(
        admin.http.put(f"/api/v1/users/{admin.user['id']}/role", json={"role": "user"}), 409)
    assert "your own account" in error_of(admin.http.post(f"/api/v1/users/{admin.user['id']}/disable"), 409)


def test_a_promoted_user_administers_and_the_old_admin_may_then_step_down(app, admin):
    second = member(app, admin)
    assert second.http.get("/api/v1/users").status_code == 403
    promoted = admin.http.put(f"/api/v1/users/{second.user['id']}/role", json={"role": "admin"})
    assert promoted.status_code == 200 and promoted.json()["user"]["role"] == "admin"
    assert second.http.get("/api/v1/users").status_code == 200
    # Two admins: the first may step down, then the second is the last one.
    assert admin.http.put(f"/api/v1/users/{admin.user['id']}/role", json={"role": "user"}).status_code == 200
    assert second.http.put(f"/api/v1/users/{second.user['id']}/role", json={"role": "user"}).status_code == 409
    assert second.http.put(f"/api/v1/users/{admin.user['id']}/role", json={"role": "admin"}).status_code == 200


def test_a_demoted_admin_loses_the_users_api_at_once(app, admin):
    second = member(app, admin, role="admin")
    assert second.http.get("/api/v1/users").status_code == 200
    admin.http.put(f"/api/v1/users/{second.user['id']}/role", json={"role": "user"})
    assert second.http.get("/api/v1/users").status_code == 403


# -- password-reset links ----------------------------------------------------------------------------


def reset_link(admin: Account, user: Account) -> str:
    response = admin.http.post(f"/api/v1/users/{user.user['id']}/reset-link")
    assert response.status_code == 201, response.text
    assert response.json()["email"] == user.email
    return response.json()["url"]


def use_reset(app: AppServer, url: str, password: str = NEW_PASSWORD) -> httpx.Response:
    return httpx.post(f"{app.url}/api/session/reset", json={"token": link_token(url), "password": password})


def test_a_reset_link_sets_the_password_and_ends_the_other_sessions(app, admin):
    user = member(app, admin)
    cookie = session_cookie(app.url, user.email)
    url = reset_link(admin, user)
    assert "/reset/" in url
    response = use_reset(app, url)
    assert response.status_code == 200, response.text
    assert session_works(app, response.cookies[SESSION_COOKIE])
    assert not session_works(app, cookie)
    assert api_login(app, user.email, PASSWORD).status_code == 401
    assert api_login(app, user.email, NEW_PASSWORD).status_code == 200


def test_a_reset_link_works_once(app, admin):
    user = member(app, admin)
    url = reset_link(admin, user)
    assert use_reset(app, url).status_code == 200
    assert "used already" in error_of(use_reset(app, url, "yet another password"), 410)


def test_an_expired_reset_link_says_so(app, admin, db_url):
    user = member(app, admin)
    url = reset_link(admin, user)
    run_sql(db_url, "UPDATE password_resets SET expires_at = :then WHERE user_id = :id",
            then=utcnow() - timedelta(seconds=1), id=user.user["id"])
    assert "expired" in error_of(use_reset(app, url), 410)


def test_a_reset_link_expires_after_an_hour_by_default(app, admin):
    user = member(app, admin)
    body = admin.http.post(f"/api/v1/users/{user.user['id']}/reset-link").json()
    expires = datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00"))
    assert timedelta(minutes=59) < expires - utcnow() <= timedelta(hours=1)


def test_disabling_withdraws_reset_links_and_a_disabled_account_gets_none(app, admin):
    user = member(app, admin)
    url = reset_link(admin, user)
    admin.http.post(f"/api/v1/users/{user.user['id']}/disable")
    assert use_reset(app, url).status_code in (403, 410)
    assert "enable the account" in error_of(admin.http.post(f"/api/v1/users/{user.user['id']}/reset-link"), 409)


# -- invitations by email ------------------------------------------------------------------------------


def test_an_invitation_is_emailed_through_the_admins_email_tool(app, admin, smtp):
    tool = admin.http.post("/api/v1/tools", json={
        "name": "mail", "kind": "email", "host": "localhost", "port": smtp.port, "security": "starttls",
        "username": "cronium", "password": SMTP_PASSWORD, "fromAddress": "cronium@example.com"})
    assert tool.status_code == 201, tool.text
    address = new_email("mailed")
    made = invite(admin, address, emailToolId=tool.json()["id"])
    assert made["emailed"] is True, made
    [mail] = [m for m in smtp.wait_for(1) if address in m.rcpt_tos]
    message = email.message_from_bytes(mail.content, policy=email.policy.default)
    body = message.get_content()
    assert message["Subject"] == "Your invitation to Cronium" and made["url"] in body
    assert mail.tls and mail.user == "cronium"
    assert accept(app, re.search(r"http\S+/invite/\S+", body).group(0)).status_code == 201


def test_a_tool_that_is_not_an_email_tool_is_refused_before_anything_is_made(app, admin):
    tool = admin.http.post("/api/v1/tools", json={"name": "hook", "kind": "webhook", "url": "http://127.0.0.1:9/x"})
    assert tool.status_code == 201, tool.text
    address = new_email()
    assert "email tool" in error_of(admin.http.post("/api/v1/users/invitations",
                                                    json={"email": address, "emailToolId": tool.json()["id"]}), 422)
    listed = admin.http.get("/api/v1/users/invitations").json()["items"]
    assert address not in [item["email"] for item in listed]


# -- registration closed -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def closed_app() -> Iterator[AppServer]:
    with migrated_database("cronium_closed_registration") as url:
        with AppServer(database_url=url, env_overrides={"CRONIUM_REGISTRATION": "closed"}) as server:
            yield server


def test_closed_registration_still_lets_the_first_account_in_as_admin(closed_app):
    first = httpx.post(f"{closed_app.url}/api/v1/auth/register", json={"email": new_email(), "password": PASSWORD})
    assert first.status_code == 201 and first.json()["user"]["role"] == "admin"
    token = first.json()["token"]
    second = httpx.post(f"{closed_app.url}/api/v1/auth/register", json={"email": new_email(), "password": PASSWORD})
    assert "turned off" in error_of(second, 403)
    invited = httpx.post(f"{closed_app.url}/api/v1/users/invitations", json={"email": new_email()},
                         headers={"Authorization": f"Bearer {token}"})
    assert "closed" in error_of(invited, 403)


# -- the audit log ------------------------------------------------------------------------

def test_each_administrators_action_on_accounts_is_in_the_audit_log(app, admin):
    newest = admin.http.get("/api/v1/audit", params={"limit": 1}).json()["items"][0]["id"]
    user = member(app, admin)
    withdrawn = invite(admin)
    assert admin.http.delete(f"/api/v1/users/invitations/{withdrawn['invitation']['id']}").status_code == 200
    assert admin.http.put(f"/api/v1/users/{user.user['id']}/role", json={"role": "admin"}).status_code == 200
    assert admin.http.put(f"/api/v1/users/{user.user['id']}/role", json={"role": "user"}).status_code == 200
    assert use_reset(app, reset_link(admin, user)).status_code == 200
    assert admin.http.post(f"/api/v1/users/{user.user['id']}/disable").status_code == 200
    assert admin.http.post(f"/api/v1/users/{user.user['id']}/enable").status_code == 200

    items = admin.http.get("/api/v1/audit", params={"limit": 200}).json()["items"]
    entries = [(e["action"], e["target"]["kind"], e["target"]["label"]) for e in reversed(items) if e["id"] > newest]
    assert [entry for entry in entries if entry[0].startswith("user.")] == [
        ("user.invite", "invitation", user.email), ("user.invite", "invitation", withdrawn["invitation"]["email"]),
        ("user.invite_revoke", "invitation", withdrawn["invitation"]["email"]),
        ("user.update", "user", user.email), ("user.update", "user", user.email),
        ("user.password_reset", "user", user.email), ("user.disable", "user", user.email),
        ("user.enable", "user", user.email),
    ]
    assert ("auth.register", "user", user.email) in entries
    assert ("auth.password_change", "user", user.email) in entries
    role_change = next(e for e in items if e["action"] == "user.update" and e["id"] > newest)
    assert role_change["changes"]["role"] == {"before": "admin", "after": "user"}
    assert all(e["actor"]["email"] == admin.email for e in items if e["id"] > newest and e["action"].startswith("user."))


# -- workspaces ----------------------------------------------------------------------------


def test_a_disabled_member_loses_their_workspace_and_mcp_tokens(app, admin):
    someone = member(app, admin)
    workspace_id, owner_team = team_workspace(admin, f"Ops {secrets.token_hex(3)}", {"editor": someone})
    team_token = token_client(app.url, workspace_token(someone, workspace_id, "editor"))
    mcp_token = workspace_token(someone, workspace_id, "editor", scopes=["mcp"])
    assert team_token.get("/api/v1/events").status_code == 200
    assert admin.http.post(f"/api/v1/users/{someone.user['id']}/disable").status_code == 200
    assert team_token.get("/api/v1/events").status_code == 401
    refused = httpx.post(f"{app.url}/api/mcp", headers={"Authorization": f"Bearer {mcp_token}"}, json={})
    assert refused.status_code == 401
    # The workspace keeps them as a member (an administrator may enable them again).
    assert someone.email in {m["email"] for m in owner_team.get("/api/v1/workspace/members").json()["items"]}
    for client in (team_token, owner_team):
        client.close()


def test_administering_the_server_takes_the_admins_own_account_token(app, admin):
    workspace_id, owner_team = team_workspace(admin, f"Admins {secrets.token_hex(3)}", {})
    mine_as_viewer = token_client(app.url, workspace_token(admin, workspace_id, "viewer"))
    for client in (owner_team, mine_as_viewer):
        assert "account's own token" in error_of(client.get("/api/v1/users"), 403)
        assert "account's own token" in error_of(client.get("/api/v1/workers"), 403)
    assert admin.http.get("/api/v1/users").status_code == 200
    # The audit log answers a workspace's token with its own actions there only.
    entries = owner_team.get("/api/v1/audit", params={"limit": 200}).json()["items"]
    assert entries and {entry["workspaceId"] for entry in entries} == {workspace_id}
    for client in (owner_team, mine_as_viewer):
        client.close()
