"""Every route of the web UI and the URL builders that fill them in."""

from __future__ import annotations

from typing import Any

LOGIN = "/login"
REGISTER = "/register"
DASHBOARD = "/"
EVENTS = "/events"
EVENT_NEW = "/events/new"
EVENT_DETAIL = "/events/[event_id]"
JOBS = "/jobs"
JOB_DETAIL = "/jobs/[job_id]"
WORKFLOWS = "/workflows"
WORKFLOW_NEW = "/workflows/new"
WORKFLOW_DETAIL = "/workflows/[workflow_id]"
WORKFLOW_RUN = "/workflow-runs/[run_id]"
SERVERS = "/servers"
SERVER_TERMINAL = "/servers/[server_id]/terminal"
TOOLS = "/tools"
VARIABLES = "/variables"
SETTINGS = "/settings"
WORKERS = "/workers"
WORKSPACE = "/workspace"
AUDIT = "/audit"
USERS = "/users"
# An administrator's single-use links (the token ends the path).
INVITE = "/invite/[token]"
RESET = "/reset/[token]"

# Pages anyone may open; every other page needs a signed-in user.
PUBLIC = (LOGIN, REGISTER)


def event_url(event_id: Any) -> str:
    return f"{EVENTS}/{event_id}"


def job_url(job_id: Any) -> str:
    return f"{JOBS}/{job_id}"


def workflow_url(workflow_id: Any) -> str:
    return f"{WORKFLOWS}/{workflow_id}"


def workflow_run_url(run_id: Any) -> str:
    return f"/workflow-runs/{run_id}"


def terminal_url(server_id: Any) -> str:
    return f"{SERVERS}/{server_id}/terminal"


def terminal_socket_path(server_id: Any) -> str:
    """The terminal's websocket (cronium_app/api/terminal.py)."""
    return f"/api/terminal/{server_id}"


def server_id_of_terminal(path: str) -> int | None:
    """The server id in a terminal page's path, or None."""
    parts = path.strip("/").split("/")
    if len(parts) != 3 or parts[0] != SERVERS.strip("/") or parts[2] != "terminal":
        return None
    if not parts[1].isdigit() or len(parts[1]) > 18:
        return None
    return int(parts[1])


def safe_next(path: str | None) -> str:
    """A same-site path to go to after signing in (never another site)."""
    # Browsers drop tabs and line breaks from URLs: "/\t/host" would become
    # "//host", another site. No control character is ever accepted.
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return DASHBOARD
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in path):
        return DASHBOARD
    if path.split("?")[0] in PUBLIC:
        return DASHBOARD
    return path


# The sidebar, in order: (label, lucide icon name, route). Add a page's entry
# here once the page exists.
NAV: list[tuple[str, str, str]] = [
    ("Dashboard", "layout-dashboard", DASHBOARD),
    ("Events", "square-terminal", EVENTS),
    ("Jobs", "list-checks", JOBS),
    ("Workflows", "workflow", WORKFLOWS),
    ("Servers", "server", SERVERS),
    ("Tools", "send", TOOLS),
    ("Variables", "braces", VARIABLES),
    ("Workspace", "users", WORKSPACE),
    ("Settings", "settings", SETTINGS),
]
# Shown in the sidebar to administrators only, after NAV.
ADMIN_NAV: list[tuple[str, str, str]] = [
    ("Workers", "server-cog", WORKERS),
    ("Users", "users", USERS),
    ("Audit log", "scroll-text", AUDIT),
]
