"""A person runs scripts and watches them: register, write a Python event in
the editor, execute it, see its log arrive while it runs and its status
change, see the dashboard count it; a failing job; cancelling a job."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import (
    create_event_in_editor,
    expect_stat,
    log_lines,
    stat_value,
    wait_api_job,
    wait_job_status,
)
from tests.support import ui_flows

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

TICKER_SCRIPT = 'import time\nfor i in range(25):\n    print(f"line {i} {time.time()}", flush=True)\n    time.sleep(0.2)'
FAILING_SCRIPT = (
    "import sys\n"
    'print("starting the failing part", flush=True)\n'
    'print("something broke on stderr", file=sys.stderr, flush=True)\n'
    "sys.exit(1)\n"
)
SLEEPER_SCRIPT = 'import time\nprint("waiting to be cancelled", flush=True)\ntime.sleep(120)\nprint("never printed")\n'

_SNAPSHOT_JS = """() => {
  const badge = document.querySelector('#job-status');
  return {
    status: badge && badge.getAttribute('data-status'),
    label: badge && badge.innerText.trim(),
    lines: document.querySelectorAll('[data-testid=log-line]').length,
  };
}"""


_WATCH_RUNNING_JS = """() => {
  window.__runningSeen = [];
  const read = () => {
    const el = document.querySelector('#stat-running [data-testid=stat-value]');
    const text = el && el.textContent.trim();
    if (text && window.__runningSeen[window.__runningSeen.length - 1] !== text) window.__runningSeen.push(text);
  };
  read();
  new MutationObserver(read).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def test_register_create_execute_and_watch_it_live(new_context, app_url, e2e_worker):
    context = new_context()
    page = context.new_page()
    email = f"ticker-{secrets.token_hex(4)}@example.com"

    ui_flows.register(page, app_url, email)
    expect(page.locator("#page-title")).to_have_text("Dashboard")
    expect(page.locator("#user-email")).to_have_text(email)

    # A second tab keeps the dashboard open during the run: it must follow
    # the job by itself, without a reload.
    dashboard = context.new_page()
    dashboard.goto("/")
    completed_before = stat_value(dashboard, "completedToday")
    assert completed_before == 0  # a new user
    assert stat_value(dashboard, "running") == 0
    # Remember every value the Running card shows from now on.
    dashboard.evaluate(_WATCH_RUNNING_JS)

    event_id = create_event_in_editor(page, "Ticker", TICKER_SCRIPT)
    assert event_id > 0

    # Execute: the button says "Creating job…" while the job is queued, then
    # the job's page opens.
    page.locator("#execute-event").click()
    page.wait_for_function(
        """() => location.pathname.startsWith('/jobs/') ||
                 Array.from(document.querySelectorAll('[data-testid=execute-button]'))
                      .some((b) => b.innerText.includes('Creating job…'))"""
    )
    page.wait_for_url(ui_flows.JOB_URL_RE)
    job_id = ui_flows.JOB_URL_RE.match(page.url).group(1)
    expect(page.locator("#job-id")).to_have_text(job_id)
    expect(page.locator("#page-title")).to_have_text("Ticker")

    # The first lines show up while the job still runs (25 lines over 5 s).
    page.wait_for_function("() => document.querySelectorAll('[data-testid=log-line]').length > 0", timeout=60_000)
    snapshot = page.evaluate(_SNAPSHOT_JS)
    assert snapshot["status"] == "running", snapshot
    assert snapshot["label"] == "running", snapshot
    assert 1 <= snapshot["lines"] < 25, snapshot
    first = log_lines(page)[0]
    assert first["text"].startswith("line 0 "), first
    expect(page.locator("#cancel-job")).to_be_visible()
    expect(page.locator("#log-live")).to_be_visible()

    # running → completed, with every line once and in order.
    wait_job_status(page, "completed")
    expect(page.locator("#job-status")).to_have_text("completed")
    expect(page.locator("#job-exit-code")).to_have_text("0")
    expect(page.locator("#job-worker")).to_have_text(e2e_worker.worker_id)
    expect(page.locator("#rerun-job")).to_be_visible()
    expect(page.locator("#cancel-job")).to_have_count(0)
    expect(page.locator("#log-live")).to_have_count(0)
    expect(page.locator("[data-testid=log-line]")).to_have_count(25)
    lines = log_lines(page)
    assert [line["text"].split(" ")[:2] for line in lines] == [["line", str(i)] for i in range(25)]
    assert {line["stream"] for line in lines} == {"stdout"}
    assert [line["seq"] for line in lines] == sorted(line["seq"] for line in lines)
    expect(page.locator("#log-count")).to_have_text("25 lines")

    # The filter box narrows the lines; "Download log" gives all of them.
    page.locator("#log-filter").fill("line 1")
    expect(page.locator("[data-testid=log-line]")).to_have_count(11)  # line 1, line 10 … line 19
    page.locator("#log-filter").fill("")
    expect(page.locator("[data-testid=log-line]")).to_have_count(25)
    with page.expect_download() as download_info:
        page.locator("#download-log").click()
    downloaded = Path(download_info.value.path()).read_text().splitlines()
    assert [text.split(" ")[:2] for text in downloaded] == [["line", str(i)] for i in range(25)]

    # The dashboard counted it (still no reload), and lists it as completed.
    expect_stat(dashboard, "completedToday", completed_before + 1)
    expect_stat(dashboard, "running", 0)
    assert "1" in dashboard.evaluate("window.__runningSeen"), "the dashboard never showed the job running"
    recent = dashboard.locator(f"[data-testid=recent-job][data-job-id={job_id}]")
    expect(recent.locator("[data-status]")).to_have_attribute("data-status", "completed")
    expect(recent).to_contain_text("Ticker")

    # The jobs list shows it too, completed, with its event.
    page.goto("/jobs")
    row = page.locator(f"[data-testid=job-row][data-job-id={job_id}]")
    expect(row).to_have_attribute("data-status", "completed")
    expect(row).to_contain_text("completed")
    # The worker that ran it, under "Worker".
    expect(page.locator("#jobs-table thead")).to_contain_text("Worker")
    expect(row).to_contain_text(e2e_worker.worker_id)


def test_failing_job_marks_stderr_and_fails(new_context, app_url, make_api_user):
    user = make_api_user()
    user.create_event(name="Fails on purpose", type="python", script=FAILING_SCRIPT)
    page = new_context().new_page()
    ui_flows.login(page, app_url, user.user["email"])
    dashboard_failed_before = stat_value(page, "failedToday")

    # Execute from the events list this time.
    page.goto("/events")
    row = page.locator("[data-testid=event-row]", has_text="Fails on purpose")
    expect(row).to_have_count(1)
    row.locator("[data-testid=execute-button]").click()
    page.wait_for_url(ui_flows.JOB_URL_RE)
    job_id = ui_flows.JOB_URL_RE.match(page.url).group(1)

    wait_job_status(page, "failed")
    expect(page.locator("#job-status")).to_have_text("failed")
    expect(page.locator("#job-exit-code")).to_have_text("1")

    stderr_row = page.locator("[data-testid=log-line][data-stream=stderr]", has_text="something broke on stderr")
    expect(stderr_row).to_be_visible()
    expect(stderr_row.locator(".log-tag")).to_have_text("ERR")
    expect(stderr_row.locator(".log-tag")).to_be_visible()
    stdout_row = page.locator("[data-testid=log-line]", has_text="starting the failing part")
    expect(stdout_row).to_have_attribute("data-stream", "stdout")
    expect(stdout_row.locator(".log-tag")).to_have_text("")
    # The stderr line is set apart (its own colour), the stdout one is not.
    backgrounds = page.evaluate(
        """() => Array.from(document.querySelectorAll('[data-testid=log-line]'))
                      .map((r) => [r.getAttribute('data-stream'), getComputedStyle(r).backgroundColor])"""
    )
    stderr_bg = {bg for stream, bg in backgrounds if stream == "stderr"}
    stdout_bg = {bg for stream, bg in backgrounds if stream == "stdout"}
    assert stderr_bg and stdout_bg and stderr_bg.isdisjoint(stdout_bg), backgrounds

    assert user.job(job_id)["status"] == "failed"
    page.goto("/")
    expect_stat(page, "failedToday", dashboard_failed_before + 1)


def test_cancel_a_running_job_from_its_page(new_context, app_url, make_api_user):
    user = make_api_user()
    event = user.create_event(name="Sleeper", type="python", script=SLEEPER_SCRIPT)
    page = new_context().new_page()
    ui_flows.login(page, app_url, user.user["email"])

    job_id = ui_flows.execute_from_event_page(page, app_url, event["id"])
    expect(page.locator("[data-testid=log-line]", has_text="waiting to be cancelled")).to_be_visible(timeout=60_000)
    wait_job_status(page, "running")

    cancel = page.locator("#cancel-job")
    expect(cancel).to_be_enabled()
    cancel.click()
    wait_job_status(page, "cancelled", timeout_ms=30_000)
    expect(page.locator("#job-status")).to_have_text("cancelled")
    expect(page.locator("#cancel-job")).to_have_count(0)
    expect(page.locator("#rerun-job")).to_be_visible()
    expect(page.locator("[data-testid=log-line]", has_text="never printed")).to_have_count(0)
    assert wait_api_job(user, job_id, timeout_s=10)["status"] == "cancelled"
