"""Each user sees only their own jobs, and what users typed or printed is
shown as text, never run as HTML."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import create_event_in_editor, wait_api_job, wait_job_status
from tests.support import ui_flows

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SCRIPT_NAME = "<script>alert(1)</script>"
HTML_OUTPUT_SCRIPT = (
    'print("<img src=x onerror=alert(2)><b id=injected-bold>bold</b>", flush=True)\n'
    'print("<script>alert(3)</script>", flush=True)\n'
)


def test_another_user_gets_not_found_for_my_job(new_context, app_url, make_api_user):
    owner = make_api_user()
    stranger = make_api_user()
    event = owner.create_event(name="Owner's private job", type="bash", script="echo secret-output-42")
    job_id = owner.execute(event["id"])
    assert wait_api_job(owner, job_id)["status"] == "completed"

    # The owner sees it.
    owner_page = new_context().new_page()
    ui_flows.login(owner_page, app_url, owner.user["email"])
    owner_page.goto(f"/jobs/{job_id}")
    wait_job_status(owner_page, "completed")
    expect(owner_page.locator("[data-testid=log-line]", has_text="secret-output-42")).to_be_visible()

    # Another user, in a second browser context, gets the not-found page.
    stranger_page = new_context().new_page()
    ui_flows.login(stranger_page, app_url, stranger.user["email"])
    stranger_page.goto(f"/jobs/{job_id}")
    not_found = stranger_page.locator("#job-not-found")
    expect(not_found).to_be_visible()
    expect(not_found).to_contain_text("Job not found")
    body = stranger_page.locator("body").inner_text()
    assert "secret-output-42" not in body
    assert "Owner's private job" not in body
    expect(stranger_page.locator("[data-testid=log-line]")).to_have_count(0)
    expect(stranger_page.locator("#cancel-job, #rerun-job, #download-log")).to_have_count(0)

    # Nor the event, nor the job in the stranger's lists.
    stranger_page.goto(f"/events/{event['id']}")
    expect(stranger_page.locator("#event-not-found")).to_be_visible()
    stranger_page.goto("/jobs")
    expect(stranger_page.locator("#jobs-empty")).to_be_visible()
    expect(stranger_page.locator(f"[data-job-id={job_id}]")).to_have_count(0)


_INJECTED_JS = """() => ({
    scripts: Array.from(document.scripts).filter((s) => /alert\\(/.test(s.textContent)).length,
    images: document.querySelectorAll('img[src=x]').length,
    bold: document.querySelectorAll('#injected-bold').length,
})"""


def assert_nothing_injected(page) -> None:
    page.wait_for_timeout(300)  # give an onerror handler a moment
    assert page.evaluate(_INJECTED_JS) == {"scripts": 0, "images": 0, "bold": 0}


def test_script_tags_in_names_and_logs_show_as_text(new_context, app_url, make_api_user, page_problems):
    user = make_api_user()
    page = new_context().new_page()
    ui_flows.login(page, app_url, user.user["email"])

    event_id = create_event_in_editor(page, SCRIPT_NAME, HTML_OUTPUT_SCRIPT)

    page.goto("/events")
    link = page.locator("[data-testid=event-link]")
    expect(link).to_have_count(1)
    expect(link).to_have_text(SCRIPT_NAME)
    assert link.inner_text() == SCRIPT_NAME
    assert_nothing_injected(page)

    page.locator(f"[data-testid=event-row][data-event-id='{event_id}'] [data-testid=execute-button]").click()
    page.wait_for_url(ui_flows.JOB_URL_RE)
    wait_job_status(page, "completed")
    expect(page.locator("#page-title")).to_have_text(SCRIPT_NAME)
    expect(page.locator("#job-event-link")).to_have_text(SCRIPT_NAME)
    expect(page.locator("[data-testid=log-line]")).to_have_count(2)
    texts = page.locator("[data-testid=log-line] .log-text").all_inner_texts()
    assert texts == ["<img src=x onerror=alert(2)><b id=injected-bold>bold</b>", "<script>alert(3)</script>"]
    assert_nothing_injected(page)

    page.goto("/jobs")
    expect(page.locator("[data-testid=job-row]").first).to_contain_text(SCRIPT_NAME)

    assert_nothing_injected(page)
    # No dialog opened (the context's guard also fails the test on one).
    assert page_problems.dialogs == []
