"""Single sign-on through OpenID Connect over real HTTP: the real app,
a real provider (tests/support/oidc_provider.py) on 127.0.0.1, and the
browser's round trip played with httpx (login → the provider's page →
the callback). An app with open registration shares its database with
nobody; a second app, registration closed, has a database of its own, so
its first account (made by single sign-on) is its only administrator."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
import pytest

from cronium_app.auth.oidc import FLOW_COOKIE
from cronium_app.auth.sessions import SESSION_COOKIE
from tests.support.app_server import AppServer
from tests.support.databases import migrated_database
from tests.support.oidc_provider import Provider, query, running_provider
from tests.support.ports import free_port

PASSWORD = "correct horse battery"
CLIENT_ID = "cronium-tests"
CLIENT_SECRET = "oidc-client-secret-" + secrets.token_hex(16)
ADMINS = "cronium-admins"


def new_email(prefix: str = "sso") -> str:
    return f"{prefix}-{secrets.token_hex(5)}@example.com"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


def sso_app(provider: Provider, db_url: str, **env: str) -> AppServer:
    port = free_port()
    return AppServer(database_url=db_url, port=port, env_overrides={
        "CRONIUM_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CRONIUM_OIDC_ISSUER": provider.issuer,
        "CRONIUM_OIDC_CLIENT_ID": CLIENT_ID,
        "CRONIUM_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "CRONIUM_OIDC_ROLE_CLAIM": "groups",
        "CRONIUM_OIDC_ADMIN_VALUES": f"{ADMINS},other-admins",
        "CRONIUM_OIDC_LABEL": "Example ID",
        **env,
    })


@pytest.fixture(scope="module")
def app(provider) -> Iterator[AppServer]:
    with migrated_database("cronium_oidc") as url, sso_app(provider, url, CRONIUM_REGISTRATION="open") as server:
        yield server


@pytest.fixture(scope="module")
def closed_app(provider) -> Iterator[AppServer]:
    with migrated_database("cronium_oidc_closed") as url, \
            sso_app(provider, url, CRONIUM_REGISTRATION="closed") as server:
        yield server


@pytest.fixture(scope="module")
def invite_app(provider) -> Iterator[AppServer]:
    """Registration by invitation only, and roles left to the invitations."""
    with migrated_database("cronium_oidc_invite") as url, sso_app(
        provider, url, CRONIUM_REGISTRATION="invite", CRONIUM_OIDC_ROLE_CLAIM=None, CRONIUM_OIDC_ADMIN_VALUES=None
    ) as server:
        yield server


# Every answer the tests got from the apps, to look for the client secret in.
ANSWERS: list[httpx.Response] = []


def _keep(response: httpx.Response) -> None:
    response.read()
    ANSWERS.append(response)


@dataclass
class Browser:
    """One browser: its own cookies, redirects followed by hand."""

    app: AppServer
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.app.url, follow_redirects=False, timeout=30,
                                 event_hooks={"response": [_keep]})

    def start(self, next_page: str | None = "/events") -> str:
        """Click "Sign in with ...": the provider's sign-in URL."""
        params = {"next": next_page} if next_page is not None else {}
        response = self.http.get("/api/session/oidc/login", params=params)
        assert response.status_code == 303, response.text
        assert self.http.cookies.get(FLOW_COOKIE)
        return response.headers["location"]

    def back(self, callback_url: str) -> httpx.Response:
        """The provider sends the browser back to the app."""
        parts = urlsplit(callback_url)
        assert callback_url.startswith(f"{self.app.url}/api/session/oidc/callback"), callback_url
        return self.http.get(urlunsplit(("", "", parts.path, parts.query, "")))

    def signed_in(self) -> bool:
        """The session cookie opens the web UI's cookie-only routes."""
        return self.http.get("/api/ui/audit/export.jsonl").status_code == 200


def sign_on(app: AppServer, provider: Provider, sub: str, next_page: str | None = "/events",
            **claims: Any) -> tuple[Browser, httpx.Response]:
    """A whole single sign-on of `sub` with these claims."""
    provider.set_claims(sub, **claims)
    browser = Browser(app)
    return browser, browser.back(provider.authorize(browser.start(next_page), sub))


