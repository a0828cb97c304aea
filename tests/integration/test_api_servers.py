"""Servers (/api/v1/servers) and event targets over real HTTP: validation,
per-user scoping, and credentials that go in but never come out."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.integration.shared_users import make_user, user  # noqa: F401 (fixtures)
from tests.support.clients import UserClient


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, str]:
    folder: Path = tmp_path_factory.mktemp("keys")
    made = {}
    for name, passphrase in (("plain", ""), ("locked", "open sesame")):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-f", str(folder / name)], check=True)
        made[name] = (folder / name).read_text()
        made[f"{name}.pub"] = (folder / f"{name}.pub").read_text().strip()
    return made


def body(keys: dict[str, str], **fields: Any) -> dict[str, Any]:
    data = {
        "name": f"srv-{uuid.uuid4().hex[:8]}", "host": "db1.example.internal", "port": 22,
        "username": "deploy", "authType": "key", "privateKey": keys["plain"],
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def create(user: UserClient, keys: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = user.http.post("/api/v1/servers", json=body(keys, **fields))
    assert response.status_code == 201, response.text
    return response.json()


def error_of(response) -> dict[str, Any]:
    return response.json()["error"]


def test_create_returns_the_server_without_credentials(user, keys):
    server = create(user, keys, tags=["db", "eu"])
    assert server["hasCredentials"] is True and server["tags"] == ["db", "eu"]
    text = str(server)
    assert "privateKey" not in server and "password" not in server and "PRIVATE KEY" not in text


def test_password_server_never_returns_the_password(user, keys):
    server = create(user, keys, authType="password", privateKey=None, password="hunter2-secret")
    for reply in (server, user.http.get(f"/api/v1/servers/{server['id']}").json(), user.http.get("/api/v1/servers").json()):
        assert "hunter2-secret" not in str(reply)


def test_an_encrypted_key_needs_its_passphrase(user, keys):
    response = user.http.post("/api/v1/servers", json=body(keys, privateKey=keys["locked"]))
    assert response.status_code == 422 and "passphrase" in error_of(response)["message"]
    create(user, keys, privateKey=keys["locked"], passphrase="open sesame")


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"privateKey": "not a key"}, "private key could not be read"),
        ({"privateKey": None}, "needs privateKey"),
        ({"authType": "password", "privateKey": None}, "needs password"),
        ({"host": "http://example.com/x"}, "host must be a host name"),
        ({"host": "a b"}, "host must be a host name"),
        ({"port": 0}, "port"),
        ({"port": 70000}, "port"),
        ({"username": "9bad user"}, "username"),
        ({"authType": "telepathy"}, "authType"),
        ({"hostKey": "ssh-ed25519 garbage"}, "hostKey is not an SSH public key"),
        ({"name": ""}, "name"),
        ({"tags": ["x"] * 21}, "tags"),
    ],
)
def test_bad_server_input_is_refused_with_a_clear_message(user, keys, fields, words):
    response = user.http.post("/api/v1/servers", json=body(keys, **fields))
    assert response.status_code == 422, response.text
    assert words in response.text


def test_a_duplicate_name_is_a_conflict(user, keys):
    server = create(user, keys)
    response = user.http.post("/api/v1/servers", json=body(keys, name=server["name"]))
    assert response.status_code == 409 and "already exists" in error_of(response)["message"]


def test_a_supplied_host_key_is_stored_normalised(user, keys):
    server = create(user, keys, hostKey=keys["plain.pub"])
    assert server["hostKey"] == keys["plain.pub"].rsplit(" ", 1)[0]
    assert server["hostKeyFingerprint"].startswith("SHA256:")


def test_update_keeps_credentials_unless_new_ones_come(user, keys):
    server = create(user, keys)
    response = user.http.patch(f"/api/v1/servers/{server['id']}", json={"port": 2200, "tags": ["x"]})
    assert response.status_code == 200 and response.json()["port"] == 2200 and response.json()["hasCredentials"]
    switched = user.http.patch(f"/api/v1/servers/{server['id']}", json={"authType": "password"})
    assert switched.status_code == 422 and "needs password" in switched.text


def test_moving_a_server_forgets_its_pinned_host_key(user, keys):
    server = create(user, keys, hostKey=keys["plain.pub"])
    moved = user.http.patch(f"/api/v1/servers/{server['id']}", json={"host": "db2.example.internal"}).json()
    assert moved["hostKey"] is None


def test_resending_the_same_address_keeps_the_pinned_host_key(user, keys):
    server = create(user, keys, hostKey=keys["plain.pub"])
    same = user.http.patch(f"/api/v1/servers/{server['id']}", json={"host": server["host"], "port": server["port"]}).json()
    assert same["hostKey"] == server["hostKey"]


def test_forgetting_the_host_key(user, keys):
    server = create(user, keys, hostKey=keys["plain.pub"])
    reply = user.http.delete(f"/api/v1/servers/{server['id']}/host-key")
    assert reply.status_code == 200 and reply.json()["hostKey"] is None


def test_list_filters_by_text_and_tag_and_pages(user, keys):
    marker = uuid.uuid4().hex[:6]
    for i in range(3):
        create(user, keys, name=f"{marker}-{i}", tags=["odd"] if i % 2 else ["even"])
    page = user.http.get("/api/v1/servers", params={"q": marker, "limit": 2}).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    tagged = user.http.get("/api/v1/servers", params={"q": marker, "tag": "odd"}).json()
    assert [s["name"] for s in tagged["items"]] == [f"{marker}-1"]


def test_another_user_cannot_see_change_test_or_delete_a_server(user, make_user, keys):
    server = create(user, keys)
    other = make_user()
    sid = server["id"]
    assert other.http.get(f"/api/v1/servers/{sid}").status_code == 404
    assert other.http.patch(f"/api/v1/servers/{sid}", json={"port": 1}).status_code == 404
    assert other.http.post(f"/api/v1/servers/{sid}/test").status_code == 404
    assert other.http.delete(f"/api/v1/servers/{sid}/host-key").status_code == 404
    assert other.http.delete(f"/api/v1/servers/{sid}").status_code == 404
    assert sid not in [s["id"] for s in other.http.get("/api/v1/servers").json()["items"]]


def test_servers_need_a_token(app_server):
    import httpx

    assert httpx.get(f"{app_server.url}/api/v1/servers").status_code == 401


# -- event targets ---------------------------------------------------------------------


def test_an_event_can_target_its_owners_servers(user, keys):
    server = create(user, keys)
    event = user.create_event(serverIds=[server["id"]], serverTags=["db"], remoteDocker=True)
    assert (event["serverIds"], event["serverTags"], event["remoteDocker"]) == ([server["id"]], ["db"], True)


def test_an_event_cannot_target_another_users_server(user, make_user, keys):
    server = create(user, keys)
    other = make_user()
    response = other.http.post("/api/v1/events", json={"name": "x", "type": "bash", "script": "true", "serverIds": [server["id"]]})
    assert response.status_code == 422 and f"unknown server id(s): {server['id']}" in response.text


def test_an_http_event_cannot_target_servers(user, keys):
    server = create(user, keys)
    response = user.http.post(
        "/api/v1/events",
        json={"name": "x", "type": "http", "httpRequest": {"url": "http://example.com"}, "serverIds": [server["id"]]},
    )
    assert response.status_code == 422 and "cannot target servers" in response.text


def test_deleting_a_server_takes_it_off_its_events(user, keys):
    server = create(user, keys)
    event = user.create_event(serverIds=[server["id"]])
    assert user.http.delete(f"/api/v1/servers/{server['id']}").status_code == 204
    assert user.http.get(f"/api/v1/events/{event['id']}").json()["serverIds"] == []
    assert user.http.get(f"/api/v1/servers/{server['id']}").status_code == 404


def test_a_job_shows_which_servers_it_targets_but_no_credentials(user, keys):
    server = create(user, keys, authType="password", privateKey=None, password="pw-not-shown-123")
    job_id = user.execute(user.create_event(serverIds=[server["id"]])["id"])
    job = user.http.get(f"/api/v1/jobs/{job_id}").json()
    assert job["execution"]["target"]["serverIds"] == [server["id"]]
    assert "pw-not-shown-123" not in str(job)
