"""The audit log through the real app: every kind of action leaves one
entry with its actor, address, source and masked changes; no secret ever
reaches the table; no route changes it; paging, JSONL export, retention,
and the database's own refusal to change an entry."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa
from fastapi.routing import iter_route_contexts
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from cronium_app.api.app import build_api
from cronium_app.audit import retention as audit_retention
from cronium_app.db import make_engine, write_session
from cronium_app.jobs.retention import run_pass
from cronium_app.models import AuditEntry
from cronium_app.settings import Settings
from cronium_app.timeutil import utcnow
from cronium_cli.client import CLI_USER_AGENT
from tests.support.app_server import AppServer
from tests.support.clients import WorkerClient, newest_audit_id
from tests.support.databases import migrated_database

# The address every request claims through X-Forwarded-For; the app trusts
# one proxy hop (the test itself), so this is the client's address it records.
CLIENT_IP = "198.51.100.23"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def db_url() -> Iterator[str]:
    with migrated_database("cronium_audit") as url:
        yield url


@pytest.fixture(scope="module")
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def app(db_url: str) -> Iterator[AppServer]:
    with AppServer(database_url=db_url, env_overrides={"CRONIUM_TRUSTED_PROXY_HOPS": "1"}) as server:
        yield server


def _client(app: AppServer, token: str | None = None, **headers: str) -> httpx.Client:
    base = {"X-Forwarded-For": CLIENT_IP, **headers}
    if token:
        base["Authorization"] = f"Bearer {token}"
    return httpx.Client(base_url=app.url, headers=base, timeout=30)


def _register(app: AppServer, email: str) -> dict[str, Any]:
    with _client(app) as http:
        response = http.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope="module")
def admin(app: AppServer) -> Iterator[httpx.Client]:
    """The first account: it administers the server and sees every entry."""
    body = _register(app, f"admin-{secrets.token_hex(4)}@example.com")
    assert body["user"]["role"] == "admin"
    with _client(app, body["token"]) as http:
        http.user = body["user"]  # type: ignore[attr-defined]
        yield http


@pytest.fixture(scope="module")
def member(app: AppServer, admin) -> Iterator[httpx.Client]:
    body = _register(app, f"member-{secrets.token_hex(4)}@example.com")
    with _client(app, body["token"]) as http:
        http.user = body["user"]  # type: ignore[attr-defined]
        yield http


def entries_after(http: httpx.Client, after_id: int) -> list[dict[str, Any]]:
    """The entries `http`'s user may see that came after `after_id`, oldest first."""
    response = http.get("/api/v1/audit", params={"limit": 200})
    assert response.status_code == 200, response.text
    return [e for e in reversed(response.json()["items"]) if e["id"] > after_id]


def only(entries: list[dict[str, Any]], action: str) -> dict[str, Any]:
    matching = [e for e in entries if e["action"] == action]
    assert len(matching) == 1, (action, [e["action"] for e in entries])
    return matching[0]


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def set_variable(http: httpx.Client, key: str, body: dict[str, Any]) -> None:
    response = http.put(f"/api/v1/variables/{key}", json=body)
    assert response.status_code in (200, 201), response.text


def check_actor(entry: dict[str, Any], user: dict[str, Any], *, kind: str = "token", source: str = "api") -> None:
    assert entry["actor"]["userId"] == user["id"]
    assert entry["actor"]["email"] == user["email"]
    assert entry["actor"]["kind"] == kind
    assert entry["source"] == source
    assert entry["clientIp"] == CLIENT_IP


# -- every action kind ----------------------------------------------------------------


