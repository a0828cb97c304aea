"""The permission matrix, generated from the route table: every /api/v1 and
runtime route of the OpenAPI document has an expected least ability here
(a new route without one fails `test_every_route_has_an_expectation`),
every route of an administrator ("admin") refuses every team caller, and
every workspace route is called by each kind of caller of a team workspace:
its owner, an editor, a runner, a viewer, the owner's own token scoped down
to viewer, someone who is not a member, and an editor whose account an
administrator disabled. A caller whose role has the ability must get
through (any status but 401/403/404); any other must be refused (403, or
404 for a stranger, who learns nothing; 401 on every route for a disabled
account, whatever its role). Zero unexpected.

Web UI handlers call the same services with an `Access` built the same way
(state/base.AppState._access, the member's role read before each event);
test_ui_permission_matrix.py sends each data-changing handler over the
app's websocket as each kind of caller. The runtime routes take a job's
execution token and no API token of any caller (below; test_api_runtime.py
covers the tokens of other jobs, attempts and ended jobs).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import pytest

from cronium_app.auth.access import RANK
from tests.support.clients import (
    UserClient, WorkerClient, register_user, team_workspace, token_client, workspace_token,
)
from tests.support.databases import make_instance_admin
from tests.support.mcp_client import Reply, call, mcp_session

# (method, path) -> the least ability: "public" (no token), "account" (any
# valid token: the caller's own account), "read" / "run" / "edit" / "manage"
# (a role in the token's workspace), "admin" (the instance's administrator),
# "runtime" (a job's execution token, not an API token).
EXPECTED: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/auth/register"): "public",
    ("POST", "/api/v1/auth/login"): "public",
    ("POST", "/api/v1/auth/password"): "account",
    ("GET", "/api/v1/tokens"): "account",
    ("POST", "/api/v1/tokens"): "account",
    ("DELETE", "/api/v1/tokens/{token_id}"): "account",
    ("GET", "/api/v1/workspaces"): "account",
    ("POST", "/api/v1/workspaces"): "manage",
    ("GET", "/api/v1/workspace"): "read",
    ("PATCH", "/api/v1/workspace"): "manage",
    ("DELETE", "/api/v1/workspace"): "manage",
    ("GET", "/api/v1/workspace/members"): "read",
    ("POST", "/api/v1/workspace/members"): "manage",
    ("PUT", "/api/v1/workspace/members/{member_id}"): "manage",
    ("DELETE", "/api/v1/workspace/members/{member_id}"): "manage",
    ("GET", "/api/v1/events"): "read",
    ("POST", "/api/v1/events"): "edit",
    ("GET", "/api/v1/events/{event_id}"): "read",
    ("PATCH", "/api/v1/events/{event_id}"): "edit",
    ("DELETE", "/api/v1/events/{event_id}"): "edit",
    ("POST", "/api/v1/events/{event_id}/execute"): "run",
    ("GET", "/api/v1/events/{event_id}/schedule/preview"): "read",
    ("POST", "/api/v1/schedules/preview"): "account",
    ("GET", "/api/v1/workflows/{workflow_id}/schedule/preview"): "read",
    ("GET", "/api/v1/events/{event_id}/actions"): "read",
    ("POST", "/api/v1/events/{event_id}/actions"): "edit",
    ("PATCH", "/api/v1/events/{event_id}/actions/{action_id}"): "edit",
    ("DELETE", "/api/v1/events/{event_id}/actions/{action_id}"): "edit",
    ("GET", "/api/v1/jobs/{job_id}/actions"): "read",
    ("GET", "/api/v1/jobs"): "read",
    ("GET", "/api/v1/jobs/stats"): "read",
    ("GET", "/api/v1/jobs/{job_id}"): "read",
    ("GET", "/api/v1/jobs/{job_id}/logs"): "read",
    ("POST", "/api/v1/jobs/{job_id}/cancel"): "run",
    ("GET", "/api/v1/variables"): "read",
    ("GET", "/api/v1/variables/{key}"): "read",
    ("PUT", "/api/v1/variables/{key}"): "edit",
    ("DELETE", "/api/v1/variables/{key}"): "edit",
    ("GET", "/api/v1/workflows"): "read",
    ("POST", "/api/v1/workflows"): "edit",
    ("GET", "/api/v1/workflows/{workflow_id}"): "read",
    ("PUT", "/api/v1/workflows/{workflow_id}"): "edit",
    ("DELETE", "/api/v1/workflows/{workflow_id}"): "edit",
    ("POST", "/api/v1/workflows/{workflow_id}/execute"): "run",
    ("GET", "/api/v1/workflows/{workflow_id}/runs"): "read",
    ("GET", "/api/v1/workflow-runs/{run_id}"): "read",
    ("POST", "/api/v1/workflow-runs/{run_id}/cancel"): "run",
    ("GET", "/api/v1/servers"): "read",
    ("POST", "/api/v1/servers"): "edit",
    ("GET", "/api/v1/servers/{server_id}"): "read",
    ("PATCH", "/api/v1/servers/{server_id}"): "edit",
    ("DELETE", "/api/v1/servers/{server_id}"): "edit",
    ("POST", "/api/v1/servers/{server_id}/test"): "edit",
    ("DELETE", "/api/v1/servers/{server_id}/host-key"): "edit",
    ("GET", "/api/v1/tools"): "read",
    ("POST", "/api/v1/tools"): "edit",
    ("POST", "/api/v1/tools/preview"): "read",
    ("GET", "/api/v1/tools/{tool_id}"): "read",
    ("PATCH", "/api/v1/tools/{tool_id}"): "edit",
    ("DELETE", "/api/v1/tools/{tool_id}"): "edit",
    ("POST", "/api/v1/tools/{tool_id}/test"): "edit",
    ("GET", "/api/v1/triggers"): "read",
    ("POST", "/api/v1/triggers"): "edit",
    ("PATCH", "/api/v1/triggers/{trigger_id}"): "edit",
    ("POST", "/api/v1/triggers/{trigger_id}/rotate"): "edit",
    ("DELETE", "/api/v1/triggers/{trigger_id}"): "edit",
    ("GET", "/api/v1/as-code/export"): "read",
    ("POST", "/api/v1/as-code/plan"): "read",
    ("POST", "/api/v1/as-code/apply"): "edit",
    ("GET", "/api/v1/workers"): "admin",
    # Instance administration: an administrator's own account token (one
    # scoped to a workspace or a role is refused: test_user_admin.py).
    ("GET", "/api/v1/users"): "admin",
    ("GET", "/api/v1/users/invitations"): "admin",
    ("POST", "/api/v1/users/invitations"): "admin",
    ("DELETE", "/api/v1/users/invitations/{invitation_id}"): "admin",
    ("GET", "/api/v1/users/{user_id}"): "admin",
    ("POST", "/api/v1/users/{user_id}/disable"): "admin",
    ("POST", "/api/v1/users/{user_id}/enable"): "admin",
    ("PUT", "/api/v1/users/{user_id}/role"): "admin",
    ("POST", "/api/v1/users/{user_id}/reset-link"): "admin",
    # Everyone reads the entries of their own actions (an administrator's
    # account token: every entry; a workspace's token: that workspace's).
    ("GET", "/api/v1/audit"): "account",
    # A webhook trigger's secret URL: its secret is the credential.
    ("POST", "/api/hooks/{trigger_id}/{secret}"): "public",
}
RUNTIME_PREFIX = "/api/runtime/"
WORKSPACE_ABILITIES = ("read", "run", "edit", "manage")
ROLES = ("owner", "editor", "runner", "viewer")


def _schema_routes(base_url: str) -> set[tuple[str, str]]:
    document = httpx.get(f"{base_url}/api/v1/openapi.json", timeout=30).json()
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


def test_every_route_has_an_expectation(app_server):
    routes = _schema_routes(app_server.url)
    public = {route for route in routes if not route[1].startswith(RUNTIME_PREFIX)}
    assert sorted(public - EXPECTED.keys()) == [], "a route without an expected ability: add it to EXPECTED"
    assert sorted(EXPECTED.keys() - public) == [], "an expectation for a route that is gone"


@dataclass
class Caller:
    name: str
    role: str | None  # None: not a member
    http: httpx.Client
    # An MCP-only token of the same account, workspace and role.
    mcp_token: str
    # An administrator disabled the account after its tokens were made.
    disabled: bool = False


@dataclass
class Team:
    owner: UserClient
    callers: list[Caller]
    workspace_id: int
    # The disabled member's token for their personal workspace.
    disabled_personal: httpx.Client


def _token_for(client: UserClient, workspace_id: int, role: str) -> httpx.Client:
    return token_client(str(client.http.base_url), workspace_token(client, workspace_id, role))


def _caller(name: str, role: str, client: UserClient, workspace_id: int) -> Caller:
    return Caller(name, role, _token_for(client, workspace_id, role),
                  workspace_token(client, workspace_id, role, scopes=["mcp"]))


def _disable(app_server, app_db_url: str, account: UserClient) -> None:
    """Disable `account` as an instance administrator does."""
    admin = register_user(app_server.url)
    make_instance_admin(app_db_url, admin.user["id"])
    disabled = admin.http.post(f"/api/v1/users/{account.user['id']}/disable")
    assert disabled.status_code == 200, disabled.text
    admin.http.close()


@pytest.fixture(scope="module")
def team(app_server, app_db_url) -> Iterator[Team]:
    owner = register_user(app_server.url)
    members = {role: register_user(app_server.url) for role in ("editor", "runner", "viewer")}
    to_disable = register_user(app_server.url)
    workspace_id, owner_team = team_workspace(owner, f"Matrix {uuid.uuid4().hex[:6]}", members)
    added = owner_team.post("/api/v1/workspace/members", json={"email": to_disable.user["email"], "role": "editor"})
    assert added.status_code == 201, added.text
    callers = [Caller("owner", "owner", owner_team, workspace_token(owner, workspace_id, "owner", scopes=["mcp"]))]
    callers += [_caller(role, role, member, workspace_id) for role, member in members.items()]
    callers.append(_caller("owner's viewer token", "viewer", owner, workspace_id))
    stranger = register_user(app_server.url)
    stranger_mcp = stranger.http.post("/api/v1/tokens", json={"name": "mcp", "scopes": ["mcp"]})
    assert stranger_mcp.status_code == 201, stranger_mcp.text
    callers.append(Caller("non-member", None, stranger.http, stranger_mcp.json()["token"]))
    disabled = _caller("disabled editor", "editor", to_disable, workspace_id)
    _disable(app_server, app_db_url, to_disable)
    callers.append(Caller(disabled.name, disabled.role, disabled.http, disabled.mcp_token, disabled=True))
    yield Team(owner=owner, callers=callers, workspace_id=workspace_id, disabled_personal=to_disable.http)
    for caller in callers:
        caller.http.close()
    to_disable.http.close()


class Fixtures:
    """One set of the team workspace's rows, made by its owner for one caller
    (a caller's DELETEs use up their own set)."""

    def __init__(self, owner: httpx.Client) -> None:
        self.http = owner
        suffix = uuid.uuid4().hex[:8]
        self.event = self._made("/api/v1/events", {"name": f"ev-{suffix}", "type": "bash", "script": "true"})
        self.workflow = self._made("/api/v1/workflows", {
            "name": f"wf-{suffix}", "steps": [{"name": "a", "eventId": self.event["id"]}], "edges": []})
        self.variable_key = f"var_{suffix}"
        assert owner.put(f"/api/v1/variables/{self.variable_key}", json={"value": 1}).status_code in (200, 201)
        self.server = self._made("/api/v1/servers", {
            "name": f"srv-{suffix}", "host": "127.0.0.1", "port": 1, "username": "u", "authType": "password",
            "password": "secret-pw"})
        self.tool = self._made("/api/v1/tools", {"name": f"tool-{suffix}", "kind": "webhook",
                                                 "url": "http://127.0.0.1:9/hook"})
        self.action = self._made(f"/api/v1/events/{self.event['id']}/actions", {
            "trigger": "failure", "kind": "run_event", "targetEventId": self.event["id"]})
        self.trigger = self._made("/api/v1/triggers", {"eventId": self.event["id"]})
        self.job_id = self._made(f"/api/v1/events/{self.event['id']}/execute", {}, status=202)["jobId"]
        self.run_id = self._made(f"/api/v1/workflows/{self.workflow['id']}/execute", {}, status=202)["runId"]

    def _made(self, path: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
        response = self.http.post(path, json=body)
        assert response.status_code == status, (path, response.text)
        return response.json()

    def path(self, template: str, member_id: int) -> str:
        return template.format(
            event_id=self.event["id"], workflow_id=self.workflow["id"], key=self.variable_key,
            server_id=self.server["id"], tool_id=self.tool["id"], action_id=self.action["id"],
            trigger_id=self.trigger["id"], job_id=self.job_id, run_id=self.run_id, member_id=member_id,
        )

    def body(self, method: str, template: str) -> dict[str, Any] | None:
        suffix = uuid.uuid4().hex[:8]
        bodies = {
            ("POST", "/api/v1/events"): {"name": f"new-{suffix}", "type": "bash", "script": "true"},
            ("PATCH", "/api/v1/events/{event_id}"): {"description": "changed"},
            ("POST", "/api/v1/events/{event_id}/actions"): {
                "trigger": "failure", "kind": "run_event", "targetEventId": self.event["id"]},
            ("PATCH", "/api/v1/events/{event_id}/actions/{action_id}"): {"enabled": False},
            ("PUT", "/api/v1/variables/{key}"): {"value": 2},
            ("POST", "/api/v1/workflows"): {"name": f"new-{suffix}", "steps": [{"name": "a", "eventId": self.event["id"]}],
                                            "edges": []},
            ("PUT", "/api/v1/workflows/{workflow_id}"): {
                "name": self.workflow["name"], "steps": [{"name": "a", "eventId": self.event["id"]}], "edges": []},
            ("POST", "/api/v1/servers"): {"name": f"new-{suffix}", "host": "127.0.0.1", "port": 1, "username": "u",
                                          "authType": "password", "password": "pw"},
            ("PATCH", "/api/v1/servers/{server_id}"): {"tags": ["x"]},
            ("POST", "/api/v1/tools"): {"name": f"new-{suffix}", "kind": "webhook", "url": "http://127.0.0.1:9/hook"},
            ("PATCH", "/api/v1/tools/{tool_id}"): {"name": f"renamed-{suffix}"},
            ("POST", "/api/v1/tools/preview"): {"kind": "webhook", "fields": {"body": "hi"}},
            ("POST", "/api/v1/tools/{tool_id}/test"): {},
            ("POST", "/api/v1/triggers"): {"eventId": self.event["id"]},
            ("PATCH", "/api/v1/triggers/{trigger_id}"): {"name": "renamed"},
            ("POST", "/api/v1/as-code/plan"): {"files": [{"name": "c.yaml", "content": "version: 1\n"}]},
            ("POST", "/api/v1/as-code/apply"): {"files": [{"name": "c.yaml", "content": (
                f"version: 1\nvariables:\n  - key: doc_{suffix}\n    value: 1\n")}]},
            ("POST", "/api/v1/events/{event_id}/execute"): {},
            ("POST", "/api/v1/workflows/{workflow_id}/execute"): {},
            ("PATCH", "/api/v1/workspace"): {"name": "Matrix renamed"},
            ("POST", "/api/v1/workspace/members"): {"email": f"nobody-{suffix}@example.com", "role": "viewer"},
            ("PUT", "/api/v1/workspace/members/{member_id}"): {"role": "viewer"},
            ("POST", "/api/v1/workspaces"): {"name": f"Other {suffix}"},
        }
        return bodies.get((method, template))


# Routes that would change what the next callers see beyond their own rows
# (the workspace itself, its members): called with a request that the
# service refuses after the role check (an unknown member, a wrong name).
QUERY = {("DELETE", "/api/v1/workspace"): {"confirm": "not the name"}}
NO_MEMBER = 2**31 - 1
# Past the role check, these answer 404 on purpose (an unknown member).
SAFE_MISS = {("PUT", "/api/v1/workspace/members/{member_id}"), ("DELETE", "/api/v1/workspace/members/{member_id}"),
             ("POST", "/api/v1/workspace/members")}


def _allowed(role: str | None, ability: str) -> bool:
    if role is None:
        return False
    least = {"read": "viewer", "run": "runner", "edit": "editor", "manage": "owner"}[ability]
    return RANK[role] >= RANK[least]


def _order(route: tuple[str, str]) -> tuple[int, int, int, str]:
    """Reads first, DELETEs last (they use the caller's fixtures up), the
    deepest paths first (an event's action before the event)."""
    method, path = route
    owners_last = path in ("/api/v1/events/{event_id}", "/api/v1/workflows/{workflow_id}")
    return ({"GET": 0, "DELETE": 2}.get(method, 1), int(owners_last), -path.count("/"), path)


def test_every_workspace_route_for_every_caller(team: Team):
    owner_token = team.callers[0].http
    routes = sorted((r for r, ability in EXPECTED.items() if ability in WORKSPACE_ABILITIES), key=_order)
    unexpected = []
    for caller in team.callers:
        fixtures = Fixtures(owner_token)
        for method, template in routes:
            ability = EXPECTED[(method, template)]
            if caller.role is None and not caller.disabled and ("{" not in template or (template.endswith("{key}") and method != "GET")):
                # A stranger's token acts in their own workspace: these name
                # nothing of the team's (a variable's key is a name: writing
                # it writes the stranger's own; reading it proves the team's
                # stays hidden).
                continue
            response = caller.http.request(
                method, fixtures.path(template, NO_MEMBER), json=fixtures.body(method, template),
                params=QUERY.get((method, template)),
            )
            if caller.disabled:
                if response.status_code != 401:
                    unexpected.append((caller.name, method, template, response.status_code, response.text[:200]))
                continue
            allowed = _allowed(caller.role, ability)
            if (method, template) in SAFE_MISS and allowed:
                got_through = response.status_code not in (401, 403)
            else:
                got_through = response.status_code not in (401, 403, 404)
            if got_through != allowed or response.status_code >= 500:
                unexpected.append((caller.name, method, template, response.status_code, response.text[:200]))
    assert unexpected == [], "\n".join(map(str, unexpected))


# -- runtime routes ------------------------------------------------------------------

RUNTIME_KEY = "matrix.key"
RUNTIME_BODIES = {"PUT": {"value": 1}, "POST": {"done": True}}
# The key is written before it is read, and removed last.
RUNTIME_ORDER = {"PUT": 0, "POST": 1, "GET": 2, "DELETE": 3}


def _runtime_path(template: str, job_id: str) -> str:
    return template.replace("{job_id}", job_id).replace("{key}", RUNTIME_KEY)


def _runtime_body(method: str, template: str) -> dict[str, Any] | None:
    if template.endswith("/condition"):
        return {"condition": True}
    return RUNTIME_BODIES.get(method)


def test_every_runtime_route_for_every_caller(app_server, team: Team):
    """Runtime routes take a job's execution token and nothing else: a job
    of the team workspace started by each member who may run gets through
    every route with its token, while every caller's API token (each role,
    the owner's viewer token, a stranger's, a disabled member's, and each
    one's MCP token) is refused on each (401), on the same held job."""
    routes = sorted((r for r in _schema_routes(app_server.url) if r[1].startswith(RUNTIME_PREFIX)),
                    key=lambda route: (RUNTIME_ORDER[route[0]], route[1]))
    assert len(routes) >= 7, routes
    event = team.callers[0].http.post("/api/v1/events", json={"name": "runtime matrix", "type": "bash", "script": "true"})
    assert event.status_code == 201, event.text
    starters = [c for c in team.callers if c.role is not None and not c.disabled and _allowed(c.role, "run")]
    assert {c.name for c in starters} == {"owner", "editor", "runner"}
    api_tokens = [(c.name, c.http) for c in team.callers]
    api_tokens += [(f"{c.name} (mcp)", token_client(app_server.url, c.mcp_token)) for c in team.callers]
    claimer = WorkerClient(app_server.url)
    unexpected = []
    try:
        for starter in starters:
            started = starter.http.post(f"/api/v1/events/{event.json()['id']}/execute")
            assert started.status_code == 202, started.text
            job_id = started.json()["jobId"]
            claimed = claimer.claim_one(job_id)
            assert claimer.running(job_id, claimed["attempt"]).status_code == 200
            execution = token_client(app_server.url, claimed["executionToken"])
            for method, template in routes:
                path, body = _runtime_path(template, job_id), _runtime_body(method, template)
                for name, client in api_tokens:
                    response = client.request(method, path, json=body)
                    if response.status_code != 401:
                        unexpected.append((name, starter.name, method, template, response.status_code))
                response = execution.request(method, path, json=body)
                if response.status_code != 200:
                    unexpected.append(("execution token", starter.name, method, template, response.status_code,
                                       response.text[:200]))
            execution.close()
            assert claimer.complete(job_id, claimed["attempt"]).status_code == 200
    finally:
        claimer.http.close()
        for _, client in api_tokens[len(team.callers):]:
            client.close()
    assert unexpected == [], "\n".join(map(str, unexpected))


def test_every_admin_route_refuses_every_team_caller(team: Team):
    """Nobody here administers the server with these tokens: members are
    not administrators, and a token acting in a team workspace is not an
    account's own token even when its account is one."""
    unexpected = []
    admin_routes = [route for route, ability in EXPECTED.items() if ability == "admin"]
    for caller in team.callers:
        for method, template in admin_routes:
            path = template.format(user_id=team.owner.user["id"], invitation_id=NO_MEMBER)
            body = {"email": "x@example.com", "role": "user"} if template.endswith("invitations") else None
            body = {"role": "user"} if template.endswith("/role") else body
            response = caller.http.request(method, path, json=body)
            if response.status_code != (401 if caller.disabled else 403):
                unexpected.append((caller.name, method, template, response.status_code, response.text[:200]))
    assert unexpected == [], "\n".join(map(str, unexpected))


def test_an_owner_reads_every_members_actions_in_the_workspace_and_the_others_their_own(team: Team):
    by_name = {caller.name: caller for caller in team.callers}
    editor = by_name["editor"]
    made = editor.http.post("/api/v1/events", json={"name": f"by-editor-{uuid.uuid4().hex[:6]}", "type": "bash",
                                                     "script": "true"})
    assert made.status_code == 201, made.text

    def entries(http: httpx.Client) -> list[dict[str, Any]]:
        response = http.get("/api/v1/audit", params={"limit": 200})
        assert response.status_code == 200, response.text
        return response.json()["items"]

    def made_by_editor(items: list[dict[str, Any]]) -> bool:
        return any(e["action"] == "event.create" and e["target"]["id"] == str(made.json()["id"]) for e in items)

    owner_team = entries(by_name["owner"].http)
    assert made_by_editor(owner_team)
    assert {"workspace.create", "member.add"} <= {entry["action"] for entry in owner_team}
    assert {entry["workspaceId"] for entry in owner_team} == {team.workspace_id}
    # The owner's account token: the team's entries, and its personal workspace's too.
    everything = entries(team.owner.http)
    assert made_by_editor(everything) and {entry["workspaceId"] for entry in everything} > {team.workspace_id}
    # Below owner, only one's own actions: the editor, and the owner's token scoped down to viewer.
    mine = entries(editor.http)
    editor_ids = {entry["actor"]["userId"] for entry in mine}
    assert made_by_editor(mine) and len(editor_ids) == 1 and team.owner.user["id"] not in editor_ids
    scoped_down = entries(by_name["owner's viewer token"].http)
    assert not made_by_editor(scoped_down)
    assert {entry["actor"]["userId"] for entry in scoped_down} <= {team.owner.user["id"]}


def test_a_disabled_members_tokens_are_refused_everywhere(app_server, team: Team):
    """Their tokens for the team, for MCP and for their personal workspace."""
    disabled = next(c for c in team.callers if c.disabled)
    assert team.disabled_personal.get("/api/v1/events").status_code == 401
    assert team.disabled_personal.get("/api/v1/tokens").status_code == 401
    assert disabled.http.get("/api/v1/workspace").status_code == 401
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "matrix", "version": "1"}}}
    mcp = httpx.post(f"{app_server.url}/api/mcp", json=initialize, timeout=30, headers={
        "Authorization": f"Bearer {disabled.mcp_token}", "Accept": "application/json, text/event-stream"})
    assert mcp.status_code == 401, mcp.text


