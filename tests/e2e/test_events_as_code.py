"""Events as code on the events page: Export downloads the user's document;
Import shows the plan (the same one `cronium apply` prints) before anything
changes, then applies it; a bad document is refused naming the line and the
field."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support import ui_flows

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def _open_events(new_context, user, app_url: str) -> Page:
    page = new_context(accept_downloads=True).new_page()
    ui_flows.login(page, app_url, user.user["email"])
    page.locator("#sidebar #nav-events").click()
    page.wait_for_url(re.compile(r".*/events/?$"))
    expect(page.locator("#page-title")).to_have_text("Events")
    return page


def _plan(page: Page, document: str) -> None:
    page.locator("#events-import").click()
    expect(page.locator("#ascode-dialog")).to_be_visible()
    page.locator("#ascode-document").fill(document)
    page.locator("#ascode-plan").click()


def test_export_then_import_an_edit_shows_the_plan_and_applies_it(new_context, make_api_user, app_url):
    user = make_api_user()
    event = user.create_event(name="exported job", script="echo before", scheduleType="cron",
                              cronExpression="0 4 * * *")
    page = _open_events(new_context, user, app_url)

    with page.expect_download() as download_info:
        page.locator("#events-export").click()
    download = download_info.value
    assert download.suggested_filename == "cronium.yaml"
    document = open(download.path(), encoding="utf-8").read()
    assert "name: exported job" in document and "cronExpression: 0 4 * * *" in document

    _plan(page, document.replace("echo before", "echo after"))
    expect(page.locator("#ascode-summary")).to_contain_text("0 to create, 1 to update, 0 to delete")
    row = page.locator("[data-testid=plan-row][data-name='exported job']")
    expect(row).to_have_attribute("data-action", "update")
    expect(row).to_contain_text("script")
    assert user.http.get(f"/api/v1/events/{event['id']}").json()["script"] == "echo before"  # planned only

    page.locator("#ascode-apply").click()
    expect(page.locator("#ascode-dialog")).to_be_hidden()
    expect(page.get_by_text("Applied: 0 to create, 1 to update")).to_be_visible()
    assert user.http.get(f"/api/v1/events/{event['id']}").json()["script"] == "echo after"

    _plan(page, document.replace("echo before", "echo after"))
    expect(page.locator("#ascode-summary")).to_contain_text("0 to create, 0 to update, 0 to delete, 1 unchanged")
    expect(page.locator("#ascode-apply")).to_be_disabled()


def test_import_of_a_bad_document_names_the_line_and_the_field(new_context, make_api_user, app_url):
    page = _open_events(new_context, make_api_user(), app_url)
    _plan(page, "version: 1\nevents:\n- name: a\n  type: cobol\n")
    expect(page.locator("#ascode-error")).to_contain_text("import.yaml line 4: events[0] (a).type")
    expect(page.locator("#ascode-apply")).to_be_disabled()