def test_event_changes_record_only_the_changed_fields_with_secret_values_hidden(admin):
    start = newest_audit_id(admin)
    event = ok(admin.post("/api/v1/events", json={
        "name": "nightly", "type": "bash", "script": "echo hi",
        "envVars": {"REGION": "eu-west-1"}, "secretEnvVars": {"API_KEY": "sk-live-event-secret"},
    }), 201)
    ok(admin.patch(f"/api/v1/events/{event['id']}", json={
        "name": "nightly build", "secretEnvVars": {"API_KEY": "sk-live-event-secret-2"},
    }))
    assert admin.delete(f"/api/v1/events/{event['id']}").status_code == 204
    entries = entries_after(admin, start)

    created = only(entries, "event.create")
    check_actor(created, admin.user)
    assert created["target"] == {"kind": "event", "id": str(event["id"]), "label": "nightly"}
    assert created["changes"]["env_vars"]["after"] == {"REGION": "[hidden]"}
    assert created["changes"]["secret_env"]["after"] == "[hidden]"
    assert created["changes"]["secret_env_names"]["after"] == ["API_KEY"]

    updated = only(entries, "event.update")
    assert updated["changes"]["name"] == {"before": "nightly", "after": "nightly build"}
    assert updated["changes"]["secret_env"] == {"before": "[hidden]", "after": "[hidden: changed]"}
    assert "script" not in updated["changes"]  # unchanged fields are left out

    deleted = only(entries, "event.delete")
    assert deleted["changes"]["name"] == {"before": "nightly build"}


def test_an_http_events_header_values_are_hidden_and_the_rest_shown(admin):
    start = newest_audit_id(admin)
    request = {"method": "POST", "url": "http://127.0.0.1:9/hook", "headers": {"Authorization": "Bearer header-secret-1"},
               "body": "{}"}
    event = ok(admin.post("/api/v1/events", json={"name": "hook", "type": "http", "httpRequest": request}), 201)
    changed = {**request, "headers": {"Authorization": "Bearer header-secret-2", "X-Trace": "on"}}
    ok(admin.patch(f"/api/v1/events/{event['id']}", json={"httpRequest": changed}))
    entries = entries_after(admin, start)
    assert "header-secret" not in json.dumps(entries)
    created = only(entries, "event.create")["changes"]["http_request"]["after"]
    assert created["url"] == request["url"] and created["headers"] == {"Authorization": "[hidden]"}
    updated = only(entries, "event.update")["changes"]["http_request"]
    assert updated["after"]["headers"] == {"Authorization": "[hidden: changed]", "X-Trace": "[hidden]"}


def test_running_and_cancelling_a_job_are_recorded(admin):
    event = ok(admin.post("/api/v1/events", json={"name": "runner", "type": "bash", "script": "sleep 1"}), 201)
    start = newest_audit_id(admin)
    job_id = ok(admin.post(f"/api/v1/events/{event['id']}/execute"), 202)["jobId"]
    ok(admin.post(f"/api/v1/jobs/{job_id}/cancel"))
    entries = entries_after(admin, start)
    executed = only(entries, "job.execute")
    check_actor(executed, admin.user)
    assert executed["target"]["kind"] == "event" and executed["changes"]["jobId"] == {"after": job_id}
    cancelled = only(entries, "job.cancel")
    assert cancelled["target"] == {"kind": "job", "id": job_id, "label": "runner"}


def test_variables_never_show_a_value(admin):
    start = newest_audit_id(admin)
    set_variable(admin, "db_password", {"value": "hunter2-variable", "secret": True})
    set_variable(admin, "db_password", {"value": "hunter3-variable"})
    set_variable(admin, "plain_count", {"value": 41})
    admin.delete("/api/v1/variables/db_password")
    entries = entries_after(admin, start)
    assert [e["action"] for e in entries] == ["variable.create", "variable.update", "variable.create", "variable.delete"]
    assert entries[0]["changes"]["sealed_value"]["after"] == "[hidden]"
    assert entries[1]["changes"]["sealed_value"] == {"before": "[hidden]", "after": "[hidden: changed]"}
    assert entries[2]["changes"]["value"] == {"after": "[hidden]"}
    assert entries[3]["target"] == {"kind": "variable", "id": entries[0]["target"]["id"], "label": "db_password"}