def test_a_token_role_above_the_creator_is_refused(team: Team):
    runner = next(c for c in team.callers if c.name == "runner")
    made = runner.http.post("/api/v1/tokens", json={"name": "up", "role": "editor"})
    assert made.status_code == 403


def test_demoting_a_member_demotes_their_tokens_at_once(team: Team, app_server):
    owner_team = team.callers[0].http
    member = register_user(app_server.url)
    assert owner_team.post("/api/v1/workspace/members", json={"email": member.user["email"], "role": "editor"}).status_code == 201
    token = _token_for(member, team.workspace_id, "editor")
    assert token.put("/api/v1/variables/demote_me", json={"value": 1}).status_code in (200, 201)
    users = owner_team.get("/api/v1/workspace/members").json()["items"]
    member_id = next(m["userId"] for m in users if m["email"] == member.user["email"])
    assert owner_team.put(f"/api/v1/workspace/members/{member_id}", json={"role": "viewer"}).status_code == 200
    assert token.put("/api/v1/variables/demote_me", json={"value": 2}).status_code == 403
    assert owner_team.delete(f"/api/v1/workspace/members/{member_id}").status_code == 204
    assert token.get("/api/v1/variables").status_code == 401


def test_the_last_owner_cannot_leave_the_workspace_ownerless(team: Team):
    owner_team = team.callers[0].http
    me = owner_team.get("/api/v1/workspace/members").json()["items"]
    owner_id = next(m["userId"] for m in me if m["role"] == "owner")
    assert owner_team.put(f"/api/v1/workspace/members/{owner_id}", json={"role": "editor"}).status_code == 409
    assert owner_team.delete(f"/api/v1/workspace/members/{owner_id}").status_code == 409


