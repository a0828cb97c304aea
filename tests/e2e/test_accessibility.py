"""Every page passes axe-core with no serious or critical violation, in the
light and the dark theme (the browser's prefers-color-scheme: the app follows
it until the user picks a theme), at 1280 and 390 px wide.

The pages come from the app's page registry (cronium_app.pages.PAGES): a page
added there is checked without touching this file; so are the keyboard
shortcuts' list, the dialogs in DIALOGS (open, then closed by Escape), and
the workspace page of a team workspace (whose owner sees the member and
role fields a personal one has not), reached through the switcher.
Public pages
(routes.PUBLIC) are visited signed out, the others signed in as an
administrator; an administrator's single-use link pages (an invitation, a
password reset) signed out, with a link that works. A detail page's
`[param]` is filled from the admin_with_data fixture; a route
with a parameter nobody fills fails the test with its name, so that whoever
adds such a page says here how to reach one.

A screenshot of every page in the dark theme, at both widths, goes to
test-output/screenshots/a11y/ for a person to look at."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from cronium_app import routes
from cronium_app.db import make_engine
from cronium_app.pages import PAGES
from tests.e2e.helpers import OUTPUT_DIR, wait_api_job
from tests.support import ui_flows
from tests.support.axe import Violation, blocking, check_page
from tests.support.browser import DESKTOP, PHONE
from tests.support.clients import UserClient, team_workspace

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SHOT_DIR = OUTPUT_DIR / "screenshots" / "a11y"
PARAM_RE = re.compile(r"\[(\w+)\]")
THEMES = ("light", "dark")
WIDTHS = (DESKTOP, PHONE)

# Ready: the frame is on screen and nothing says it is still loading.
_READY_JS = """() => {
  const main = document.querySelector('main');
  const text = document.body.innerText;
  return main && !text.includes('Loading') && !text.includes('Checking your session');
}"""


def make_admin(user: UserClient, db_url: str) -> UserClient:
    """The user made an administrator (as CRONIUM_ADMIN_EMAIL would at
    start), so that the admin-only pages are checked too."""
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE users SET role = 'admin' WHERE id = :id"), {"id": user.user["id"]})
    finally:
        engine.dispose()
    return user


def _workflow_run(user: UserClient, event_id: int) -> tuple[int, int]:
    created = user.http.post(
        "/api/v1/workflows", json={"name": "Nightly chain", "steps": [{"name": "first", "eventId": event_id}], "edges": []}
    )
    assert created.status_code == 201, created.text
    started = user.http.post(f"/api/v1/workflows/{created.json()['id']}/execute", json={})
    assert started.status_code == 202, started.text
    return created.json()["id"], started.json()["runId"]


@pytest.fixture
def admin_with_data(make_api_user, e2e_db_url) -> Iterator[tuple[UserClient, dict[str, str]]]:
    """An administrator with one of everything a detail page shows; and the
    values of the routes' parameters."""
    user = make_admin(make_api_user(), e2e_db_url)
    event = user.create_event(name="Disk report", type="bash", script="echo 'disk: 41% used'; echo done >&2")
    job_id = user.execute(event["id"])
    wait_api_job(user, job_id)
    workflow_id, run_id = _workflow_run(user, event["id"])
    # Nothing listens at 127.0.0.9: the server's pages show, no login is tried.
    server = user.http.post("/api/v1/servers", json={
        "name": "web-1", "host": "127.0.0.9", "port": 22, "username": "deploy",
        "authType": "password", "password": "not-used-here",
    })
    assert server.status_code == 201, server.text
    yield user, {"event_id": str(event["id"]), "job_id": job_id, "workflow_id": str(workflow_id),
                 "run_id": str(run_id), "server_id": str(server.json()["id"])}


TEAM = "Ops team"


def link_pages(admin: UserClient, other: UserClient) -> list[str]:
    """The invitation and password-reset pages, each at a link that works."""
    invited = admin.http.post("/api/v1/users/invitations", json={"email": f"invited-{secrets.token_hex(4)}@example.com", "role": "user"})
    assert invited.status_code == 201, invited.text
    reset = admin.http.post(f"/api/v1/users/{other.user['id']}/reset-link")
    assert reset.status_code == 201, reset.text
    return [concrete_path(routes.INVITE, {"token": invited.json()["url"].rsplit("/", 1)[-1]}),
            concrete_path(routes.RESET, {"token": reset.json()["url"].rsplit("/", 1)[-1]})]


def concrete_path(route: str, ids: dict[str, str]) -> str:
    def fill(match: re.Match) -> str:
        name = match.group(1)
        assert name in ids, f"no value for [{name}] in {route}: add one to the admin_with_data fixture"
        return ids[name]

    return PARAM_RE.sub(fill, route)


def _visit_and_check(page: Page, path: str, found: dict[str, list[Violation]], label: str,
                     shot: Callable[[Page, str], None] | None) -> None:
    page.goto(path)
    try:
        page.wait_for_function(_READY_JS, timeout=60_000)
    except PlaywrightTimeout:
        found[f"{label} {path}"] = [Violation("not-loaded", "critical", "the page was still loading after 60 s", ())]
        return
    page.wait_for_timeout(300)  # transitions (a dialog, a badge's colour) settle
    violations = check_page(page)
    if blocking(violations):
        found[f"{label} {path}"] = blocking(violations)
    if shot is not None:
        shot(page, path)


