"""The event page's "Conditional actions" and "Webhook triggers" cards in the
browser, and the job page's list of what fired: a failure alert through a
Slack tool (to a local receiver), a webhook URL shown once and called with
curl, the failed job's page showing the alert and its result."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from playwright.sync_api import expect

from tests.support import ui_flows
from tests.support.clients import wait_for_job

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SLACK_PATH = "/slack/services/T0E2E/B0ACT/e2eactionsecret77"


def _choose(page, select_id: str, option: str) -> None:
    page.locator(f"#{select_id}").click()
    page.get_by_role("option", name=option, exact=True).click()


def test_a_failure_alert_and_a_webhook_trigger_from_the_event_page(
    new_context, make_api_user, app_url, e2e_receiver, screenshot_dir
):
    user = make_api_user()
    tool = user.http.post("/api/v1/tools", json={"name": "ops", "kind": "slack", "url": e2e_receiver.url + SLACK_PATH})
    assert tool.status_code == 201, tool.text
    event = user.create_event(name="nightly backup", script='echo "backing up $(cronium_input)"; sleep 3; exit 3')

    page = new_context().new_page()
    ui_flows.login(page, app_url, user.user["email"])
    page.goto(f"{app_url}/events/{event['id']}")
    card = page.locator("#actions-card")
    expect(card).to_contain_text("Nothing happens when a job ends.")

    page.locator("#new-action").click()
    page.locator("#action-add").click()
    expect(page.locator("#action-form #error-toolId")).to_be_visible()  # no tool chosen yet
    _choose(page, "action-a_tool", "ops (Slack)")
    page.locator("#action-window").fill("30")
    page.screenshot(path=str(screenshot_dir / "event-conditional-action.png"), full_page=True)
    page.locator("#action-add").click()
    row = card.locator("[data-testid=event-action]")
    expect(row).to_contain_text("Message through ops")
    expect(row).to_contain_text("at most one alert per 30 min")

    triggers = page.locator("#triggers-card")
    page.locator("#trigger-name").fill("from ci")
    page.locator("#new-trigger").click()
    url = page.locator("#trigger-url")
    expect(url).to_contain_text("/api/hooks/hook_")
    expect(page.locator("#trigger-curl")).to_contain_text("curl -X POST")
    expect(triggers.locator("[data-testid=event-trigger]")).to_contain_text("from ci")
    page.screenshot(path=str(screenshot_dir / "event-webhook-trigger.png"), full_page=True)

    done = subprocess.run(
        ["curl", "-sS", "-X", "POST", "-H", "Content-Type: application/json", "-d", '"the data"', url.inner_text()],
        capture_output=True, text=True, timeout=30, check=True,
    )
    job_id = json.loads(done.stdout)["jobId"]
    # The job page, open while the job runs, shows the alert's outcome when it comes.
    watcher = new_context().new_page()
    ui_flows.login(watcher, app_url, user.user["email"])
    watcher.goto(f"{app_url}/jobs/{job_id}")
    expect(watcher.locator("#job-actions-card [data-testid=job-action]")).to_have_attribute(
        "data-result-status", "completed", timeout=60_000)
    job = wait_for_job(user, job_id)
    assert (job["status"], job["input"]) == ("failed", "the data")
    alert = e2e_receiver.wait_for(SLACK_PATH)[0].json()["text"]
    assert "nightly backup" in alert and "backing up" in alert and "the data" in alert

    # The secret URL is gone once the card is closed, and on a new visit.
    page.reload()
    expect(page.locator("#triggers-card [data-testid=event-trigger]")).to_contain_text("from ci")
    expect(page.locator("#trigger-url")).to_have_count(0)

    page.goto(f"{app_url}/jobs/{job_id}")
    actions = page.locator("#job-actions-card")
    expect(actions).to_contain_text("Failure alert")
    expect(actions.locator("[data-testid=job-action]")).to_have_attribute("data-result-status", "completed")
    page.screenshot(path=str(screenshot_dir / "job-actions.png"), full_page=True)


def test_a_tool_event_with_a_live_preview(new_context, make_api_user, app_url, e2e_receiver, screenshot_dir):
    user = make_api_user()
    path = "/slack/services/T0E2E/B0TOOL/e2etooleventsecret5"
    tool = user.http.post("/api/v1/tools", json={"name": "team", "kind": "slack", "url": e2e_receiver.url + path})
    assert tool.status_code == 201, tool.text
    page = new_context().new_page()
    ui_flows.login(page, app_url, user.user["email"])
    page.goto(f"{app_url}/events/new")
    page.locator("#field-name").fill("say hello")
    _choose(page, "field-kind", "Tool")
    expect(page.locator("#tool-section")).to_be_visible()
    _choose(page, "field-tool", "team (Slack)")
    page.locator("#tool-field-text").fill("Hello {{ input.name | upper }} from {{ event.name }}")
    preview = page.locator("#tool-preview [data-testid=tool-preview-field]")
    expect(preview).to_have_text("Hello WORLD from (this event)")
    page.locator("#tool-preview-input").fill('{"name": "ada"}')
    expect(preview).to_have_text("Hello ADA from (this event)")
    page.locator("#tool-field-text").fill("Hello {{ input.name")
    expect(page.locator("#tool-preview-error")).to_be_visible()
    page.locator("#tool-field-text").fill("Hello {{ input.name }}")
    expect(preview).to_have_text("Hello ada")
    page.screenshot(path=str(screenshot_dir / "tool-event-preview.png"), full_page=True)
    page.locator("#save-event").click()
    page.wait_for_url(re.compile(r".*/events/(\d+)/?$"))
    event_id = int(re.search(r"/events/(\d+)", page.url).group(1))

    job = wait_for_job(user, user.execute(event_id, input={"name": "Grace"}))
    assert job["status"] == "completed", job
    assert e2e_receiver.wait_for(path)[0].json() == {"text": "Hello Grace"}


def test_a_webhook_trigger_on_the_workflow_page_starts_a_run(new_context, make_api_user, app_url):
    user = make_api_user()
    step = user.create_event(name="deploy step", script="cronium_input")
    created = user.http.post("/api/v1/workflows", json={"name": "deploy", "steps": [{"name": "a", "eventId": step["id"]}]})
    assert created.status_code == 201, created.text
    page = new_context().new_page()
    ui_flows.login(page, app_url, user.user["email"])
    page.goto(f"{app_url}/workflows/{created.json()['id']}")
    expect(page.locator("#triggers-card")).to_contain_text("starts this workflow")
    page.locator("#new-trigger").click()
    url = page.locator("#trigger-url")
    expect(url).to_contain_text("/api/hooks/hook_")
    done = subprocess.run(["curl", "-sS", "-X", "POST", "-d", "env=prod", url.inner_text()],
                          capture_output=True, text=True, timeout=30, check=True)
    run = user.http.get(f"/api/v1/workflow-runs/{json.loads(done.stdout)['runId']}")
    assert run.status_code == 200 and run.json()["input"] == {"env": "prod"}


def test_a_late_run_alert_from_the_event_page(new_context, make_api_user, app_url, e2e_receiver, screenshot_dir):
    user = make_api_user()
    tool = user.http.post("/api/v1/tools", json={"name": "pager", "kind": "slack", "url": e2e_receiver.url + SLACK_PATH})
    assert tool.status_code == 201, tool.text
    event = user.create_event(name="hourly sync", script="echo synced", scheduleType="cron", cronExpression="0 * * * *")
    page = new_context().new_page()
    ui_flows.login(page, app_url, user.user["email"])
    page.goto(f"{app_url}/events/{event['id']}")
    page.locator("#new-action").click()
    _choose(page, "action-a_trigger", "When no run succeeded for a while")
    _choose(page, "action-a_tool", "pager (Slack)")
    page.locator("#action-threshold").fill("0")
    page.locator("#action-add").click()
    expect(page.locator("#action-form #error-thresholdSeconds")).to_have_text("Enter whole minutes, at least 1.")
    page.locator("#action-threshold").fill("90")
    page.screenshot(path=str(screenshot_dir / "event-late-alert.png"), full_page=True)
    page.locator("#action-add").click()
    expect(page.locator("#actions-card [data-testid=event-action]")).to_contain_text("When no run succeeded in 90 min")
    [saved] = user.http.get(f"/api/v1/events/{event['id']}/actions").json()["items"]
    assert (saved["trigger"], saved["thresholdSeconds"], saved["kind"]) == ("late", 5400, "message")
