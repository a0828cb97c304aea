"""Variables (/api/v1/variables) and API tokens (/api/v1/tokens) over real
HTTP against the running app."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from tests.support.clients import UserClient, register_user

VARIABLE_MAX_BYTES = 1024 * 1024  # CRONIUM_VARIABLE_MAX_BYTES default


@pytest.fixture(scope="module")
def user(app_server) -> Iterator[UserClient]:
    """One user for the module (registering costs an Argon2 hash); tests use
    their own variable keys and token names."""
    client = register_user(app_server.url)
    yield client
    client.http.close()


def new_key(prefix: str = "var") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON, types included (True is not 1, "1" is not 1); JSON has
    one number type, so 1 and 1.0 are the same number, but digits must not
    be lost; object key order does not matter (PostgreSQL's JSONB reorders keys)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b  # exact, even between int and float
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def bearer(app_server, token: str) -> httpx.Client:
    return httpx.Client(base_url=app_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"]
    return error


# -- variables -------------------------------------------------------------------

JSON_VALUES = [
    pytest.param("plain string", id="string"),
    pytest.param("", id="empty-string"),
    pytest.param("42", id="numeric-string"),
    pytest.param("1.0", id="float-string"),
    pytest.param("null", id="null-string"),
    pytest.param(42, id="int"),
    pytest.param(-7, id="negative-int"),
    pytest.param(0, id="zero"),
    pytest.param(2**53, id="int-2-53"),
    pytest.param(2**64 + 1, id="int-beyond-64-bits"),
    pytest.param(3.25, id="float"),
    pytest.param(1.0, id="whole-float"),
    pytest.param(True, id="true"),
    pytest.param(False, id="false"),
    pytest.param(None, id="null"),
    pytest.param([], id="empty-list"),
    pytest.param([1, "two", None, False, {"x": [3]}], id="mixed-list"),
    pytest.param({}, id="empty-object"),
    pytest.param({"zeta": 1, "alpha": {"deep": [1, 2, {"deeper": None}]}, "b": True}, id="nested-object"),
    pytest.param("ünïcødé — 日本語 🚀", id="unicode"),
    pytest.param({"ключ": "значение", "emoji🔑": "✓"}, id="unicode-object-keys"),
    pytest.param("line1\nline2\t\"quoted\"\\", id="escapes"),
    pytest.param("'; DROP TABLE variables; --", id="sql"),
    pytest.param("<script>alert(1)</script>", id="html"),
]


@pytest.mark.parametrize("value", JSON_VALUES)
def test_variable_value_round_trips_with_its_json_type(user, value):
    key = new_key()
    response = user.http.put(f"/api/v1/variables/{key}", json={"value": value})
    assert response.status_code == 201, response.text
    fetched = user.http.get(f"/api/v1/variables/{key}")
    assert fetched.status_code == 200, fetched.text
    assert same_json(fetched.json()["value"], value), fetched.json()


@pytest.mark.parametrize("value", JSON_VALUES)
def test_variable_put_reply_echoes_the_value(user, value):
    response = user.http.put(f"/api/v1/variables/{new_key()}", json={"value": value})
    assert same_json(response.json()["value"], value), response.json()


def test_put_new_variable_is_201_with_key_and_timestamps(user):
    key = new_key()
    response = user.http.put(f"/api/v1/variables/{key}", json={"value": 1})
    assert response.status_code == 201
    body = response.json()
    assert body["key"] == key
    assert body["createdAt"] and body["updatedAt"]


def test_put_existing_variable_is_200_and_replaces_the_value(user):
    key = new_key()
    user.http.put(f"/api/v1/variables/{key}", json={"value": "old"})
    response = user.http.put(f"/api/v1/variables/{key}", json={"value": {"new": True}})
    assert response.status_code == 200, response.text
    assert user.http.get(f"/api/v1/variables/{key}").json()["value"] == {"new": True}


def test_put_existing_variable_keeps_created_at(user):
    key = new_key()
    created = user.http.put(f"/api/v1/variables/{key}", json={"value": 1}).json()
    updated = user.http.put(f"/api/v1/variables/{key}", json={"value": 2}).json()
    assert updated["createdAt"] == created["createdAt"]
    assert updated["updatedAt"] >= created["updatedAt"]


def test_put_null_value_keeps_the_variable(user):
    key = new_key()
    user.http.put(f"/api/v1/variables/{key}", json={"value": "x"})
    assert user.http.put(f"/api/v1/variables/{key}", json={"value": None}).status_code == 200
    response = user.http.get(f"/api/v1/variables/{key}")
    assert response.status_code == 200
    assert response.json()["value"] is None


def test_variable_keys_are_case_sensitive(user):
    key = new_key("Case")
    user.http.put(f"/api/v1/variables/{key}", json={"value": "upper"})
    assert user.http.put(f"/api/v1/variables/{key.lower()}", json={"value": "lower"}).status_code == 201
    assert user.http.get(f"/api/v1/variables/{key}").json()["value"] == "upper"


def test_list_variables_shows_keys_in_order(user):
    prefix = new_key("list")
    for suffix in ("c", "a", "b"):
        user.http.put(f"/api/v1/variables/{prefix}.{suffix}", json={"value": suffix})
    items = user.http.get("/api/v1/variables", params={"limit": 200}).json()["items"]
    mine = [v["key"] for v in items if v["key"].startswith(prefix)]
    assert mine == [f"{prefix}.a", f"{prefix}.b", f"{prefix}.c"]


def test_list_variables_paginates(make_user):
    fresh = make_user()
    for i in range(5):
        fresh.http.put(f"/api/v1/variables/k{i}", json={"value": i})
    first = fresh.http.get("/api/v1/variables", params={"limit": 2}).json()
    rest = fresh.http.get("/api/v1/variables", params={"limit": 10, "offset": 2}).json()
    assert [v["key"] for v in first["items"]] == ["k0", "k1"]
    assert [v["key"] for v in rest["items"]] == ["k2", "k3", "k4"]


def test_delete_variable_is_204_then_get_is_404(user):
    key = new_key()
    user.http.put(f"/api/v1/variables/{key}", json={"value": 1})
    response = user.http.delete(f"/api/v1/variables/{key}")
    assert response.status_code == 204
    assert response.content == b""
    error_of(user.http.get(f"/api/v1/variables/{key}"), 404)


def test_delete_variable_twice_is_404(user):
    key = new_key()
    user.http.put(f"/api/v1/variables/{key}", json={"value": 1})
    user.http.delete(f"/api/v1/variables/{key}")
    error_of(user.http.delete(f"/api/v1/variables/{key}"), 404)


def test_get_unknown_variable_is_404(user):
    assert error_of(user.http.get(f"/api/v1/variables/{new_key('missing')}"), 404)["code"] == "not_found"


INVALID_KEYS = [
    pytest.param("has space", id="space"),
    pytest.param("ключ", id="non-ascii"),
    pytest.param("k" * 129, id="too-long"),
    pytest.param("semi;colon", id="semicolon"),
    pytest.param("dollar$", id="dollar"),
    pytest.param("quote'", id="quote"),
]


@pytest.mark.parametrize("key", INVALID_KEYS)
def test_put_variable_with_invalid_key_is_422(user, key):
    error = error_of(user.http.put(f"/api/v1/variables/{key}", json={"value": 1}), 422)
    assert "key" in error["message"]


@pytest.mark.parametrize("key", INVALID_KEYS)
def test_get_variable_with_invalid_key_is_422(user, key):
    error_of(user.http.get(f"/api/v1/variables/{key}"), 422)


def test_variable_key_at_the_length_limit_is_accepted(user):
    key = "k" * 120 + secrets.token_hex(4)
    assert len(key) == 128
    assert user.http.put(f"/api/v1/variables/{key}", json={"value": 1}).status_code == 201


def test_variable_value_over_1_mib_is_413(user):
    key = new_key("big")
    error = error_of(user.http.put(f"/api/v1/variables/{key}", json={"value": "x" * VARIABLE_MAX_BYTES}), 413)
    assert error["code"] == "too_large"


def test_variable_value_over_1_mib_stores_nothing(user):
    key = new_key("big")
    user.http.put(f"/api/v1/variables/{key}", json={"value": "x" * VARIABLE_MAX_BYTES})
    error_of(user.http.get(f"/api/v1/variables/{key}"), 404)


def test_variable_value_over_1_mib_leaves_the_old_value(user):
    key = new_key("big")
    user.http.put(f"/api/v1/variables/{key}", json={"value": "small"})
    user.http.put(f"/api/v1/variables/{key}", json={"value": ["x" * 1024] * 1024})
    assert user.http.get(f"/api/v1/variables/{key}").json()["value"] == "small"


def test_variable_value_of_exactly_1_mib_is_accepted(user):
    value = "x" * (VARIABLE_MAX_BYTES - 2)  # the two quotes make it 1 MiB of JSON
    assert user.http.put(f"/api/v1/variables/{new_key('edge')}", json={"value": value}).status_code == 201


def test_put_variable_without_value_is_422(user):
    error_of(user.http.put(f"/api/v1/variables/{new_key()}", json={}), 422)


def test_put_variable_with_extra_field_is_422(user):
    error_of(user.http.put(f"/api/v1/variables/{new_key()}", json={"value": 1, "hidden": True}), 422)


def test_put_variable_with_malformed_json_is_400(user):
    response = user.http.put(
        f"/api/v1/variables/{new_key()}", content=b'{"value": [1, 2', headers={"Content-Type": "application/json"}
    )
    assert error_of(response, 400)["code"] == "malformed_json"


# -- tokens ----------------------------------------------------------------------


def create_token(user: UserClient, **body: Any) -> httpx.Response:
    return user.http.post("/api/v1/tokens", json={"name": f"tok-{secrets.token_hex(3)}", **body})


def token_ids(user: UserClient) -> set[int]:
    return {t["id"] for t in user.http.get("/api/v1/tokens").json()["items"]}


def test_create_token_is_201_and_shows_the_token(user):
    response = create_token(user, name="ci")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["token"].startswith("crn_")
    assert body["name"] == "ci"
    assert body["prefix"] and body["token"].startswith(body["prefix"])
    assert body["expiresAt"] is None


def test_created_token_works(app_server, user):
    token = create_token(user).json()["token"]
    with bearer(app_server, token) as client:
        assert client.get("/api/v1/events").status_code == 200


def test_created_tokens_are_distinct(user):
    assert create_token(user).json()["token"] != create_token(user).json()["token"]


def test_token_list_shows_prefix_but_never_the_token(user):
    created = create_token(user).json()
    response = user.http.get("/api/v1/tokens")
    assert response.status_code == 200
    listed = next(t for t in response.json()["items"] if t["id"] == created["id"])
    assert listed["prefix"] == created["prefix"]
    assert listed["name"] == created["name"]
    assert "token" not in listed
    assert created["token"] not in response.text
    assert user.token not in response.text


def test_token_list_shows_each_tokens_workspace_and_role(user):
    personal = user.http.get("/api/v1/workspace").json()
    team = user.http.post("/api/v1/workspaces", json={"name": f"CI {secrets.token_hex(3)}"}).json()
    made = user.http.post("/api/v1/tokens", json={"name": "ci runner", "workspaceId": team["id"], "role": "runner"})
    assert made.status_code == 201, made.text
    listed = {t["id"]: t for t in user.http.get("/api/v1/tokens").json()["items"]}
    assert {k: listed[made.json()["id"]][k] for k in ("workspaceId", "workspaceName", "role")} == {
        "workspaceId": team["id"], "workspaceName": team["name"], "role": "runner"}
    own = next(t for t in listed.values() if t["prefix"] == user.token[:len(t["prefix"])])
    assert (own["workspaceName"], own["role"]) == (personal["name"], "owner")


def test_token_list_never_contains_a_hash(user):
    for item in user.http.get("/api/v1/tokens").json()["items"]:
        assert not {"tokenHash", "token_hash", "hash"} & set(item)


def test_token_last_used_is_recorded(app_server, user):
    created = create_token(user).json()
    assert created["lastUsedAt"] is None
    with bearer(app_server, created["token"]) as client:
        client.get("/api/v1/events")
    listed = next(t for t in user.http.get("/api/v1/tokens").json()["items"] if t["id"] == created["id"])
    assert listed["lastUsedAt"]


def test_revoke_token_is_204(user):
    created = create_token(user).json()
    response = user.http.delete(f"/api/v1/tokens/{created['id']}")
    assert response.status_code == 204
    assert response.content == b""


def test_revoked_token_stops_working(app_server, user):
    created = create_token(user).json()
    user.http.delete(f"/api/v1/tokens/{created['id']}")
    with bearer(app_server, created["token"]) as client:
        assert error_of(client.get("/api/v1/events"), 401)["code"] == "unauthorized"


def test_revoked_token_leaves_the_list(user):
    created = create_token(user).json()
    user.http.delete(f"/api/v1/tokens/{created['id']}")
    assert created["id"] not in token_ids(user)


def test_revoking_a_token_keeps_the_others_working(app_server, user):
    keep, drop = create_token(user).json(), create_token(user).json()
    user.http.delete(f"/api/v1/tokens/{drop['id']}")
    with bearer(app_server, keep["token"]) as client:
        assert client.get("/api/v1/events").status_code == 200


def test_token_can_revoke_itself_and_then_stops_working(app_server, user):
    created = create_token(user).json()
    with bearer(app_server, created["token"]) as client:
        assert client.delete(f"/api/v1/tokens/{created['id']}").status_code == 204
        error_of(client.get("/api/v1/tokens"), 401)


def test_revoke_unknown_token_is_404(user):
    error_of(user.http.delete("/api/v1/tokens/999999999"), 404)


def test_revoke_token_twice_is_404(user):
    created = create_token(user).json()
    user.http.delete(f"/api/v1/tokens/{created['id']}")
    error_of(user.http.delete(f"/api/v1/tokens/{created['id']}"), 404)


def test_token_with_expiry_in_the_past_is_422(user):
    past = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    error = error_of(create_token(user, expiresAt=past), 422)
    assert "expiresAt" in error["message"]


def test_token_with_expiry_in_the_past_creates_nothing(user):
    before = token_ids(user)
    create_token(user, expiresAt=(datetime.now(timezone.utc) - timedelta(days=1)).isoformat())
    assert token_ids(user) == before


def test_token_with_expiry_in_the_future_is_created_and_works(app_server, user):
    future = datetime.now(timezone.utc) + timedelta(days=30)
    response = create_token(user, expiresAt=future.isoformat())
    assert response.status_code == 201, response.text
    assert response.json()["expiresAt"].startswith(future.strftime("%Y-%m-%dT%H:%M:%S"))
    with bearer(app_server, response.json()["token"]) as client:
        assert client.get("/api/v1/events").status_code == 200


def test_token_stops_working_once_expired(app_server, user):
    expires = datetime.now(timezone.utc) + timedelta(seconds=1.5)
    token = create_token(user, expiresAt=expires.isoformat()).json()["token"]
    with bearer(app_server, token) as client:
        assert client.get("/api/v1/events").status_code == 200
        time.sleep(max(0.0, (expires - datetime.now(timezone.utc)).total_seconds()) + 0.2)
        error = error_of(client.get("/api/v1/events"), 401)
    assert "expired" in error["message"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="no-name"),
        pytest.param({"name": ""}, id="empty-name"),
        pytest.param({"name": "n" * 101}, id="long-name"),
        pytest.param({"name": 5}, id="name-not-string"),
        pytest.param({"name": "x", "expiresAt": "next tuesday"}, id="bad-expiry"),
        pytest.param({"name": "x", "scopes": ["admin"]}, id="unknown-field"),
    ],
)
def test_create_token_with_bad_body_is_422(user, body):
    error_of(user.http.post("/api/v1/tokens", json=body), 422)


def test_create_token_with_malformed_json_is_400(user):
    response = user.http.post("/api/v1/tokens", content=b'{"name": ', headers={"Content-Type": "application/json"})
    assert error_of(response, 400)["code"] == "malformed_json"


def test_a_secret_variable_is_write_only(user):
    key = new_key()
    created = user.http.put(f"/api/v1/variables/{key}", json={"value": "hush-hush-1", "secret": True})
    assert created.status_code == 201 and created.json()["secret"] is True
    shown = [user.http.get(f"/api/v1/variables/{key}").json(), *user.http.get("/api/v1/variables").json()["items"]]
    assert all(item["value"] is None for item in shown if item["key"] == key)
    assert "hush-hush-1" not in user.http.get("/api/v1/variables").text


def test_replacing_a_secret_variable_keeps_it_secret_unless_told(user):
    key = new_key()
    user.http.put(f"/api/v1/variables/{key}", json={"value": "first", "secret": True})
    assert user.http.put(f"/api/v1/variables/{key}", json={"value": "second"}).json()["secret"] is True
    plain = user.http.put(f"/api/v1/variables/{key}", json={"value": "third", "secret": False}).json()
    assert (plain["secret"], plain["value"]) == (False, "third")
