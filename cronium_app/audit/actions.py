"""The closed lists the audit log is written in: what was done (Action),
through what (Source) and by what kind of caller (ActorKind)."""

from __future__ import annotations

from enum import Enum


class Action(str, Enum):
    """Dotted names, `<what it is about>.<what happened>`; the API filters
    them by prefix (`event.` finds every change of events)."""

    sign_in = "auth.sign_in"
    sign_in_failed = "auth.sign_in_failed"
    sign_out = "auth.sign_out"
    sign_out_everywhere = "auth.sign_out_everywhere"
    register = "auth.register"
    password_change = "auth.password_change"
    # Single sign-on: an account linked to its identity at the provider.
    sso_link = "auth.sso_link"
    token_create = "token.create"
    token_revoke = "token.revoke"
    event_create = "event.create"
    event_update = "event.update"
    event_delete = "event.delete"
    event_action_create = "event_action.create"
    event_action_update = "event_action.update"
    event_action_delete = "event_action.delete"
    workflow_create = "workflow.create"
    workflow_update = "workflow.update"
    workflow_delete = "workflow.delete"
    workflow_run = "workflow.run"
    workflow_cancel = "workflow.cancel"
    variable_create = "variable.create"
    variable_update = "variable.update"
    variable_delete = "variable.delete"
    server_create = "server.create"
    server_update = "server.update"
    server_delete = "server.delete"
    server_terminal = "server.terminal"  # one entry per terminal session, when it ends
    tool_create = "tool.create"
    tool_update = "tool.update"
    tool_delete = "tool.delete"
    trigger_create = "trigger.create"
    trigger_update = "trigger.update"
    trigger_rotate = "trigger.rotate"
    trigger_delete = "trigger.delete"
    job_execute = "job.execute"
    job_cancel = "job.cancel"
    # Instance settings, users, workspaces and their members.
    settings_update = "settings.update"
    user_invite = "user.invite"
    user_invite_revoke = "user.invite_revoke"
    user_update = "user.update"
    # The provider's role claim would have demoted the last administrator.
    user_role_kept = "user.role_kept"
    user_disable = "user.disable"
    user_enable = "user.enable"
    user_password_reset = "user.password_reset"
    workspace_create = "workspace.create"
    workspace_update = "workspace.update"
    workspace_delete = "workspace.delete"
    member_add = "member.add"
    member_update = "member.update"
    member_remove = "member.remove"


class Source(str, Enum):
    """Where the action came in."""

    ui = "ui"
    api = "api"
    cli = "cli"
    mcp = "mcp"
    runtime = "runtime"  # a running script's helpers
    schedule = "schedule"
    webhook = "webhook"
    system = "system"  # the app's own background work


class ActorKind(str, Enum):
    user = "user"  # a person in the web UI (or signing in)
    token = "token"  # an API token
    worker = "worker"  # a job's script, for its owner
    system = "system"  # nobody signed in: the scheduler, a webhook call, the app