def test_tokens_servers_tools_triggers_actions_and_workflows_are_recorded(app, admin, ssh_key):
    start = newest_audit_id(admin)
    token = ok(admin.post("/api/v1/tokens", json={"name": "ci"}), 201)
    assert admin.delete(f"/api/v1/tokens/{token['id']}").status_code == 204

    server = ok(admin.post("/api/v1/servers", json={
        "name": "db1", "host": "db1.example.internal", "username": "deploy", "authType": "key", "privateKey": ssh_key,
    }), 201)
    ok(admin.patch(f"/api/v1/servers/{server['id']}", json={"authType": "password", "password": "server-pass-123"}))
    assert admin.delete(f"/api/v1/servers/{server['id']}").status_code == 204

    tool = ok(admin.post("/api/v1/tools", json={
        "name": "hook", "kind": "webhook", "url": "http://127.0.0.1:9/hook/tool-url-secret",
        "headers": {"Authorization": "Bearer tool-header-secret"}, "signingSecret": "tool-signing-secret",
    }), 201)
    ok(admin.patch(f"/api/v1/tools/{tool['id']}", json={"name": "hook 2"}))

    event = ok(admin.post("/api/v1/events", json={"name": "hooked", "type": "bash", "script": "cat"}), 201)
    action = ok(admin.post(f"/api/v1/events/{event['id']}/actions", json={
        "trigger": "failure", "kind": "message", "toolId": tool["id"]}), 201)
    ok(admin.patch(f"/api/v1/events/{event['id']}/actions/{action['id']}", json={"enabled": False}))
    assert admin.delete(f"/api/v1/events/{event['id']}/actions/{action['id']}").status_code == 204
    assert admin.delete(f"/api/v1/tools/{tool['id']}").status_code == 204

    trigger = ok(admin.post("/api/v1/triggers", json={"eventId": event["id"], "signingSecret": "trigger-signing"}), 201)
    ok(admin.patch(f"/api/v1/triggers/{trigger['id']}", json={"name": "from ci"}))
    rotated = ok(admin.post(f"/api/v1/triggers/{trigger['id']}/rotate"))
    hook_path = urlsplit(rotated["url"]).path

    workflow = ok(admin.post("/api/v1/workflows", json={
        "name": "pipeline", "steps": [{"name": "a", "eventId": event["id"]}]}), 201)
    ok(admin.put(f"/api/v1/workflows/{workflow['id']}", json={
        "name": "pipeline", "steps": [{"name": "a", "eventId": event["id"]}, {"name": "b", "eventId": event["id"]}],
        "edges": [{"from": "a", "to": "b"}]}))
    run = ok(admin.post(f"/api/v1/workflows/{workflow['id']}/execute"), 202)
    ok(admin.post(f"/api/v1/workflow-runs/{run['runId']}/cancel"))
    assert admin.delete(f"/api/v1/workflows/{workflow['id']}").status_code == 204
    entries = entries_after(admin, start)

    for action_name in ("token.create", "token.revoke", "server.create", "server.update", "server.delete",
                        "tool.create", "tool.update", "tool.delete", "event_action.create", "event_action.update",
                        "event_action.delete", "trigger.create", "trigger.update", "trigger.rotate",
                        "workflow.create", "workflow.update", "workflow.run", "workflow.cancel", "workflow.delete"):
        check_actor(only(entries, action_name), admin.user)
    assert only(entries, "server.update")["changes"]["credentials"] == {"before": "[hidden]", "after": "[hidden: changed]"}
    assert only(entries, "server.update")["changes"]["auth_type"] == {"before": "key", "after": "password"}
    assert only(entries, "token.create")["changes"]["token_hash"] == {"after": "[hidden]"}
    assert only(entries, "trigger.rotate")["changes"]["secret_hash"] == {"before": "[hidden]", "after": "[hidden: changed]"}
    graph = only(entries, "workflow.update")["changes"]["graph"]
    assert len(graph["before"]["steps"]) == 1 and len(graph["after"]["steps"]) == 2

    # A webhook call runs the event for the trigger's owner, from outside.
    start = newest_audit_id(admin)
    with _client(app) as anonymous:
        body = b"{}"
        signature = "sha256=" + hmac.new(b"trigger-signing", body, hashlib.sha256).hexdigest()
        response = anonymous.post(hook_path, content=body, headers={
            "Content-Type": "application/json", "X-Hub-Signature-256": signature})
    assert response.status_code == 202, response.text
    fired = only(entries_after(admin, start), "job.execute")
    assert (fired["source"], fired["actor"]["kind"], fired["actor"]["userId"]) == ("webhook", "system", admin.user["id"])
    assert fired["clientIp"] == CLIENT_IP


