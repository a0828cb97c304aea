"""Accounts and API tokens over real HTTP against the running app: register,
login, bad credentials, the bearer check on every /api/v1 route family,
registration turned off, and the public OpenAPI document.

Other tests register users on the same app, so nothing here assumes that a
user registered on the shared app is the first (admin) one; the first-user
rule is checked on an app of its own."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.app_server import AppServer
from tests.integration.shared_users import owner  # noqa: F401 (fixture)
from tests.support.databases import migrated_database

PASSWORD = "correct horse battery"


def new_email(prefix: str = "auth") -> str:
    return f"{prefix}-{secrets.token_hex(5)}@example.com"


def register(base_url: str, email: str, password: str = PASSWORD, **extra: Any) -> httpx.Response:
    return httpx.post(f"{base_url}/api/v1/auth/register", json={"email": email, "password": password, **extra})


def login(base_url: str, email: str, password: str = PASSWORD, **extra: Any) -> httpx.Response:
    return httpx.post(f"{base_url}/api/v1/auth/login", json={"email": email, "password": password, **extra})


def with_token(base_url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"]
    return error


@pytest.fixture(scope="module")
def account(app_server) -> dict[str, Any]:
    """One registered account for the login tests (registering costs an Argon2 hash)."""
    email = new_email("login")
    response = register(app_server.url, email)
    assert response.status_code == 201, response.text
    return {"email": email, **response.json()}


# -- register ----------------------------------------------------------------------


def test_register_returns_201_with_user_and_token(account):
    body = account  # the module's registration reply (201 checked by the fixture)
    assert body["user"]["email"] == body["email"]
    assert body["user"]["role"] in ("admin", "user")
    assert isinstance(body["user"]["id"], int)
    assert body["token"].startswith("crn_")
    assert body["tokenInfo"]["prefix"] and body["token"].startswith(body["tokenInfo"]["prefix"])


def test_register_reply_never_contains_the_password(account):
    assert PASSWORD not in str(account)
    assert not {"password", "passwordHash", "password_hash"} & set(account["user"])


def test_registered_token_works(account, app_server):
    with with_token(app_server.url, account["token"]) as client:
        assert client.get("/api/v1/events").status_code == 200


def test_user_registered_after_another_is_not_admin(app_server, account):
    response = register(app_server.url, new_email())
    assert response.json()["user"]["role"] == "user"


def test_register_normalizes_the_email_to_lower_case(app_server):
    token = secrets.token_hex(4)
    response = register(app_server.url, f"MiXeD-{token}@Example.COM")
    assert response.status_code == 201, response.text
    assert response.json()["user"]["email"] == f"mixed-{token}@example.com"


def test_register_duplicate_email_is_409(app_server, account):
    error = error_of(register(app_server.url, account["email"]), 409)
    assert error["code"] == "conflict"
    assert "email" in error["message"]


def test_register_duplicate_email_in_other_case_is_409(app_server, account):
    error_of(register(app_server.url, account["email"].upper()), 409)


def test_register_duplicate_email_keeps_the_first_password(app_server, account):
    register(app_server.url, account["email"], password="another password 123")
    assert login(app_server.url, account["email"]).status_code == 200
    error_of(login(app_server.url, account["email"], password="another password 123"), 401)


@pytest.mark.parametrize(
    "email", ["not-an-email", "a@b", "@example.com", "a b@example.com", "a@@example.com", "user@example", "ab"]
)
def test_register_with_bad_email_is_422(app_server, email):
    error_of(register(app_server.url, email), 422)


@pytest.mark.parametrize("password", ["", "short", "1234567"])
def test_register_with_short_password_is_422(app_server, password):
    error = error_of(register(app_server.url, new_email(), password=password), 422)
    assert "password" in error["message"]


def test_register_with_short_password_creates_no_account(app_server):
    email = new_email()
    register(app_server.url, email, password="short")
    error_of(login(app_server.url, email, password="short"), 401)


def test_register_with_eight_character_password_is_accepted(app_server):
    assert register(app_server.url, new_email(), password="12345678").status_code == 201


def test_register_without_password_is_422(app_server):
    response = httpx.post(f"{app_server.url}/api/v1/auth/register", json={"email": new_email()})
    error_of(response, 422)


def test_register_with_extra_field_is_422(app_server):
    error_of(register(app_server.url, new_email(), role="admin"), 422)


def test_register_with_wrong_typed_email_is_422(app_server):
    response = httpx.post(f"{app_server.url}/api/v1/auth/register", json={"email": 12345, "password": PASSWORD})
    error_of(response, 422)


def test_register_with_malformed_json_is_400(app_server):
    response = httpx.post(
        f"{app_server.url}/api/v1/auth/register",
        content=b'{"email": "x@y.z",',
        headers={"Content-Type": "application/json"},
    )
    assert error_of(response, 400)["code"] == "malformed_json"


def test_register_with_sql_in_email_stores_it_verbatim(app_server):
    email = f"o'brien-{secrets.token_hex(3)}@example.com"
    response = register(app_server.url, email)
    assert response.status_code == 201, response.text
    assert response.json()["user"]["email"] == email
    assert login(app_server.url, email).status_code == 200


# -- login -------------------------------------------------------------------------


def test_login_returns_a_new_token(app_server, account):
    response = login(app_server.url, account["email"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token"].startswith("crn_")
    assert body["token"] != account["token"]
    assert body["user"]["id"] == account["user"]["id"]


def test_login_token_works(app_server, account):
    token = login(app_server.url, account["email"]).json()["token"]
    with with_token(app_server.url, token) as client:
        assert client.get("/api/v1/jobs").status_code == 200


def test_login_keeps_earlier_tokens_working(app_server, account):
    login(app_server.url, account["email"])
    with with_token(app_server.url, account["token"]) as client:
        assert client.get("/api/v1/events").status_code == 200


def test_login_with_email_in_other_case_works(app_server, account):
    assert login(app_server.url, account["email"].upper()).status_code == 200


def test_login_names_the_token(app_server, account):
    response = login(app_server.url, account["email"], tokenName="laptop")
    assert response.json()["tokenInfo"]["name"] == "laptop"


def test_login_with_wrong_password_is_401_with_clear_message(app_server, account):
    error = error_of(login(app_server.url, account["email"], password="wrong password!"), 401)
    assert error["code"] == "unauthorized"
    assert error["message"] == "wrong email or password"


def test_login_with_unknown_email_is_401_with_the_same_message(app_server):
    error = error_of(login(app_server.url, new_email("nobody")), 401)
    assert error["message"] == "wrong email or password"


def test_login_without_password_is_422(app_server, account):
    error_of(httpx.post(f"{app_server.url}/api/v1/auth/login", json={"email": account["email"]}), 422)


def test_login_with_malformed_json_is_400(app_server):
    response = httpx.post(
        f"{app_server.url}/api/v1/auth/login",
        content=b"email=x&password=y",
        headers={"Content-Type": "application/json"},
    )
    assert error_of(response, 400)["code"] == "malformed_json"


# -- the bearer check on every /api/v1 route family ----------------------------------


@pytest.fixture(scope="module")
def owned(owner) -> dict[str, Any]:
    """Real ids of the owner's rows, so that a 401 cannot be a 404 in disguise."""
    event = owner.create_event(name="owned")
    job_id = owner.execute(event["id"])
    owner.http.post(f"/api/v1/jobs/{job_id}/cancel")  # keep the shared queue clean
    owner.http.put("/api/v1/variables/owned-var", json={"value": "kept"})
    token = owner.http.post("/api/v1/tokens", json={"name": "owned"}).json()
    revoked = owner.http.post("/api/v1/tokens", json={"name": "revoked"}).json()
    assert owner.http.delete(f"/api/v1/tokens/{revoked['id']}").status_code == 204
    return {"event": event, "job": job_id, "token": token, "revoked": revoked["token"]}