# The dialogs a person opens to create or confirm something: (route, the
# button that opens it, the dialog). Each is checked open, then closed with
# Escape, which must close it (Radix traps focus inside while it is open).
DIALOGS = (
    (routes.EVENTS, "#events-import", "#ascode-dialog"),
    (routes.WORKFLOW_DETAIL, "#run-workflow", "#run-dialog"),
    (routes.SERVERS, "#new-server", "#server-dialog"),
    (routes.TOOLS, "#new-tool", "#tool-dialog"),
    (routes.VARIABLES, "#new-variable", "#variable-dialog"),
    (routes.SETTINGS, "#sign-out-everywhere", "#sign-out-all-dialog"),
    (routes.USERS, "#open-invite", "#invite-dialog"),
)


def _check_dialogs(page: Page, ids: dict[str, str], found: dict[str, list[Violation]], label: str) -> None:
    for route, opener, dialog in DIALOGS:
        where = f"{label} {dialog} on {route}"
        page.goto(concrete_path(route, ids))
        try:
            page.wait_for_function(_READY_JS, timeout=30_000)
            page.locator(opener).first.click(timeout=30_000)
            page.locator(dialog).wait_for(state="visible", timeout=15_000)
        except PlaywrightTimeout:
            found[where] = [Violation("not-opened", "critical", "the dialog did not open within 30 s", ())]
            continue
        page.wait_for_timeout(300)  # the opening transition
        violations = blocking(check_page(page))
        if violations:
            found[where] = violations
        page.keyboard.press("Escape")
        try:
            page.locator(dialog).wait_for(state="hidden", timeout=5_000)
        except PlaywrightTimeout:
            found[where] = [*found.get(where, []), Violation("no-escape", "serious", "Escape did not close it", ())]


def _check_shortcuts_dialog(page: Page, found: dict[str, list[Violation]], label: str) -> None:
    """A dialog too: the shortcuts' list, opened with `?`."""
    page.keyboard.press("?")
    page.locator("#shortcuts-dialog").wait_for(state="visible")
    page.wait_for_timeout(300)
    violations = blocking(check_page(page))
    if violations:
        found[f"{label} the shortcuts dialog"] = violations
    page.keyboard.press("Escape")


def _check_team_workspace_page(page: Page, found: dict[str, list[Violation]], label: str,
                               shot: Callable[[Page, str], None] | None) -> None:
    """The team's workspace page, switched to in the switcher (on a phone
    in the open menu, which axe then checks too)."""
    page.goto(routes.WORKSPACE)
    page.wait_for_function(_READY_JS, timeout=30_000)
    ui_flows.open_phone_menu(page)
    ui_flows.switch_workspace(page, TEAM)
    page.locator("#member-email").wait_for(state="visible")
    ui_flows.open_phone_menu(page)
    page.wait_for_timeout(300)
    violations = blocking(check_page(page))
    if violations:
        found[f"{label} {routes.WORKSPACE} of a team"] = violations
    if shot is not None:
        shot(page, f"{routes.WORKSPACE}-team")


def _shooter(theme: str, viewport: dict[str, int]) -> Callable[[Page, str], None] | None:
    if theme != "dark":
        return None
    SHOT_DIR.mkdir(parents=True, exist_ok=True)

    def shoot(page: Page, path: str) -> None:
        name = path.strip("/").replace("/", "-") or "dashboard"
        page.screenshot(path=str(SHOT_DIR / f"{name}-dark-{viewport['width']}.png"), full_page=True)

    return shoot


@pytest.mark.parametrize("theme", THEMES)
def test_every_page_passes_axe(theme, new_context, app_url, admin_with_data, make_api_user):
    user, ids = admin_with_data
    # A team workspace the administrator owns, with a runner.
    team_workspace(user, TEAM, {"runner": make_api_user()})[1].close()
    if theme == "dark":  # no stale pictures from an earlier run
        for old_shot in SHOT_DIR.glob("*-dark-*.png"):
            old_shot.unlink()
    signed_out = (*routes.PUBLIC, routes.INVITE, routes.RESET)
    public = [p.route for p in PAGES if p.route in routes.PUBLIC] + link_pages(user, make_api_user())
    private = [concrete_path(p.route, ids) for p in PAGES if p.route not in signed_out]
    found: dict[str, list[Violation]] = {}
    started = time.monotonic()
    for viewport in WIDTHS:
        label = f"{theme} {viewport['width']}px"
        shot = _shooter(theme, viewport)
        page = new_context(viewport=viewport, color_scheme=theme).new_page()
        for path in public:
            _visit_and_check(page, path, found, label, shot)
        ui_flows.login(page, app_url, user.user["email"])
        for path in private:
            _visit_and_check(page, path, found, label, shot)
        _check_shortcuts_dialog(page, found, label)
        _check_dialogs(page, ids, found, label)
        _check_team_workspace_page(page, found, label, shot)
    print(f"\n{theme}: {len(public) + len(private)} pages x {len(WIDTHS)} widths in {time.monotonic() - started:.0f} s")
    report = "\n".join(f"{where}:\n  " + "\n  ".join(v.describe() for v in vs) for where, vs in found.items())
    assert not found, f"serious or critical axe violations:\n{report}"
