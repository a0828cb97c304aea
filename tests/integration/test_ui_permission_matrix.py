"""The permission matrix of the web UI: every event handler of the app's
states is listed here, either as one that changes stored data (CASES: the
least ability it needs, how a page calls it, and the audit entry it
writes) or as one that changes none (NO_STORED_CHANGE); a new handler in
neither fails `test_every_ui_handler_is_classified`.

Each data-changing handler is then sent, over the app's real websocket
(tests/support/ui_events.py), by a tab of each kind of caller: the team
workspace's owner, an editor, a runner, a viewer, a signed-in stranger, the
instance's administrator (who is no member either), an editor whose account
the administrator disabled after signing in, and a tab nobody signed in on.
The tab first opens the page the handler lives on (its loaders, with the
ids in the path) and switches to the team workspace, as a person would. A
caller whose role has the ability must leave the handler's audit entry; any
other must leave no entry of that action (in that workspace, for the
workspace's handlers). Zero unexpected.

Handlers outside this file's cases change no stored data, or only what the
next list shows: the tool and server connection tests (they record the
result of a test message on the row they test; their service checks are the
routes POST /api/v1/tools/{id}/test and /servers/{id}/test of
test_permission_matrix.py) and the theme, a display preference of the
signed-in account itself.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import reflex as rx

from cronium_app.auth.access import Ability, role_allows
from cronium_app.pages import PAGES
from cronium_app.state.ascode import AsCodeState
from cronium_app.state.base import AppState
from cronium_app.state.event_editor import EventEditorState
from cronium_app.state.event_extras import EventExtrasState
from cronium_app.state.execute import ExecuteState
from cronium_app.state.job_detail import JobDetailState
from cronium_app.state.servers import ServersState
from cronium_app.state.settings import SettingsState
from cronium_app.state.tools import ToolsState
from cronium_app.state.users import UsersState
from cronium_app.state.variables import VariablesState
from cronium_app.state.workflow_editor import WorkflowEditorState
from cronium_app.state.workflow_run import WorkflowRunState
from cronium_app.state.workflows import WorkflowListState
from cronium_app.state.workspace import WorkspaceState
from tests.support.clients import UserClient, newest_audit_id, register_user, session_cookie, team_workspace
from tests.support.databases import make_instance_admin
from tests.support.ui_events import UiTab

# The handlers' checks are the services' (the same on both databases, which
# the API matrix runs on): CI runs this once, in the SQLite pass.
pytestmark = pytest.mark.slow

MEMBERS = ("owner", "editor", "runner", "viewer")
CALLERS = (*MEMBERS, "stranger", "admin", "disabled", "signed_out")

# Every handler that changes nothing stored: form fields, dialogs, paging,
# loading and polling, downloads, navigation. By state, then name.
NO_STORED_CHANGE: dict[str, set[str]] = {
    "AppState": {"close_nav", "detect_timezone", "logout", "require_user", "set_shortcuts_open", "set_timezone",
                 "setvar", "switch_workspace", "toggle_nav", "choose_theme"},
    "AsCodeState": {"export", "plan", "set_document", "set_import_open", "set_prune", "setvar"},
    "WorkspaceState": {"load", "set_delete_confirm", "set_member_email", "set_member_role", "set_new_name",
                       "set_rename_to", "setvar"},
    "ExecuteState": {"setvar"},
    "WorkflowEditorState": {"add_edge", "add_step", "ask_delete", "load_existing", "load_new", "open_run",
                            "refresh_runs", "remove_edge", "remove_step", "set_confirm_delete", "set_edge",
                            "set_field", "set_run_input", "set_run_open", "set_schedule_field", "set_step", "setvar"},
    "DashboardState": {"load", "retry", "setvar", "watch"},
    "JobDetailState": {"download", "follow", "load", "set_log_filter", "setvar"},
    "ToolsState": {"ask_delete", "load", "next_page", "open_create", "open_edit", "open_test", "prev_page",
                   "send_test", "set_confirm_open", "set_editor_open", "set_field", "set_q", "set_test_open",
                   "set_test_to", "setvar"},
    "UsersState": {"ask", "close_link", "load", "next_page", "open_invite", "prev_page", "set_confirm_open",
                   "set_invite_email", "set_invite_open", "set_invite_role", "set_invite_tool", "set_q", "setvar"},
    "EventExtrasState": {"hide_url", "load", "set_action_field", "set_action_open", "set_t_name", "set_t_signing",
                         "setvar"},
    "JobListState": {"clear_filters", "first_page", "load", "next_page", "prev_page", "set_date_from", "set_date_to",
                     "set_event_filter", "set_order", "set_q", "set_status_filter", "setvar", "watch"},
    "TerminalState": {"disconnect", "load", "reconnect", "set_status", "setvar"},
    "WorkflowListState": {"clear_search", "load", "next_page", "prev_page", "set_q", "setvar"},
    "VariablesState": {"ask_delete", "load", "next_page", "open_create", "open_edit", "prev_page", "set_delete_open",
                       "set_editor_open", "set_key", "set_secret", "set_value_text", "setvar"},
    "ServersState": {"ask", "clear_filters", "load", "next_page", "open_create", "open_edit", "prev_page",
                     "set_auth_type", "set_confirm_open", "set_editor_open", "set_host", "set_host_key", "set_name",
                     "set_passphrase", "set_password", "set_port", "set_private_key", "set_q", "set_tag_filter",
                     "set_tags_text", "set_username", "setvar", "test_connection"},
    "EventListState": {"clear_filters", "load", "next_page", "prev_page", "set_q", "set_status_filter",
                       "set_type_filter", "setvar"},
    "WorkflowRunState": {"follow", "load", "setvar"},
    # Signing in, registering and the link forms post to the API
    # (/api/session...); these handlers only show the form and its answer.
    "AuthFormState": {"login", "login_refused", "open", "register", "register_refused", "setvar"},
    "LinkFormState": {"link_refused_by_api", "open_invite", "open_reset", "setvar", "submit_link"},
    # The password form is checked here and posted by the page to the API.
    "SettingsState": {"ask_revoke", "change_password", "copy_token", "dismiss_password_changed", "dismiss_token",
                      "load", "password_refused", "set_expiry", "set_mcp_only", "set_revoke_open",
                      "set_revoke_tokens_too", "set_sign_out_all_open", "set_token_name", "set_token_role", "setvar"},
    "AuditState": {"clear_filters", "download", "load", "next_page", "prev_page", "set_action_family", "set_actor",
                   "set_date_from", "set_date_to", "set_target_kind", "setvar"},
    "EventEditorState": {"add_row", "ask_delete", "load_existing", "load_new", "refresh_tool_preview", "remove_row",
                         "set_confirm_delete", "set_env_secret", "set_field", "set_preview_input",
                         "set_remote_docker", "set_row", "set_schedule_field", "set_script", "set_tool",
                         "set_tool_field", "setvar", "toggle_server"},
    "WorkersState": {"load", "setvar", "watch"},
}

Step = tuple[Any, dict[str, Any]]  # (an EventHandler, its arguments)


@dataclass(frozen=True)
class Case:
    handler: Any  # the EventHandler under test
    # "read" / "run" / "edit" / "manage": a role in the workspace; "account":
    # anyone signed in; "self": only the account the object belongs to (the
    # owner's); "admin": the instance's administrator.
    ability: str
    audit: str  # the action of the entry an allowed call writes
    # The ids the case needs, made through the owner's API (World -> ids).
    prepare: Callable[["World"], dict[str, Any]]
    # The page's path for those ids, and the events before the handler.
    path: Callable[[dict[str, Any]], str]
    before: Callable[[dict[str, Any]], list[Step]] = lambda ids: []
    args: Callable[[dict[str, Any]], dict[str, Any]] = lambda ids: {}
    # The handler ends every session of the caller's account.
    ends_sessions: bool = False

    @property
    def key(self) -> tuple[str, str]:
        """(state, handler): how NO_STORED_CHANGE names handlers."""
        return self.handler.state.__name__, self.handler.fn.__name__

    @property
    def name(self) -> str:
        return ".".join(self.key)

    @property
    def in_workspace(self) -> bool:
        return self.ability in set(Ability)


@dataclass
class World:
    base_url: str
    port: int
    admin: UserClient
    users: dict[str, UserClient]
    team_id: int
    owner_team: httpx.Client
    cookies: dict[str, str] = field(default_factory=dict)

    def cookie(self, caller: str) -> str | None:
        if caller == "signed_out":
            return None
        if caller not in self.cookies:
            self.cookies[caller] = session_cookie(self.base_url, self.users[caller].user["email"])
        return self.cookies[caller]

    def api(self, method: str, path: str, status: int = 201, **kwargs: Any) -> Any:
        response = self.owner_team.request(method, path, **kwargs)
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    def event(self) -> int:
        return self.api("POST", "/api/v1/events", json={"name": f"e-{secrets.token_hex(3)}", "type": "bash",
                                                        "script": "true"})["id"]

    def workflow(self) -> dict[str, Any]:
        event = self.event()
        made = self.api("POST", "/api/v1/workflows", json={"name": f"w-{secrets.token_hex(3)}",
                                                           "steps": [{"name": "a", "eventId": event}]})
        return {"workflow": made["id"], "event": event}

    def tool(self) -> int:
        return self.api("POST", "/api/v1/tools", json={"name": f"t-{secrets.token_hex(3)}", "kind": "webhook",
                                                       "url": "http://127.0.0.1:9/hook"})["id"]

    def new_account(self) -> UserClient:
        return register_user(self.base_url)


def loaders(route: str) -> list[Any]:
    """The on_load handlers the page at `route` runs (cronium_app/pages)."""
    page = next(p for p in PAGES if p.route == route)
    return page.on_load if isinstance(page.on_load, list) else [page.on_load]


def _fresh_team(world: World) -> dict[str, Any]:
    """A workspace of its own (a case deletes it), with the same members."""
    owner = world.users["owner"]
    name = f"doomed-{secrets.token_hex(3)}"
    workspace_id, _ = team_workspace(owner, name, {role: world.users[role] for role in MEMBERS[1:]})
    return {"workspace": workspace_id, "name": name}


def _member(world: World) -> dict[str, Any]:
    account = world.new_account()
    world.api("POST", "/api/v1/workspace/members", json={"email": account.user["email"], "role": "viewer"})
    return {"user": account.user["id"]}


def _owners_token(world: World) -> dict[str, Any]:
    made = world.users["owner"].http.post("/api/v1/tokens", json={"name": "to revoke"})
    assert made.status_code == 201, made.text
    return {"token": made.json()["id"]}


def _event_with_action(world: World) -> dict[str, Any]:
    event, target = world.event(), world.event()
    action = world.api("POST", f"/api/v1/events/{event}/actions",
                       json={"trigger": "success", "kind": "run_event", "targetEventId": target})
    return {"event": event, "target": target, "action": action["id"]}


def _event_with_trigger(world: World) -> dict[str, Any]:
    event = world.event()
    trigger = world.api("POST", "/api/v1/triggers", json={"eventId": event})
    return {"event": event, "trigger": trigger["id"]}


def _job(world: World) -> dict[str, Any]:
    event = world.event()
    return {"job": world.api("POST", f"/api/v1/events/{event}/execute", status=202)["jobId"]}


def _run(world: World) -> dict[str, Any]:
    made = world.workflow()
    run = world.api("POST", f"/api/v1/workflows/{made['workflow']}/execute", status=202)
    return {**made, "run": run["runId"]}


def _invitation(world: World) -> dict[str, Any]:
    made = world.admin.http.post("/api/v1/users/invitations", json={"email": f"inv-{secrets.token_hex(4)}@example.com"})
    assert made.status_code == 201, made.text
    return {"invitation": made.json()["invitation"]["id"]}


def _account(world: World) -> dict[str, Any]:
    account = world.new_account()
    return {"user": account.user["id"], "email": account.user["email"]}


def _nothing(world: World) -> dict[str, Any]:
    return {}


AS_CODE = "version: 1\nevents:\n  - name: from-code-{tag}\n    type: bash\n    script: \"true\"\n"

CASES: list[Case] = [
    # Events: edit, create, delete, run.
    Case(EventEditorState.save, "edit", "event.update", lambda w: {"event": w.event()},
         lambda ids: f"/events/{ids['event']}",
         before=lambda ids: [(EventEditorState.set_field, {"field": "name", "value": f"renamed-{secrets.token_hex(3)}"})]),
    Case(EventEditorState.save, "edit", "event.create", _nothing, lambda ids: "/events/new",
         before=lambda ids: [(EventEditorState.set_field, {"field": "name", "value": f"new-{secrets.token_hex(3)}"}),
                             (EventEditorState.set_script, {"value": "echo made"})]),
    Case(EventEditorState.delete, "edit", "event.delete", lambda w: {"event": w.event()},
         lambda ids: f"/events/{ids['event']}"),
    Case(ExecuteState.execute, "run", "job.execute", lambda w: {"event": w.event()}, lambda ids: "/events",
         args=lambda ids: {"event_id": ids["event"]}),
    # Jobs.
    Case(JobDetailState.cancel, "run", "job.cancel", _job, lambda ids: f"/jobs/{ids['job']}"),
    Case(JobDetailState.rerun, "run", "job.execute", _job, lambda ids: f"/jobs/{ids['job']}"),
    # Workflows: run from the list and the editor, edit, delete, cancel a run.
    Case(WorkflowListState.run, "run", "workflow.run", lambda w: w.workflow(), lambda ids: "/workflows",
         args=lambda ids: {"workflow_id": ids["workflow"]}),
    Case(WorkflowEditorState.run, "run", "workflow.run", lambda w: w.workflow(),
         lambda ids: f"/workflows/{ids['workflow']}"),
    Case(WorkflowEditorState.save, "edit", "workflow.update", lambda w: w.workflow(),
         lambda ids: f"/workflows/{ids['workflow']}",
         before=lambda ids: [(WorkflowEditorState.set_field, {"field": "name", "value": f"re-{secrets.token_hex(3)}"})]),
    Case(WorkflowEditorState.delete, "edit", "workflow.delete", lambda w: w.workflow(),
         lambda ids: f"/workflows/{ids['workflow']}"),
    Case(WorkflowRunState.cancel, "run", "workflow.cancel", _run, lambda ids: f"/workflow-runs/{ids['run']}"),
    # An event's conditional actions and webhook triggers.
    Case(EventExtrasState.add_action, "edit", "event_action.create",
         lambda w: {"event": w.event(), "target": w.event()}, lambda ids: f"/events/{ids['event']}",
         before=lambda ids: [(EventExtrasState.set_action_field, {"key": "a_trigger", "value": "success"}),
                             (EventExtrasState.set_action_field, {"key": "a_kind", "value": "run_event"}),
                             (EventExtrasState.set_action_field, {"key": "a_target", "value": str(ids["target"])})]),
    Case(EventExtrasState.delete_action, "edit", "event_action.delete", _event_with_action,
         lambda ids: f"/events/{ids['event']}", args=lambda ids: {"action_id": ids["action"]}),
    Case(EventExtrasState.add_trigger, "edit", "trigger.create", lambda w: {"event": w.event()},
         lambda ids: f"/events/{ids['event']}"),
    Case(EventExtrasState.rotate_trigger, "edit", "trigger.rotate", _event_with_trigger,
         lambda ids: f"/events/{ids['event']}", args=lambda ids: {"trigger_id": ids["trigger"]}),
    Case(EventExtrasState.delete_trigger, "edit", "trigger.delete", _event_with_trigger,
         lambda ids: f"/events/{ids['event']}", args=lambda ids: {"trigger_id": ids["trigger"]}),
    # Variables, tools, servers.
    Case(VariablesState.save, "edit", "variable.create", _nothing, lambda ids: "/variables",
         before=lambda ids: [(VariablesState.open_create, {}),
                             (VariablesState.set_key, {"value": f"K_{secrets.token_hex(3)}"}),
                             (VariablesState.set_value_text, {"value": "42"})]),
    Case(VariablesState.delete, "edit", "variable.delete",
         lambda w: {"key": w.api("PUT", f"/api/v1/variables/D_{secrets.token_hex(3)}", json={"value": 1})["key"]},
         lambda ids: "/variables", before=lambda ids: [(VariablesState.ask_delete, {"key": ids["key"]})]),
    Case(ToolsState.save, "edit", "tool.create", _nothing, lambda ids: "/tools",
         before=lambda ids: [(ToolsState.open_create, {}),
                             (ToolsState.set_field, {"key": "kind", "value": "webhook"}),
                             (ToolsState.set_field, {"key": "name", "value": f"t-{secrets.token_hex(3)}"}),
                             (ToolsState.set_field, {"key": "url", "value": "http://127.0.0.1:9/hook"})]),
    Case(ToolsState.confirm_delete, "edit", "tool.delete", lambda w: {"tool": w.tool()}, lambda ids: "/tools",
         before=lambda ids: [(ToolsState.ask_delete, {"tool_id": ids["tool"]})]),
    Case(ServersState.save, "edit", "server.create", _nothing, lambda ids: "/servers",
         before=lambda ids: [(ServersState.open_create, {}),
                             (ServersState.set_name, {"value": f"s-{secrets.token_hex(3)}"}),
                             (ServersState.set_host, {"value": "127.0.0.1"}),
                             (ServersState.set_username, {"value": "deploy"}),
                             (ServersState.set_auth_type, {"value": "password"}),
                             (ServersState.set_password, {"value": "server-password"})]),
    Case(ServersState.confirm, "edit", "server.delete",
         lambda w: {"server": w.api("POST", "/api/v1/servers", json={
             "name": f"s-{secrets.token_hex(3)}", "host": "127.0.0.1", "username": "deploy",
             "authType": "password", "password": "server-password"})["id"]},
         lambda ids: "/servers", before=lambda ids: [(ServersState.ask, {"action": "delete", "server_id": ids["server"]})]),
    # Events as code.
    Case(AsCodeState.apply, "edit", "event.create", _nothing, lambda ids: "/events",
         before=lambda ids: [(AsCodeState.set_document, {"value": AS_CODE.format(tag=secrets.token_hex(3))}),
                             (AsCodeState.plan, {})]),
    # The workspace itself.
    Case(WorkspaceState.rename, "manage", "workspace.update", _nothing, lambda ids: "/workspace",
         before=lambda ids: [(WorkspaceState.set_rename_to, {"value": f"team-{secrets.token_hex(3)}"})]),
    Case(WorkspaceState.add_member, "manage", "member.add",
         lambda w: {"email": w.new_account().user["email"]}, lambda ids: "/workspace",
         before=lambda ids: [(WorkspaceState.set_member_email, {"value": ids["email"]}),
                             (WorkspaceState.set_member_role, {"value": "viewer"})]),
    Case(WorkspaceState.change_role, "manage", "member.update", _member, lambda ids: "/workspace",
         args=lambda ids: {"user_id": str(ids["user"]), "role": "runner"}),
    Case(WorkspaceState.remove_member, "manage", "member.remove", _member, lambda ids: "/workspace",
         args=lambda ids: {"user_id": str(ids["user"])}),
    Case(WorkspaceState.delete_workspace, "manage", "workspace.delete", _fresh_team, lambda ids: "/workspace",
         before=lambda ids: [(WorkspaceState.set_delete_confirm, {"value": ids["name"]})]),
    # The signed-in account's own things.
    Case(SettingsState.create, "account", "token.create", _nothing, lambda ids: "/settings",
         before=lambda ids: [(SettingsState.set_token_name, {"value": "from the matrix"})]),
    Case(SettingsState.revoke, "self", "token.revoke", _owners_token, lambda ids: "/settings",
         before=lambda ids: [(SettingsState.ask_revoke, {"token_id": ids["token"], "name": "to revoke"})]),
    Case(WorkspaceState.create_workspace, "account", "workspace.create", _nothing, lambda ids: "/workspace",
         before=lambda ids: [(WorkspaceState.set_new_name, {"value": f"new-{secrets.token_hex(3)}"})]),
    Case(SettingsState.sign_out_everywhere, "account", "auth.sign_out_everywhere", _nothing,
         lambda ids: "/settings", ends_sessions=True),
    # The instance's users (administrators only).
    Case(UsersState.invite, "admin", "user.invite", _nothing, lambda ids: "/users",
         before=lambda ids: [(UsersState.open_invite, {}),
                             (UsersState.set_invite_email, {"value": f"new-{secrets.token_hex(4)}@example.com"})]),
    Case(UsersState.withdraw, "admin", "user.invite_revoke", _invitation, lambda ids: "/users",
         args=lambda ids: {"invitation_id": ids["invitation"]}),
    Case(UsersState.set_role, "admin", "user.update", _account, lambda ids: "/users",
         args=lambda ids: {"user_id": ids["user"], "role": "admin"}),
    Case(UsersState.confirm, "admin", "user.disable", _account, lambda ids: "/users",
         before=lambda ids: [(UsersState.ask, {"user_id": ids["user"], "email": ids["email"], "action": "disable"})]),
    Case(UsersState.reset_link, "admin", "user.password_reset", _account, lambda ids: "/users",
         args=lambda ids: {"user_id": ids["user"]}),
]


def allowed(case: Case, caller: str) -> bool:
    if caller in ("disabled", "signed_out"):
        return False
    if case.ability == "account":
        return True
    if case.ability == "self":
        return caller == "owner"
    if case.ability == "admin":
        return caller == "admin"
    return caller in MEMBERS and role_allows(caller, Ability(case.ability))


# -- the world ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(app_server, app_db_url) -> Iterator[World]:
    admin = register_user(app_server.url)
    make_instance_admin(app_db_url, admin.user["id"])
    users = {role: register_user(app_server.url) for role in (*MEMBERS, "stranger", "disabled")}
    users["admin"] = admin
    team_id, owner_team = team_workspace(users["owner"], "ui-matrix", {role: users[role] for role in MEMBERS[1:]})
    added = owner_team.post("/api/v1/workspace/members", json={"email": users["disabled"].user["email"], "role": "editor"})
    assert added.status_code == 201, added.text
    built = World(app_server.url, app_server.port, admin, users, team_id, owner_team)
    built.cookie("disabled")  # signed in before the account is disabled: an open tab
    disabled = admin.http.post(f"/api/v1/users/{users['disabled'].user['id']}/disable")
    assert disabled.status_code == 200, disabled.text
    yield built
    owner_team.close()


def audit_after(world: World, after_id: int, action: str) -> list[dict[str, Any]]:
    response = world.admin.http.get("/api/v1/audit", params={"action": action, "limit": 200})
    assert response.status_code == 200, response.text
    return [entry for entry in response.json()["items"] if entry["id"] > after_id]


@contextlib.contextmanager
def open_tab(world: World, caller: str, workspace_id: int) -> Iterator[UiTab]:
    """`caller`'s tab, signed in (or not) and switched to the workspace."""
    with UiTab(world.port, world.cookie(caller)) as tab:
        tab.call(AppState.require_user)
        tab.call(AppState.switch_workspace, {"workspace_id": str(workspace_id)})
        yield tab