def test_the_command_line_is_told_apart_from_other_api_clients(app, admin):
    start = newest_audit_id(admin)
    with _client(app, admin.headers["Authorization"].removeprefix("Bearer "), **{"User-Agent": CLI_USER_AGENT}) as cli:
        set_variable(cli, "from_cli", {"value": 1})
    assert only(entries_after(admin, start), "variable.create")["source"] == "cli"


def test_an_mcp_tool_call_is_recorded_from_the_address_the_proxy_saw(app, member):
    """The MCP endpoint applies CRONIUM_TRUSTED_PROXY_HOPS as every API route does."""
    made = member.post("/api/v1/tokens", json={"name": "assistant", "scopes": ["mcp"]})
    assert made.status_code == 201, made.text
    before = newest_audit_id(member)
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "create_event", "arguments": {"event": {"name": "made over mcp", "type": "bash", "script": "true"}}}}
    with _client(app, made.json()["token"], Accept="application/json, text/event-stream") as http:
        response = http.post("/api/mcp", json=call)
    assert response.status_code == 200 and response.json()["result"]["isError"] is False, response.text
    entry = only(entries_after(member, before), "event.create")
    assert (entry["source"], entry["clientIp"]) == ("mcp", CLIENT_IP)


def test_a_script_changing_a_variable_is_recorded_as_its_owners_job(app, admin):
    event = ok(admin.post("/api/v1/events", json={"name": "setter", "type": "bash", "script": "true"}), 201)
    job_id = ok(admin.post(f"/api/v1/events/{event['id']}/execute"), 202)["jobId"]
    worker = WorkerClient(app.url)
    try:
        claimed = worker.claim_one(job_id)
        assert worker.running(job_id, claimed["attempt"]).status_code == 200
        start = newest_audit_id(admin)
        response = httpx.put(f"{app.url}/api/runtime/executions/{job_id}/variables/from_script",
                             json={"value": "runtime-variable-secret"}, timeout=30,
                             headers={"Authorization": f"Bearer {claimed['executionToken']}"})
        assert response.status_code == 200, response.text
    finally:
        worker.http.close()
    entry = only(entries_after(admin, start), "variable.create")
    assert (entry["source"], entry["actor"]["kind"], entry["actor"]["userId"]) == ("runtime", "worker", admin.user["id"])
    assert entry["changes"]["value"] == {"after": "[hidden]"}


# -- signing in and out -----------------------------------------------------------------


def test_api_sign_in_failure_and_password_change_are_recorded(app, admin):
    email = f"signer-{secrets.token_hex(4)}@example.com"
    user = _register(app, email)["user"]
    start = newest_audit_id(admin)
    with _client(app) as http:
        assert http.post("/api/v1/auth/login", json={"email": email, "password": "wrong password!"}).status_code == 401
        token = ok(http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}))["token"]
    with _client(app, token) as signed_in:
        ok(signed_in.post("/api/v1/auth/password", json={"currentPassword": PASSWORD, "newPassword": PASSWORD + "!"}))
    entries = entries_after(admin, start)
    failed = only(entries, "auth.sign_in_failed")
    assert failed["actor"] == {"userId": None, "email": email, "kind": "system", "tokenId": None}
    assert (failed["source"], failed["clientIp"], failed["target"]["id"]) == ("api", CLIENT_IP, str(user["id"]))
    check_actor(only(entries, "auth.sign_in"), user, kind="user")
    changed = only(entries, "auth.password_change")
    check_actor(changed, user)
    assert changed["changes"] == {"apiTokensRevoked": {"after": False}}


