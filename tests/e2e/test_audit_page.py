"""The Audit page (/audit): an administrator sees every entry (a sign-in
and a token made through the web UI among them, with the UI as their
source), narrows them by who and what, and downloads what matches as JSON
lines; someone else sees only their own entries and no link. Nothing wider
than a phone. Screenshots at 1280x800 and 390x844 go to
test-output/screenshots/e2e/audit-*.png."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import layout_problems
from tests.support import ui_flows
from tests.support.browser import DESKTOP, PHONE
from tests.support.clients import UserClient

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


@pytest.fixture
def member(make_api_user) -> UserClient:
    """Someone else, who set a secret variable through the API."""
    user = make_api_user()
    response = user.http.put("/api/v1/variables/audit_e2e", json={"value": "e2e-secret-value", "secret": True})
    assert response.status_code == 201, response.text
    return user


def rows(page: Page):
    return page.locator("[data-testid=audit-row]")


def choose(page: Page, select_id: str, option: str) -> None:
    page.locator(f"#{select_id}").click()
    page.get_by_role("option", name=option, exact=True).click()


def test_an_admin_sees_the_ui_actions_filters_and_downloads(new_context, app_url, admin, member, screenshot_dir):
    page = new_context(viewport=DESKTOP, accept_downloads=True).new_page()
    ui_flows.login(page, app_url, admin.user["email"])
    page.goto(f"{app_url}/settings")
    page.locator("#token-name").fill("made in the browser")
    page.locator("#create-token").click()
    expect(page.locator("#new-token")).to_be_visible(timeout=30_000)

    page.locator("#nav-audit-log").click()
    page.wait_for_url(f"{app_url}/audit")
    made = rows(page).filter(has_text="token.create").first
    expect(made).to_contain_text(admin.user["email"], timeout=30_000)
    expect(made).to_contain_text("web UI")
    expect(made).to_contain_text("127.0.0.1")  # the browser's address, from the websocket
    expect(made).to_contain_text("made in the browser")
    expect(made).to_contain_text("[hidden]")  # the token's hash: never shown
    signed_in = rows(page).filter(has_text="auth.sign_in").first
    expect(signed_in).to_contain_text("web UI")
    assert layout_problems(page) == []
    page.screenshot(path=str(screenshot_dir / "audit-1280x800.png"), full_page=True)

    page.locator("#audit-actor").fill(member.user["email"])
    choose(page, "audit-action", "variable")
    expect(rows(page)).to_have_count(1, timeout=30_000)
    entry = rows(page).first
    expect(entry.locator("[data-testid=audit-action]")).to_have_text("variable.create")
    expect(entry).to_contain_text("audit_e2e")
    expect(entry).not_to_contain_text("e2e-secret-value")
    page.screenshot(path=str(screenshot_dir / "audit-filtered-1280x800.png"), full_page=True)

    with page.expect_download() as download:
        page.locator("#audit-download").click()
    lines = [json.loads(line) for line in Path(download.value.path()).read_text(encoding="utf-8").splitlines()]
    assert [(e["action"], e["actor"]["email"]) for e in lines] == [("variable.create", member.user["email"])]


def test_someone_else_sees_only_their_own_entries_and_no_link(page, app_url, member):
    ui_flows.login(page, app_url, member.user["email"])
    page.goto(f"{app_url}/audit")
    expect(rows(page).first).to_be_visible(timeout=30_000)
    expect(page.locator("#nav-audit-log")).to_have_count(0)
    expect(page.locator("#audit-actor")).to_have_count(0)
    for text in rows(page).all_inner_texts():
        assert member.user["email"] in text


def test_on_a_phone_the_page_fits(new_context, app_url, admin, member, screenshot_dir):
    page = new_context(viewport=PHONE).new_page()
    ui_flows.login(page, app_url, admin.user["email"])
    page.goto(f"{app_url}/audit")
    expect(rows(page).first).to_be_visible(timeout=30_000)
    assert layout_problems(page) == []
    page.screenshot(path=str(screenshot_dir / "audit-390x844.png"), full_page=True)