V1_ROUTES = [
    ("GET", "/api/v1/events", None),
    ("POST", "/api/v1/events", {"name": "x", "type": "bash", "script": "true"}),
    ("GET", "/api/v1/events/{event}", None),
    ("PATCH", "/api/v1/events/{event}", {"name": "renamed"}),
    ("DELETE", "/api/v1/events/{event}", None),
    ("POST", "/api/v1/events/{event}/execute", {"input": 1}),
    ("GET", "/api/v1/jobs", None),
    ("GET", "/api/v1/jobs/stats", None),
    ("GET", "/api/v1/jobs/{job}", None),
    ("GET", "/api/v1/jobs/{job}/logs", None),
    ("POST", "/api/v1/jobs/{job}/cancel", None),
    ("GET", "/api/v1/variables", None),
    ("GET", "/api/v1/variables/owned-var", None),
    ("PUT", "/api/v1/variables/owned-var", {"value": "overwritten"}),
    ("DELETE", "/api/v1/variables/owned-var", None),
    ("GET", "/api/v1/tokens", None),
    ("POST", "/api/v1/tokens", {"name": "sneaky"}),
    ("DELETE", "/api/v1/tokens/{token}", None),
]
ROUTE_PARAMS = [pytest.param(m, p, b, id=f"{m} {p}") for m, p, b in V1_ROUTES]