def test_web_ui_sign_in_and_sign_out_are_recorded_with_the_ui_source(app, admin):
    email = f"browser-{secrets.token_hex(4)}@example.com"
    user = _register(app, email)["user"]
    start = newest_audit_id(admin)
    with _client(app) as browser:  # keeps the session cookie, as a browser does
        assert browser.post("/api/session", json={"email": email, "password": "not it at all"}).status_code == 401
        assert browser.post("/api/session", json={"email": email, "password": PASSWORD}).status_code == 200
        assert browser.delete("/api/session").status_code == 204
    entries = entries_after(admin, start)
    assert [e["action"] for e in entries] == ["auth.sign_in_failed", "auth.sign_in", "auth.sign_out"]
    for entry in entries:
        assert (entry["source"], entry["clientIp"]) == ("ui", CLIENT_IP)
    check_actor(entries[1], user, kind="user", source="ui")
    check_actor(entries[2], user, kind="user", source="ui")


# -- who sees what ----------------------------------------------------------------------


def test_a_user_sees_only_their_own_actions_and_an_admin_sees_all(admin, member):
    set_variable(member, "mine", {"value": 1})
    mine = member.get("/api/v1/audit", params={"limit": 200}).json()["items"]
    assert mine and {e["actor"]["userId"] for e in mine} == {member.user["id"]}
    everyone = admin.get("/api/v1/audit", params={"actor": member.user["email"].upper()}).json()["items"]
    assert [e["id"] for e in everyone] == [e["id"] for e in mine]


def test_filters_by_action_prefix_target_and_time(admin):
    set_variable(admin, "filtered", {"value": 1})
    by_prefix = admin.get("/api/v1/audit", params={"action": "variable."}).json()["items"]
    assert by_prefix and all(e["action"].startswith("variable.") for e in by_prefix)
    by_kind = admin.get("/api/v1/audit", params={"targetKind": "variable", "limit": 200}).json()["items"]
    assert {e["target"]["kind"] for e in by_kind} == {"variable"}
    future = (utcnow() + timedelta(hours=1)).isoformat()
    assert admin.get("/api/v1/audit", params={"since": future}).json()["items"] == []
    assert admin.get("/api/v1/audit", params={"until": future, "limit": 1}).json()["items"]


@pytest.mark.parametrize("params", [{"action": "EVENT;drop"}, {"cursor": "abc"}, {"limit": 0}, {"since": "soon"},
                                    {"since": "2030-01-01T00:00:00Z", "until": "2029-01-01T00:00:00Z"},
                                    {"format": "csv"}, {"actor": "x" * 400}, {"since": "0001-01-01T00:00:00+05:00"},
                                    {"actor": "bad\x00byte"}])
