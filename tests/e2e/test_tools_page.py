"""/tools in the browser: create a Slack tool (its field errors first), send
a test message to a local receiver, edit it keeping the stored URL, and
the URL (a credential) never on the page again."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support import ui_flows

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SLACK_PATH = "/slack/services/T0E2E/B0E2E/e2eslacksecrettoken42"


def _open_tools(new_context, make_api_user, app_url: str) -> Page:
    user = make_api_user()
    page = new_context().new_page()
    ui_flows.login(page, app_url, user.user["email"])
    page.locator("#sidebar #nav-tools").click()
    page.wait_for_url(re.compile(r".*/tools/?$"))
    expect(page.locator("#page-title")).to_have_text("Tools")
    return page


def test_create_test_and_edit_a_slack_tool(new_context, make_api_user, app_url, e2e_receiver, screenshot_dir):
    page = _open_tools(new_context, make_api_user, app_url)
    expect(page.locator("#tools-empty")).to_be_visible()
    page.locator("#new-tool").first.click()
    expect(page.locator("#tool-dialog")).to_be_visible()

    # A URL outside Slack's hooks is refused next to its field.
    page.locator("#tool-name").fill("ops channel")
    page.locator("#tool-url").fill("https://example.com/not-slack")
    page.locator("#tool-save").click()
    expect(page.locator("#tool-dialog #error-url")).to_be_visible()
    expect(page.locator("#tool-url")).to_have_attribute("aria-invalid", "true")

    page.locator("#tool-url").fill(e2e_receiver.url + SLACK_PATH)
    page.screenshot(path=str(screenshot_dir / "tools-new-slack.png"))
    page.locator("#tool-save").click()
    expect(page.locator("#tool-dialog")).to_be_hidden()
    row = page.locator("[data-testid=tool-row][data-name='ops channel']")
    expect(row).to_be_visible()
    expect(row.locator("[data-testid=tool-check]").first).to_have_attribute("data-check", "never")

    row.locator("[data-testid=test-tool]").click()
    expect(page.locator("#tool-test-dialog")).to_be_visible()
    page.locator("#tool-test-send").click()
    expect(page.locator("#tool-test-lines")).to_contain_text("200", timeout=30_000)
    received = e2e_receiver.wait_for(SLACK_PATH)
    assert "test message" in received[0].json()["text"]
    page.locator("#tool-test-close").click()
    expect(row.locator("[data-testid=tool-check]").first).to_have_attribute("data-check", "ok")
    page.screenshot(path=str(screenshot_dir / "tools-list.png"))

    # Edit: the URL field comes back empty and keeps the stored URL.
    row.locator("[data-testid=edit-tool]").click()
    expect(page.locator("#tool-name")).to_have_value("ops channel")
    expect(page.locator("#tool-url")).to_have_value("")
    expect(page.locator("#tool-url")).to_have_attribute("placeholder", "Empty keeps the stored URL")
    page.locator("#tool-name").fill("ops alerts")
    page.locator("#tool-save").click()
    expect(page.locator("#tool-dialog")).to_be_hidden()
    expect(page.locator("[data-testid=tool-row][data-name='ops alerts']")).to_be_visible()
    assert "e2eslacksecrettoken42" not in page.content()
