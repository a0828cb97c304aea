"""Workspaces in the browser: the switcher moves every page to the chosen
workspace, the workspace page lists members and offers owners the changes,
a viewer gets no button that changes or runs anything on the workspace,
events, workflows, servers and tools pages, and a handler refuses a viewer whatever
the page shows. Screenshots of the switcher and the workspace page at
1280 and 390 px go to test-output/screenshots/e2e/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support import ui_flows
from tests.support.browser import PHONE
from tests.support.clients import team_workspace

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def _team(make_api_user):
    """An owner with a team workspace, a variable in it, and a viewer member."""
    owner, viewer = make_api_user(), make_api_user()
    workspace_id, owner_team = team_workspace(owner, "Ops team", {"viewer": viewer})
    assert owner_team.put("/api/v1/variables/team_only", json={"value": 42}).status_code == 201
    _fill(owner_team)
    owner_team.close()
    return owner, viewer, workspace_id


def _fill(owner_team) -> None:
    """One event, workflow, server and tool in the team workspace."""
    event = owner_team.post("/api/v1/events", json={"name": "Disk report", "type": "bash", "script": "true"})
    assert event.status_code == 201, event.text
    made = [
        owner_team.post("/api/v1/workflows", json={
            "name": "Nightly chain", "steps": [{"name": "first", "eventId": event.json()["id"]}], "edges": []}),
        # Nothing listens at 127.0.0.9: the page only lists it.
        owner_team.post("/api/v1/servers", json={"name": "web-1", "host": "127.0.0.9", "port": 22, "username": "deploy",
                                                 "authType": "password", "password": "not-used-here"}),
        owner_team.post("/api/v1/tools", json={"name": "ops hook", "kind": "webhook", "url": "http://127.0.0.1:9/hook"}),
    ]
    for response in made:
        assert response.status_code == 201, response.text


# page -> (its rows, the buttons that change or run something there)
CHANGE_BUTTONS = {
    "/events": ("event-row", ["#new-event", "#events-import", "[data-testid=execute-button]"]),
    "/workflows": ("workflow-row", ["#new-workflow", "[data-testid=run-workflow]"]),
    "/servers": ("server-row", ["#new-server", "[data-testid=test-server]", "[data-testid=edit-server]",
                                "[data-testid=server-menu]", "[data-testid=open-terminal]"]),
    "/tools": ("tool-row", ["#new-tool", "[data-testid=test-tool]", "[data-testid=edit-tool]",
                            "[data-testid=delete-tool]"]),
}


def test_the_switcher_moves_the_pages_to_the_team_workspace(page, app_url, make_api_user, screenshot_dir):
    owner, _viewer, _workspace_id = _team(make_api_user)
    ui_flows.login(page, app_url, owner.user["email"])
    page.goto(f"{app_url}/variables")
    expect(page.get_by_text("team_only")).to_have_count(0)
    ui_flows.switch_workspace(page, "Ops team")
    page.goto(f"{app_url}/variables")
    expect(page.get_by_text("team_only")).to_be_visible()
    page.locator("[data-testid=workspace-switcher]:visible").click()
    page.screenshot(path=str(screenshot_dir / "workspace-switcher-1280x800.png"))
    page.keyboard.press("Escape")
    page.goto(f"{app_url}/workspace")
    expect(page.locator("#members")).to_contain_text("viewer")
    expect(page.locator("#add-member")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "workspace-settings-1280x800.png"), full_page=True)


def test_a_viewer_gets_no_change_buttons(new_context, app_url, make_api_user, screenshot_dir):
    _owner, viewer, _workspace_id = _team(make_api_user)
    page = new_context(viewport=PHONE).new_page()
    ui_flows.login(page, app_url, viewer.user["email"])
    ui_flows.open_phone_menu(page)
    ui_flows.switch_workspace(page, "Ops team")
    page.goto(f"{app_url}/workspace")
    expect(page.locator("#page-title")).to_contain_text("Ops team")
    expect(page.locator("#members")).to_contain_text("owner")
    expect(page.locator("#add-member")).to_have_count(0)
    expect(page.locator("#delete-workspace")).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "workspace-settings-390x844.png"), full_page=True)
    ui_flows.open_phone_menu(page)
    page.screenshot(path=str(screenshot_dir / "workspace-switcher-390x844.png"))


# A list row's attribute naming its id -> the detail page's path and the
# buttons that change or run something there.
DETAIL_BUTTONS = {
    "data-event-id": ("/events/{}", ["#save-event", "#save-event-bottom", "#delete-event", "#execute-event"]),
    "data-workflow-id": ("/workflows/{}", ["#save-workflow", "#save-workflow-bottom", "#delete-workflow",
                                           "#run-workflow"]),
}


def _visit_the_team_pages(page, app_url: str, email: str):
    """Sign in as `email`, switch to the team, then for each list page and
    each detail page its path and the buttons that change or run something there."""
    ui_flows.login(page, app_url, email)
    ui_flows.switch_workspace(page, "Ops team")
    ids = {}
    for path, (row, buttons) in CHANGE_BUTTONS.items():
        page.goto(f"{app_url}{path}")
        rows = page.locator(f"[data-testid={row}]")
        expect(rows).to_have_count(1)
        for attribute in DETAIL_BUTTONS:
            if (value := rows.first.get_attribute(attribute)) is not None:
                ids[attribute] = value
        yield path, buttons
    assert set(ids) == set(DETAIL_BUTTONS), ids
    for attribute, (pattern, buttons) in DETAIL_BUTTONS.items():
        path = pattern.format(ids[attribute])
        page.goto(f"{app_url}{path}")
        # Loaded (the saved line shows), so a missing button is missing, not yet to come.
        expect(page.get_by_text(re.compile(r"^Saved \d"))).to_be_visible(timeout=30_000)
        yield path, buttons


def test_a_viewer_sees_the_rows_but_no_button_that_changes_or_runs_them(page, app_url, make_api_user, screenshot_dir):
    _owner, viewer, _workspace_id = _team(make_api_user)
    for path, buttons in _visit_the_team_pages(page, app_url, viewer.user["email"]):
        for button in buttons:
            expect(page.locator(button), f"{button} on {path}").to_have_count(0)
    page.goto(f"{app_url}/events")
    expect(page.locator("#events-export")).to_be_visible()  # reading is for every role
    page.screenshot(path=str(screenshot_dir / "workspace-viewer-events-1280x800.png"), full_page=True)


def test_the_owner_sees_the_buttons_a_viewer_does_not(page, app_url, make_api_user):
    owner, _viewer, _workspace_id = _team(make_api_user)
    for path, buttons in _visit_the_team_pages(page, app_url, owner.user["email"]):
        for button in buttons:
            expect(page.locator(button).first, f"{button} on {path}").to_be_visible()