def test_bad_filters_are_a_422_with_words(admin, params):
    response = admin.get("/api/v1/audit", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"]


def test_reading_the_log_needs_a_token(app):
    assert httpx.get(f"{app.url}/api/v1/audit").status_code == 401


def test_cursor_pages_cover_every_entry_once(admin):
    everything = [e["id"] for e in admin.get("/api/v1/audit", params={"limit": 200}).json()["items"]]
    seen: list[int] = []
    cursor = None
    while True:
        page = ok(admin.get("/api/v1/audit", params={"limit": 3, **({"cursor": cursor} if cursor else {})}))
        seen += [e["id"] for e in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert len(everything) < 200 and seen == everything == sorted(everything, reverse=True)


def test_jsonl_export_streams_every_matching_entry(admin):
    response = admin.get("/api/v1/audit", params={"format": "jsonl", "action": "variable."})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert "attachment" in response.headers["content-disposition"]
    lines = [json.loads(line) for line in response.text.splitlines()]
    paged = admin.get("/api/v1/audit", params={"action": "variable.", "limit": 200}).json()["items"]
    assert lines == paged and lines


# -- secrets and append-only ------------------------------------------------------------


SECRETS = ("sk-live-event-secret", "runtime-variable-secret", "hunter2-variable", "hunter3-variable", "server-pass-123", "tool-url-secret",
           "tool-header-secret", "tool-signing-secret", "trigger-signing", "wrong password!", PASSWORD, "BEGIN OPENSSH")


def test_no_secret_is_anywhere_in_the_audit_table(engine, admin, ssh_key):
    with engine.connect() as conn:
        rows = conn.execute(sa.select(AuditEntry.__table__)).mappings().all()
        tokens = [t for (t,) in conn.execute(sa.text("SELECT token_hash FROM api_tokens"))]
    dump = json.dumps([dict(row) for row in rows], default=str)
    assert len(rows) > 40
    found = [s for s in (*SECRETS, admin.headers["Authorization"].removeprefix("Bearer "), *tokens) if s in dump]
    assert not found


def test_every_route_of_the_audit_log_only_reads():
    api = build_api(Settings(DATABASE_URL="sqlite://"))
    routes = list(iter_route_contexts(api.routes))
    assert len(routes) > 50  # the walk sees the included routers' routes
    audit_routes = sorted((route.path, sorted(route.methods)) for route in routes if "audit" in route.path)
    assert audit_routes == [("/api/ui/audit/export.jsonl", ["GET"]), ("/api/v1/audit", ["GET"])]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_writing_to_the_audit_path_is_refused(admin, method):
    newest = admin.get("/api/v1/audit", params={"limit": 1}).json()["items"][0]["id"]
    for path in ("/api/v1/audit", f"/api/v1/audit/{newest}"):
        assert admin.request(method, path, json={}).status_code in (404, 405)
    assert admin.get("/api/v1/audit", params={"limit": 1}).json()["items"][0]["id"] == newest


def test_the_database_refuses_to_change_an_entry(engine, admin):
    with pytest.raises(DBAPIError, match="append-only"):
        with write_session(engine) as session:
            session.execute(sa.update(AuditEntry).values(action="event.create"))


def test_the_database_refuses_a_delete_but_from_the_cleaner_on_postgresql(engine, admin):
    if engine.dialect.name != "postgresql":
        pytest.skip("on SQLite only UPDATE is refused by the database (see cronium_app/audit/retention.py)")
    with pytest.raises(DBAPIError, match="append-only"):
        with write_session(engine) as session:
            session.execute(sa.delete(AuditEntry))


def test_retention_removes_only_entries_older_than_the_period(engine, admin):
    settings = Settings(DATABASE_URL="sqlite://", CRONIUM_AUDIT_RETENTION_DAYS=30)
    old_at = utcnow() - timedelta(days=31)
    with write_session(engine) as session:
        session.add(AuditEntry(at=old_at, actor_kind="system", source="system", action="settings.update"))
    with engine.connect() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar_one()
    assert run_pass(engine, settings).audit_entries_deleted == 1  # the history cleaner's pass
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar_one() == before - 1
        assert conn.execute(sa.select(sa.func.min(AuditEntry.at))).scalar_one() > utcnow() - timedelta(days=30)
    assert audit_retention.delete_expired(engine, Settings(DATABASE_URL="sqlite://", CRONIUM_AUDIT_RETENTION_DAYS=0),
                                          utcnow() + timedelta(days=10_000)) == 0


@pytest.fixture(scope="module")
def ssh_key(tmp_path_factory) -> str:
    folder: Path = tmp_path_factory.mktemp("audit-keys")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / "key")], check=True)
    return (folder / "key").read_text()