def call(app_server, owned, method: str, path: str, body: Any, authorization: str | None) -> httpx.Response:
    path = path.format(event=owned["event"]["id"], job=owned["job"], token=owned["token"]["id"])
    headers = {"Authorization": authorization} if authorization is not None else {}
    return httpx.request(method, app_server.url + path, json=body, headers=headers, timeout=30)


@pytest.mark.parametrize(("method", "path", "body"), ROUTE_PARAMS)
def test_missing_token_is_401(app_server, owned, method, path, body):
    error = error_of(call(app_server, owned, method, path, body, None), 401)
    assert error["code"] == "unauthorized"
    assert "Authorization" in error["message"]


@pytest.mark.parametrize(("method", "path", "body"), ROUTE_PARAMS)
def test_garbage_token_is_401(app_server, owned, method, path, body):
    error_of(call(app_server, owned, method, path, body, "Bearer crn_" + secrets.token_urlsafe(32)), 401)


@pytest.mark.parametrize(("method", "path", "body"), ROUTE_PARAMS)
def test_token_without_the_prefix_is_401(app_server, owned, method, path, body):
    error_of(call(app_server, owned, method, path, body, "Bearer not-a-token"), 401)


@pytest.mark.parametrize(("method", "path", "body"), ROUTE_PARAMS)
def test_revoked_token_is_401(app_server, owned, method, path, body):
    error_of(call(app_server, owned, method, path, body, f"Bearer {owned['revoked']}"), 401)


@pytest.mark.parametrize(("method", "path", "body"), ROUTE_PARAMS)
def test_valid_token_with_wrong_scheme_is_401(app_server, owned, owner, method, path, body):
    error_of(call(app_server, owned, method, path, body, f"Basic {owner.token}"), 401)


@pytest.mark.parametrize("authorization", ["Bearer", "Token abc", "", "crn_x"])
def test_malformed_authorization_header_is_401(app_server, owned, authorization):
    error_of(call(app_server, owned, "GET", "/api/v1/events", None, authorization), 401)