# -- /api/mcp: the same roles through the MCP tools ------------------------------------------
#
# An MCP-only token acts in its workspace with its role, through the same
# services: (case, tool) -> the least ability. Every tool the server lists
# must be named here (`test_every_mcp_tool_has_an_expectation`).
MCP_EXPECTED: dict[str, tuple[str, str]] = {
    "get_capabilities": ("get_capabilities", "read"),
    "list_events": ("list_events", "read"),
    "get_event": ("get_event", "read"),
    "list_workflows": ("list_workflows", "read"),
    "get_workflow": ("get_workflow", "read"),
    "list_jobs": ("list_jobs", "read"),
    "get_job": ("get_job", "read"),
    "get_job_logs": ("get_job_logs", "read"),
    "get_workflow_run": ("get_workflow_run", "read"),
    "delete unconfirmed": ("delete", "read"),
    "validate_plan": ("validate_plan", "edit"),
    "run_event": ("run_event", "run"),
    "run_workflow": ("run_workflow", "run"),
    "create_event": ("create_event", "edit"),
    "update_event": ("update_event", "edit"),
    "create_workflow": ("create_workflow", "edit"),
    "update_workflow": ("update_workflow", "edit"),
    "create_bundle": ("create_bundle", "edit"),
    "activate": ("activate", "edit"),
    "pause": ("pause", "edit"),
    "delete confirmed": ("delete", "edit"),
}
# Cases that name nothing of the team's: a stranger's token runs them in
# the stranger's own workspace.
MCP_OWN_WORKSPACE = {"get_capabilities", "list_events", "list_workflows", "list_jobs", "validate_plan",
                     "create_event", "create_workflow", "create_bundle"}