def play(world: World, case: Case, caller: str, ids: dict[str, Any]) -> None:
    """`caller`'s tab opens the case's page and sends the handler."""
    path = case.path(ids)
    with open_tab(world, caller, ids.get("workspace", world.team_id)) as tab:
        route = next(p.route for p in PAGES if _matches(p.route, path))
        for loader in loaders(route):
            tab.call(loader, path=path)
        for handler, args in case.before(ids):
            tab.call(handler, args, path=path)
        tab.call(case.handler, case.args(ids), path=path)


def outcomes(world: World, case: Case) -> dict[str, list[dict[str, Any]]]:
    """Every caller's tab sends the handler (at once: each on objects of
    its own); the audit entries of `case.audit` each caller left (in the
    workspace of its objects, for a workspace handler), and under "nobody"
    those no signed-in account left."""
    prepared = {caller: case.prepare(world) for caller in CALLERS}
    for caller in CALLERS:
        world.cookie(caller)  # signed in before the tabs open
    mark = newest_audit_id(world.admin.http)
    with ThreadPoolExecutor(len(CALLERS)) as pool:
        for done in [pool.submit(play, world, case, caller, prepared[caller]) for caller in CALLERS]:
            done.result()
    if case.ends_sessions:
        world.cookies = {caller: cookie for caller, cookie in world.cookies.items() if caller == "disabled"}
    entries = audit_after(world, mark, case.audit)
    left: dict[str, list[dict[str, Any]]] = {"nobody": [e for e in entries if e["actor"]["email"] is None]}
    for caller in CALLERS:
        email = world.users[caller].user["email"] if caller in world.users else None
        workspace_id = prepared[caller].get("workspace", world.team_id)
        left[caller] = [e for e in entries if e["actor"]["email"] == email and email is not None
                        and (not case.in_workspace or e["workspaceId"] == workspace_id)]
    return left