def refused_with(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/login?sso_error={reason}"
    assert SESSION_COOKIE not in response.cookies


@dataclass
class Admin:
    email: str
    http: httpx.Client

    def user(self, email: str) -> dict[str, Any] | None:
        response = self.http.get("/api/v1/users", params={"q": email})
        assert response.status_code == 200, response.text
        found = [item for item in response.json()["items"] if item["email"] == email]
        return found[0] if found else None

    def audit(self, action: str) -> list[dict[str, Any]]:
        response = self.http.get("/api/v1/audit", params={"action": action, "limit": 100})
        assert response.status_code == 200, response.text
        return response.json()["items"]


def password_account(app: AppServer, email: str) -> dict[str, Any]:
    response = httpx.post(f"{app.url}/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope="module")
def admin(app) -> Admin:
    """The app's first account (a password one): its administrator."""
    email = new_email("admin")
    body = password_account(app, email)
    assert body["user"]["role"] == "admin"
    client = httpx.Client(base_url=app.url, headers={"Authorization": f"Bearer {body['token']}"}, timeout=30,
                          event_hooks={"response": [_keep]})
    return Admin(email, client)


def test_a_first_sign_on_creates_an_account_and_signs_it_in(app, provider, admin):
    email = new_email()
    browser, response = sign_on(app, provider, f"sub-{email}", email=email, email_verified=True, groups=[])
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/events"
    assert browser.http.cookies.get(SESSION_COOKIE)
    assert browser.signed_in()
    created = admin.user(email)
    assert created is not None and created["role"] == "user" and created["signIn"] == ["sso"]
    assert created["lastSignInAt"] is not None


def test_the_session_cookie_is_the_password_sign_ins_and_the_flow_cookie_goes(app, provider, admin):
    email = new_email()
    _, response = sign_on(app, provider, f"sub-{email}", email=email, email_verified=True)
    cookies = {value.split("=", 1)[0]: value for value in response.headers.get_list("set-cookie")}
    session = cookies[SESSION_COOKIE].lower()
    assert "httponly" in session and "samesite=lax" in session and "path=/" in session
    # The flow's cookie is cleared: it cannot be played again.
    assert cookies[FLOW_COOKIE].startswith(f'{FLOW_COOKIE}=""') or "max-age=0" in cookies[FLOW_COOKIE].lower()


def test_the_role_follows_the_claim_at_every_sign_in(app, provider, admin):
    email, sub = new_email(), f"sub-{secrets.token_hex(4)}"
    sign_on(app, provider, sub, email=email, email_verified=True, groups=["staff", ADMINS])
    assert admin.user(email)["role"] == "admin"
    _, response = sign_on(app, provider, sub, email=email, email_verified=True, groups=["staff"])
    assert response.headers["location"] == "/events"
    assert admin.user(email)["role"] == "user"
    changes = [entry for entry in admin.audit("user.update") if entry["target"]["label"] == email]
    roles = [entry["changes"]["role"] for entry in changes]
    assert {"before": "user", "after": "admin"} in roles and {"before": "admin", "after": "user"} in roles
    assert all(entry["changes"]["by"]["after"] == "the identity provider's role claim" for entry in changes)


def test_an_existing_account_is_linked_by_a_verified_email(app, provider, admin):
    email = new_email("linked")
    account = password_account(app, email)
    browser, response = sign_on(app, provider, f"sub-{email}", email=email, email_verified=True)
    assert response.headers["location"] == "/events" and browser.signed_in()
    linked = admin.user(email)
    assert linked["id"] == account["user"]["id"]
    assert linked["signIn"] == ["password", "sso"]
    assert any(entry["target"]["label"] == email for entry in admin.audit("auth.sso_link"))


def test_an_existing_account_is_not_linked_by_an_unverified_email(app, provider, admin):
    email = new_email("unverified")
    password_account(app, email)
    browser, response = sign_on(app, provider, f"sub-{email}", email=email, email_verified=False)
    refused_with(response, "unverified_email")
    assert not browser.signed_in()
    assert admin.user(email)["signIn"] == ["password"]
    # Still refused with the email claimed as a string "true".
    _, response = sign_on(app, provider, f"sub-{email}", email=email, email_verified="true")
    refused_with(response, "unverified_email")


def test_a_new_account_needs_a_verified_email(app, provider, admin):
    email = new_email("unknown")
    _, response = sign_on(app, provider, f"sub-{email}", email=email)
    refused_with(response, "no_verified_email")
    assert admin.user(email) is None


def test_a_tampered_state_is_refused(app, provider, admin):
    email = new_email("state")
    provider.set_claims(f"sub-{email}", email=email, email_verified=True)
    browser = Browser(app)
    callback = provider.authorize(browser.start(), f"sub-{email}")
    params = query(callback)
    params["state"] = params["state"][:-2] + ("AA" if not params["state"].endswith("AA") else "BB")
    response = browser.back(f"{app.url}/api/session/oidc/callback?{urlencode(params)}")
    refused_with(response, "state")
    assert admin.user(email) is None
    failures = [entry for entry in admin.audit("auth.sign_in_failed") if entry["changes"]["reason"]["after"] == "state"]
    assert failures and failures[0]["clientIp"] == "127.0.0.1"


def test_an_answer_in_another_browser_is_refused(app, provider, admin):
    """The code and state reach a browser that did not start the sign-in
    (login CSRF): it has no flow cookie."""
    email = new_email("csrf")
    provider.set_claims(f"sub-{email}", email=email, email_verified=True)
    callback = provider.authorize(Browser(app).start(), f"sub-{email}")
    refused_with(Browser(app).back(callback), "expired")
    assert admin.user(email) is None


def test_an_id_token_with_another_flows_nonce_is_refused(app, provider, admin):
    """This browser's state, but the nonce of another browser's flow: the
    provider puts that nonce into the ID token, and the app refuses it."""
    email = new_email("nonce")
    provider.set_claims(f"sub-{email}", email=email, email_verified=True)
    browser, other = Browser(app), Browser(app)
    mine, theirs = browser.start(), other.start()
    crossed = {**query(mine), "nonce": query(theirs)["nonce"]}
    authorize_url = mine.split("?", 1)[0] + "?" + urlencode(crossed)
    refused_with(browser.back(provider.authorize(authorize_url, f"sub-{email}")), "token")
    assert admin.user(email) is None


def test_a_code_issued_to_another_client_is_refused(app, provider, admin):
    """The provider ties a code to the client it was issued to: another
    client's code is not exchanged for this app."""
    email = new_email("client")
    provider.set_claims(f"sub-{email}", email=email, email_verified=True)
    browser = Browser(app)
    url = browser.start()
    other_client = url.split("?", 1)[0] + "?" + urlencode({**query(url), "client_id": "another-client"})
    refused_with(browser.back(provider.authorize(other_client, f"sub-{email}")), "exchange")
    assert admin.user(email) is None


def test_a_refusal_at_the_provider_is_said_in_words(app, provider):
    browser = Browser(app)
    refused_with(browser.back(provider.deny(browser.start())), "denied")


def test_a_disabled_account_is_refused(app, provider, admin):
    email, sub = new_email("disabled"), f"sub-{secrets.token_hex(4)}"
    sign_on(app, provider, sub, email=email, email_verified=True)
    user_id = admin.user(email)["id"]
    assert admin.http.post(f"/api/v1/users/{user_id}/disable").status_code == 200
    browser, response = sign_on(app, provider, sub, email=email, email_verified=True)
    refused_with(response, "disabled")
    assert not browser.signed_in()
    failures = [entry for entry in admin.audit("auth.sign_in_failed")
                if entry["changes"]["reason"]["after"] == "disabled" and entry["target"]["label"] == email]
    assert failures


def test_only_a_page_of_this_site_is_gone_to_after(app, provider):
    email = new_email("next")
    _, response = sign_on(app, provider, f"sub-{email}", next_page="//evil.example/x", email=email,
                          email_verified=True)
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_the_login_page_offers_single_sign_on_and_tells_why_it_was_refused(app):
    response = httpx.get(f"{app.url}/api/session/oidc/login", params={"next": "/jobs"}, follow_redirects=False)
    authorize = query(response.headers["location"])
    assert authorize["client_id"] == CLIENT_ID and authorize["code_challenge_method"] == "S256"
    assert authorize["scope"] == "openid email profile" and authorize["redirect_uri"] == \
        f"{app.url}/api/session/oidc/callback"
    assert len(authorize["state"]) >= 40 and len(authorize["nonce"]) >= 40 and authorize["code_challenge"]


def test_single_sign_on_is_off_without_an_issuer(app_server):
    for path in ("/api/session/oidc/login", "/api/session/oidc/callback"):
        assert httpx.get(f"{app_server.url}{path}", follow_redirects=False).status_code == 404


def test_with_registration_closed_only_the_first_account_is_made_and_the_last_admin_keeps_the_role(
    closed_app, provider
):
    first, sub = new_email("first"), f"sub-{secrets.token_hex(4)}"
    browser, response = sign_on(closed_app, provider, sub, email=first, email_verified=True, groups=[ADMINS])
    assert response.headers["location"] == "/events" and browser.signed_in()
    # The claim would make the server's only administrator a user: it stays admin.
    browser, response = sign_on(closed_app, provider, sub, email=first, email_verified=True, groups=[])
    assert response.headers["location"] == "/events" and browser.signed_in()
    entries = [json.loads(line) for line in browser.http.get("/api/ui/audit/export.jsonl").text.splitlines()]
    kept = [entry for entry in entries if entry["action"] == "user.role_kept"]
    assert kept and kept[0]["changes"]["claimedRole"]["after"] == "user"
    # Nobody else gets an account.
    late = new_email("late")
    _, response = sign_on(closed_app, provider, f"sub-{late}", email=late, email_verified=True)
    refused_with(response, "not_allowed")
    entries = [json.loads(line) for line in browser.http.get("/api/ui/audit/export.jsonl").text.splitlines()]
    assert not [entry for entry in entries if entry["action"] == "auth.register" and entry["target"]["label"] == late]
    assert [entry for entry in entries if entry["action"] == "auth.sign_in_failed"
            and entry["changes"]["reason"]["after"] == "not_allowed"]
    roles = {entry["target"]["label"]: entry for entry in entries if entry["action"] == "auth.register"}
    assert list(roles) == [first]


def test_with_registration_by_invitation_only_an_invited_email_gets_an_account_with_its_role(invite_app, provider):
    first = password_account(invite_app, new_email("invite-admin"))
    inviter = Admin(first["user"]["email"], httpx.Client(
        base_url=invite_app.url, headers={"Authorization": f"Bearer {first['token']}"}, timeout=30))
    stranger = new_email("stranger")
    _, response = sign_on(invite_app, provider, f"sub-{stranger}", email=stranger, email_verified=True)
    refused_with(response, "not_allowed")
    assert inviter.user(stranger) is None
    invited = new_email("invited")
    answer = inviter.http.post("/api/v1/users/invitations", json={"email": invited, "role": "admin"})
    assert answer.status_code == 201, answer.text
    browser, response = sign_on(invite_app, provider, f"sub-{invited}", email=invited, email_verified=True)
    assert response.headers["location"] == "/events" and browser.signed_in()
    made = inviter.user(invited)
    assert made["role"] == "admin" and made["signIn"] == ["sso"]
    pending = inviter.http.get("/api/v1/users/invitations").json()["items"]
    assert invited not in [item["email"] for item in pending]


def test_the_client_secret_is_never_in_an_answer_a_log_or_the_audit_log(app, closed_app, invite_app, admin):
    """Last in the module: every answer the apps gave these tests, both
    apps' logs and the audit log."""
    assert ANSWERS
    for response in ANSWERS:
        assert CLIENT_SECRET not in response.text
        assert CLIENT_SECRET not in str(response.headers)
    for server in (app, closed_app, invite_app):
        assert CLIENT_SECRET not in server.log_path.read_text(errors="replace")
    export = admin.http.get("/api/v1/audit", params={"format": "jsonl"})
    assert export.status_code == 200 and "sign_in" in export.text
    assert CLIENT_SECRET not in export.text
    # Nor the ID token, or an authorization code: no entry holds a JWT.
    assert "eyJ" not in export.text