def _mcp_arguments(case: str, fixtures: Fixtures) -> dict[str, Any]:
    suffix = uuid.uuid4().hex[:8]
    event_id, workflow_id = fixtures.event["id"], fixtures.workflow["id"]
    steps = [{"name": "a", "eventId": event_id}]
    plan = {"events": [{"name": f"plan-{suffix}", "type": "bash", "script": "true"}],
            "workflows": [{"name": f"plan-wf-{suffix}", "steps": [{"name": "a", "event": f"plan-{suffix}"}]}]}
    return {
        "get_event": {"event_id": event_id}, "get_workflow": {"workflow_id": workflow_id},
        "get_job": {"job_id": fixtures.job_id}, "get_job_logs": {"job_id": fixtures.job_id},
        "get_workflow_run": {"run_id": fixtures.run_id},
        "delete unconfirmed": {"kind": "workflow", "id": workflow_id},
        "validate_plan": {"plan": plan}, "create_bundle": {"plan": plan},
        "run_event": {"event_id": event_id}, "run_workflow": {"workflow_id": workflow_id},
        "create_event": {"event": {"name": f"mcp-{suffix}", "type": "bash", "script": "true"}},
        "update_event": {"event_id": event_id, "changes": {"description": "changed"}},
        "create_workflow": {"workflow": {"name": f"mcp-wf-{suffix}", "steps": steps, "edges": []}},
        "update_workflow": {"workflow_id": workflow_id,
                            "workflow": {"name": fixtures.workflow["name"], "steps": steps, "edges": []}},
        "activate": {"kind": "event", "id": event_id}, "pause": {"kind": "workflow", "id": workflow_id},
        "delete confirmed": {"kind": "workflow", "id": workflow_id, "confirm": True},
    }.get(case, {})


