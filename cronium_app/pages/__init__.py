"""Page registry: every page of the UI, with its route, title and loader.

To add a page: write its module (a `page()` function and a state with a
loader), add a `Page` line to `PAGES`, and a `routes.NAV` entry if it
belongs in the sidebar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import reflex as rx

from cronium_app import routes
from cronium_app.pages import (
    audit,
    auth,
    event_editor,
    events,
    home,
    job_detail,
    jobs,
    servers,
    terminal,
    tools,
    users,
    variables,
    workflow_editor,
    workflow_run,
    workers,
    workflows,
    workspace,
)
from cronium_app.pages import settings as settings_page
from cronium_app.state.audit import AuditState
from cronium_app.state.auth import AuthFormState, LinkFormState
from cronium_app.state.dashboard import DashboardState
from cronium_app.state.event_editor import EventEditorState
from cronium_app.state.event_extras import EventExtrasState
from cronium_app.state.events import EventListState
from cronium_app.state.job_detail import JobDetailState
from cronium_app.state.jobs import JobListState
from cronium_app.state.servers import ServersState
from cronium_app.state.settings import SettingsState
from cronium_app.state.terminal import TerminalState
from cronium_app.state.tools import ToolsState
from cronium_app.state.users import UsersState
from cronium_app.state.variables import VariablesState
from cronium_app.state.workers import WorkersState
from cronium_app.state.workflow_editor import WorkflowEditorState
from cronium_app.state.workflow_run import WorkflowRunState
from cronium_app.state.workflows import WorkflowListState
from cronium_app.state.workspace import WorkspaceState


@dataclass(frozen=True)
class Page:
    route: str
    component: Callable[[], rx.Component]
    title: str
    on_load: Any = None


PAGES = (
    Page(routes.LOGIN, auth.login_page, "Sign in", AuthFormState.open),
    Page(routes.REGISTER, auth.register_page, "Create an account", AuthFormState.open),
    Page(routes.DASHBOARD, home.page, "Dashboard", DashboardState.load),
    Page(routes.EVENTS, events.page, "Events", EventListState.load),
    Page(routes.EVENT_NEW, event_editor.new_page, "New event", EventEditorState.load_new),
    Page(routes.EVENT_DETAIL, event_editor.edit_page, "Event",
         [EventEditorState.load_existing, EventExtrasState.load]),
    Page(routes.JOBS, jobs.page, "Jobs", JobListState.load),
    Page(routes.JOB_DETAIL, job_detail.page, "Job", JobDetailState.load),
    Page(routes.WORKFLOWS, workflows.page, "Workflows", WorkflowListState.load),
    Page(routes.WORKFLOW_NEW, workflow_editor.new_page, "New workflow", WorkflowEditorState.load_new),
    Page(routes.WORKFLOW_DETAIL, workflow_editor.edit_page, "Workflow",
         [WorkflowEditorState.load_existing, EventExtrasState.load]),
    Page(routes.WORKFLOW_RUN, workflow_run.page, "Workflow run", WorkflowRunState.load),
    Page(routes.SERVERS, servers.page, "Servers", ServersState.load),
    Page(routes.SERVER_TERMINAL, terminal.page, "Terminal", TerminalState.load),
    Page(routes.TOOLS, tools.page, "Tools", ToolsState.load),
    Page(routes.VARIABLES, variables.page, "Variables", VariablesState.load),
    Page(routes.SETTINGS, settings_page.page, "Settings", SettingsState.load),
    Page(routes.WORKERS, workers.page, "Workers", WorkersState.load),
    Page(routes.WORKSPACE, workspace.page, "Workspace", WorkspaceState.load),
    Page(routes.AUDIT, audit.page, "Audit log", AuditState.load),
    Page(routes.USERS, users.page, "Users", UsersState.load),
    Page(routes.INVITE, auth.invite_page, "Invitation", LinkFormState.open_invite),
    Page(routes.RESET, auth.reset_page, "Reset password", LinkFormState.open_reset),
)


def register_pages(app: rx.App) -> None:
    for page in PAGES:
        app.add_page(page.component, route=page.route, title=f"{page.title} · Cronium", on_load=page.on_load)