def test_rejected_requests_changed_nothing(owner, owned):
    assert owner.http.get(f"/api/v1/events/{owned['event']['id']}").json() == owned["event"]
    assert owner.http.get("/api/v1/variables/owned-var").json()["value"] == "kept"
    assert owned["token"]["id"] in {t["id"] for t in owner.http.get("/api/v1/tokens").json()["items"]}
    assert owner.http.get("/api/v1/events").json()["total"] == 1
    assert owner.http.get("/api/v1/jobs").json()["total"] == 1
    assert "sneaky" not in {t["name"] for t in owner.http.get("/api/v1/tokens").json()["items"]}


# -- OpenAPI -----------------------------------------------------------------------

PUBLIC_PATHS = {
    "/api/v1/auth/register", "/api/v1/auth/login",
    "/api/v1/events", "/api/v1/events/{event_id}", "/api/v1/events/{event_id}/execute",
    "/api/v1/jobs", "/api/v1/jobs/stats", "/api/v1/jobs/{job_id}", "/api/v1/jobs/{job_id}/logs",
    "/api/v1/jobs/{job_id}/cancel",
    "/api/v1/variables", "/api/v1/variables/{key}",
    "/api/v1/tokens", "/api/v1/tokens/{token_id}",
}


@pytest.fixture(scope="module")
def openapi(app_server) -> dict[str, Any]:
    response = httpx.get(f"{app_server.url}/api/v1/openapi.json")
    assert response.status_code == 200, response.text
    return response.json()


def test_openapi_document_is_served_without_a_token(openapi):
    assert openapi["openapi"].startswith("3.")
    assert openapi["info"]["title"]


def test_every_schema_of_the_openapi_document_has_a_name_of_its_own(openapi):
    """Two models of one name get a name made of their module path, which
    generated clients refuse (cronium_generated_client; test_generated_client.py)."""
    names = list(openapi["components"]["schemas"])
    assert [name for name in names if "__" in name] == []


def test_openapi_lists_every_public_route(openapi):
    assert PUBLIC_PATHS <= set(openapi["paths"])


def test_openapi_lists_the_public_methods(openapi):
    paths = openapi["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/events"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/events/{event_id}"])
    assert {"get", "put", "delete"} <= set(paths["/api/v1/variables/{key}"])
    assert "post" in paths["/api/v1/jobs/{job_id}/cancel"]


def test_openapi_does_not_list_the_orchestrator_api(openapi):
    assert not [path for path in openapi["paths"] if path.startswith("/api/internal")]
    assert "/api/internal" not in str(openapi)


# -- apps of their own: first user, registration turned off --------------------------


@pytest.fixture(scope="module")
def empty_app() -> Iterator[AppServer]:
    with migrated_database("cronium_first_user") as url:
        with AppServer(database_url=url) as server:
            yield server


def test_first_registered_user_is_admin(empty_app):
    first = register(empty_app.url, new_email("first"))
    assert first.status_code == 201, first.text
    assert first.json()["user"]["role"] == "admin"
    second = register(empty_app.url, new_email("second"))
    assert second.json()["user"]["role"] == "user"


ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin password 123"


@pytest.fixture(scope="module")
def closed_app() -> Iterator[AppServer]:
    overrides = {
        "CRONIUM_ALLOW_REGISTRATION": "false",
        "CRONIUM_ADMIN_EMAIL": ADMIN_EMAIL,
        "CRONIUM_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    with migrated_database("cronium_no_registration") as url:
        with AppServer(database_url=url, env_overrides=overrides) as server:
            yield server


def test_register_when_registration_is_off_is_403(closed_app):
    error = error_of(register(closed_app.url, new_email()), 403)
    assert error["code"] == "forbidden"
    assert "registration" in error["message"]


def test_register_when_registration_is_off_creates_no_account(closed_app):
    email = new_email()
    register(closed_app.url, email)
    error_of(login(closed_app.url, email), 401)


def test_login_still_works_when_registration_is_off(closed_app):
    response = login(closed_app.url, ADMIN_EMAIL, password=ADMIN_PASSWORD)
    assert response.status_code == 200, response.text
    assert response.json()["user"]["role"] == "admin"