def _matches(route: str, path: str) -> bool:
    parts, wanted = route.strip("/").split("/"), path.strip("/").split("/")
    return len(parts) == len(wanted) and all(p == w or p.startswith("[") for p, w in zip(parts, wanted))


# -- the tests --------------------------------------------------------------------------------


def _all_handlers() -> dict[str, set[str]]:
    """Every state of the app, with the handlers it adds to its parent's."""
    def walk(cls):
        for sub in cls.get_substates():
            yield sub
            yield from walk(sub)

    return {cls.__name__: set(cls.event_handlers) - set(cls.get_parent_state().event_handlers)
            for cls in walk(rx.State) if cls.__module__.startswith("cronium_app")}


def test_every_ui_handler_is_classified():
    tested = {case.key for case in CASES}
    unclassified = []
    for state, names in _all_handlers().items():
        for name in sorted(names):
            if name not in NO_STORED_CHANGE.get(state, set()) and (state, name) not in tested:
                unclassified.append(f"{state}.{name}")
    assert not unclassified, f"handlers neither tested here nor listed as changing nothing: {unclassified}"


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.name}->{case.audit}")
def test_each_caller_is_allowed_or_refused_as_its_role_says(world, case):
    left = outcomes(world, case)
    unexpected = [f"{caller}: refused, should be allowed" for caller in CALLERS
                  if allowed(case, caller) and not left[caller]]
    unexpected += [f"{caller}: allowed, should be refused" for caller in CALLERS
                   if not allowed(case, caller) and left[caller]]
    if left["nobody"]:
        unexpected.append(f"done for nobody signed in: {left['nobody']}")
    assert not unexpected, unexpected