def _mcp_outcome(case: str, reply: Reply) -> tuple[bool, str]:
    """(did the call get through, the refusal's words). validate_plan
    answers a refusal as a problem of the plan, not as a tool error."""
    if case == "validate_plan" and not reply.is_error:
        data = reply.data
        return data["valid"], "; ".join(data["problems"])
    return not reply.is_error, reply.text if reply.is_error else ""


def test_every_mcp_tool_has_an_expectation(app_server, team: Team):
    async def run():
        async with mcp_session("http", app_server.url, team.callers[0].mcp_token) as session:
            return {tool.name for tool in (await session.list_tools()).tools}
    listed = anyio.run(run)
    assert sorted(listed - {tool for tool, _ in MCP_EXPECTED.values()}) == [], "an MCP tool without an expectation"


def test_every_mcp_tool_for_every_caller(app_server, team: Team):
    """A viewer's MCP token reads and changes nothing, a runner's runs, an
    editor's changes; a stranger's sees none of the team's rows."""
    owner_token = team.callers[0].http
    unexpected = []
    for caller in team.callers:
        if caller.disabled:  # refused before any tool: test_a_disabled_members_tokens_are_refused_everywhere
            continue
        fixtures = Fixtures(owner_token)
        cases = [case for case in MCP_EXPECTED if caller.role is not None or case not in MCP_OWN_WORKSPACE]

        async def run(cases=cases, fixtures=fixtures, caller=caller):
            async with mcp_session("http", app_server.url, caller.mcp_token) as session:
                return [(case, await call(session, MCP_EXPECTED[case][0], **_mcp_arguments(case, fixtures)))
                        for case in cases]

        for case, reply in anyio.run(run):
            allowed = _allowed(caller.role, MCP_EXPECTED[case][1])
            got_through, refusal = _mcp_outcome(case, reply)
            expected_words = "not found" if caller.role is None else f"your role in this workspace is {caller.role}"
            if got_through != allowed or (not allowed and expected_words not in refusal):
                unexpected.append((caller.name, case, reply.text[:200]))
    assert unexpected == [], "\n".join(map(str, unexpected))


def test_an_mcp_token_sees_its_workspace_and_role(app_server, team: Team):
    viewer = next(c for c in team.callers if c.name == "viewer")

    async def run():
        async with mcp_session("http", app_server.url, viewer.mcp_token) as session:
            return await call(session, "get_capabilities")
    workspace = anyio.run(run).data["workspace"]
    assert workspace == {"id": team.workspace_id, "role": "viewer", "canRun": False, "canEdit": False}
