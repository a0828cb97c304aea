"""A screenshot of every page, at 1280x800 and on a 390x844 phone, into
test-output/screenshots/e2e/<page>-<width>x<height>.png, for a person to look
at. Each page is also checked: nothing is wider than the viewport
(document.documentElement.scrollWidth <= window.innerWidth), and no text
says TODO, lorem or placeholder.

Pages that later issues add (workflows, variables, settings) are included
when the sidebar links to them, with their "new" form when the list page
links to `<page>/new`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import STAT_KEYS, api_cancel, layout_problems, stat_value, wait_api_job
from tests.support import ui_flows
from tests.support.browser import DESKTOP, PHONE
from tests.support.sshd import keygen

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

REPORT_SCRIPT = (
    "import json, random\n"
    "rows = [{'region': r, 'orders': random.randint(100, 999)} for r in ('north', 'south', 'east', 'west')]\n"
    "for row in rows:\n"
    "    print(json.dumps(row), flush=True)\n"
    "print(f'{sum(r[\"orders\"] for r in rows)} orders in total', flush=True)\n"
)
FAILING_SCRIPT = (
    "import sys\n"
    "print('connecting to the backup target', flush=True)\n"
    "print('error: backup target unreachable (connection refused)', file=sys.stderr, flush=True)\n"
    "sys.exit(3)\n"
)
# Runs five minutes (cancelled once shot): long enough for every shot on a
# busy machine.
RUNNING_SCRIPT = (
    "import time\n"
    "for i in range(150):\n"
    "    print(f'imported batch {i + 1} of 150 (500 rows)', flush=True)\n"
    "    time.sleep(2)\n"
)
SUMMARY_SCRIPT = (
    "day = cronium.input()['date']\n"
    "print(f'summarising {day}', flush=True)\n"
    "cronium.output({'date': day, 'orders': 2140, 'regions': {'north': 512, 'south': 488}})\n"
)
OPTIONAL_PAGES = ("/workflows", "/variables", "/settings")


@dataclass
class Shot:
    name: str
    path: str | None  # None: stay on the current page
    ready: Callable[[Page], bool | None]  # waits for the page; False: nothing to shoot
    full_page: bool = True
    before: Callable[[Page], None] | None = None  # an action after `ready`, before the shot


def _visible(selector: str) -> Callable[[Page], None]:
    def ready(page: Page) -> None:
        expect(page.locator(selector).first).to_be_visible(timeout=20_000)

    return ready


def _dashboard_ready(page: Page) -> None:
    for key in STAT_KEYS:
        stat_value(page, key)
    expect(page.locator("#recent-jobs")).to_be_visible()
    expect(page.locator("#hourly-chart svg").first).to_be_visible()


def _job_ready(status: str, min_lines: int = 1) -> Callable[[Page], None]:
    def ready(page: Page) -> None:
        expect(page.locator("#job-status")).to_have_attribute("data-status", status, timeout=30_000)
        page.wait_for_function(
            f"() => document.querySelectorAll('[data-testid=log-line]').length >= {min_lines}", timeout=20_000
        )

    return ready


def _generic_ready(page: Page) -> None:
    expect(page.locator("#page-title").first).to_be_visible(timeout=20_000)
    page.wait_for_function("() => !document.body.innerText.includes('Loading')", timeout=20_000)


def _show_errors(page: Page) -> None:
    page.locator("#field-name").fill("")
    page.locator("#field-timeout").fill("0")
    page.locator("#save-event").click()
    expect(page.locator("#error-name")).to_be_visible()
    expect(page.locator("#error-timeoutSeconds")).to_be_visible()


def _show_schedule(page: Page) -> None:
    """A cron schedule in a time zone, with its next five runs listed."""
    page.locator("#field-schedule_type").click()
    page.get_by_role("option", name="On a cron schedule").click()
    page.locator("#field-timezone").fill("Europe/Paris")
    page.locator("#field-cron_expression").fill("0 2 * * 1-5")
    expect(page.locator("[data-testid=fire-time]")).to_have_count(5)


def _ask_delete(page: Page) -> None:
    page.locator("#delete-event").click()
    expect(page.locator("#delete-dialog")).to_be_visible()
    expect(page.locator("#delete-confirm")).to_be_visible()


def _open_server_editor(page: Page) -> None:
    page.locator("[data-testid=server-row][data-name=web-1] [data-testid=edit-server]").click()
    expect(page.locator("#server-dialog")).to_be_visible()
    expect(page.locator("#server-private-key")).to_be_visible()


def _add_servers(user, directory) -> None:
    """Two servers: one with a pinned host key and a failed connection test
    (nothing listens at 127.0.0.9:9), one never tested."""
    private_key, _ = keygen(directory / "id_ed25519")
    _, host_key = keygen(directory / "host_key")
    common = {"username": "deploy", "authType": "key", "privateKey": private_key}
    web = user.http.post(
        "/api/v1/servers",
        json={**common, "name": "web-1", "host": "127.0.0.9", "port": 9, "hostKey": host_key, "tags": ["web", "eu"]},
    )
    assert web.status_code == 201, web.text
    assert user.http.post(f"/api/v1/servers/{web.json()['id']}/test").status_code == 200
    db = user.http.post("/api/v1/servers", json={**common, "name": "db-primary", "host": "db1.example.com"})
    assert db.status_code == 201, db.text


def _add_variables(user) -> None:
    """Three variables: an object (shown as indented JSON), a string and a
    secret (shown masked)."""
    for key, value, secret in (("report.thresholds", {"orders": 1000, "regions": ["north", "south"]}, False),
                               ("backup.target", "s3://backups/nightly", False),
                               ("warehouse.password", "correct-horse-battery-staple", True)):
        response = user.http.put(f"/api/v1/variables/{key}", json={"value": value, "secret": secret})
        assert response.status_code == 201, response.text


def _open_secret_variable(page: Page) -> None:
    page.locator("[data-testid=variable-row][data-key='warehouse.password'] [data-testid=edit-variable]").click()
    expect(page.locator("#variable-dialog")).to_be_visible()
    expect(page.locator("#variable-secret")).to_have_attribute("data-state", "checked")


def _run_workflow(user, event_id: int) -> dict:
    """A one-step workflow run to its end, with an input and a step output."""
    created = user.http.post(
        "/api/v1/workflows",
        json={"name": "Daily summary", "steps": [{"name": "summary", "eventId": event_id}], "edges": []},
    )
    assert created.status_code == 201, created.text
    started = user.http.post(
        f"/api/v1/workflows/{created.json()['id']}/execute", json={"input": {"date": "2026-01-31"}}
    )
    assert started.status_code == 202, started.text
    deadline = time.monotonic() + 60
    while True:
        run = user.http.get(f"/api/v1/workflow-runs/{started.json()['runId']}").json()
        if run["status"] != "running" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert run["status"] == "completed", run
    return run


def _open_menu(page: Page) -> None:
    page.locator("#nav-toggle").click()
    expect(page.locator("#mobile-nav")).to_be_visible()


def _open_new_from(path: str) -> Callable[[Page], bool | None]:
    """On the list page at `path`: open `{path}/new` if the page links to it;
    False (no shot) when it does not."""

    def ready(page: Page) -> bool | None:
        if not page.locator(f"a[href='{path}/new']").count():
            return False
        page.goto(f"{path}/new")
        _generic_ready(page)
        return None

    return ready


def _take(page: Page, shot: Shot, viewport: dict[str, int], out_dir, taken: list[str], problems: dict) -> None:
    if shot.path is not None:
        page.goto(shot.path)
    if shot.ready(page) is False:
        return
    if shot.before is not None:
        shot.before(page)
    if shot.full_page:
        # A page scrolled by focusing a field would show the sticky top bar
        # in the middle of a full-page capture.
        page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(300)  # let charts and transitions settle
    filename = f"{shot.name}-{viewport['width']}x{viewport['height']}.png"
    page.screenshot(path=str(out_dir / filename), full_page=shot.full_page)
    taken.append(filename)
    found = layout_problems(page)
    if found:
        problems[filename] = found


def test_screenshots_of_every_page(new_context, app_url, make_api_user, screenshot_dir, tmp_path):
    for old_shot in screenshot_dir.glob("*.png"):  # no stale pictures from an earlier run
        old_shot.unlink()
    user = make_api_user()
    empty_user = make_api_user()
    report = user.create_event(
        name="Nightly sales report",
        type="python",
        script=REPORT_SCRIPT,
        description="Adds up yesterday's orders per region and prints the totals.",
        tags=["reports", "nightly"],
        envVars={"REGION_SET": "north,south,east,west"},
        secretEnvVars={"WAREHOUSE_TOKEN": "wh-0123456789", "SMTP_PASSWORD": "mail-secret"},
    )
    backup = user.create_event(name="Offsite backup", type="python", script=FAILING_SCRIPT)
    importer = user.create_event(name="Customer import", type="python", script=RUNNING_SCRIPT, timeoutSeconds=600)
    user.create_event(name="Disk usage check", type="bash", script="df -h /tmp")
    _add_servers(user, tmp_path)
    _add_variables(user)
    summary = user.create_event(name="Orders summary", type="python", script=SUMMARY_SCRIPT)
    user.create_event(
        name="Ping the status page",
        type="http",
        script="",
        httpRequest={"method": "GET", "url": "https://example.com/health"},
        network="egress",
    )

    completed_id = user.execute(report["id"])
    failed_id = user.execute(backup["id"])
    running_id = user.execute(importer["id"])
    try:
        assert wait_api_job(user, completed_id)["status"] == "completed"
        assert wait_api_job(user, failed_id)["status"] == "failed"
        wait_api_job(user, running_id, statuses=("running",))
        run = _run_workflow(user, summary["id"])
        step_job_id = run["steps"][0]["jobId"]

        shots_signed_in = [
            Shot("dashboard", "/", _dashboard_ready),
            Shot("events", "/events", _visible("#events-table")),
            Shot("event-editor-new", "/events/new", _visible(".cm-content")),
            Shot("event-editor-errors", "/events/new", _visible(".cm-content"), before=_show_errors),
            Shot("event-editor-schedule", "/events/new", _visible(".cm-content"), before=_show_schedule),
            Shot("event-editor", f"/events/{report['id']}", _visible("#execute-event")),
            Shot("event-delete-confirm", f"/events/{report['id']}", _visible("#delete-event"),
                 full_page=False, before=_ask_delete),
            Shot("jobs", "/jobs", _visible("[data-testid=job-row]")),
            Shot("job-running", f"/jobs/{running_id}", _job_ready("running", 2)),
            Shot("job-completed", f"/jobs/{completed_id}", _job_ready("completed", 5)),
            Shot("job-failed", f"/jobs/{failed_id}", _job_ready("failed", 2)),
            Shot("job-step-output", f"/jobs/{step_job_id}", _job_ready("completed", 1)),
            Shot("workflow-run", f"/workflow-runs/{run['id']}", _visible("#run-status[data-status=completed]")),
            Shot("servers", "/servers", _visible("[data-testid=server-row]")),
            Shot("servers-editor", "/servers", _visible("[data-testid=server-row]"), full_page=False,
                 before=_open_server_editor),
            Shot("variables-replace-secret", "/variables", _visible("[data-testid=variable-row]"), full_page=False,
                 before=_open_secret_variable),
            Shot("job-not-found", "/jobs/job_doesnotexist0000000000000", _visible("#job-not-found")),
        ]
        shots_empty = [
            Shot("dashboard-empty", "/", _dashboard_ready),
            Shot("events-empty", "/events", _visible("#events-empty")),
            Shot("jobs-empty", "/jobs", _visible("#jobs-empty")),
            Shot("servers-empty", "/servers", _visible("#servers-empty")),
        ]

        taken: list[str] = []
        problems: dict[str, list[str]] = {}
        optional_found: list[str] = []
        for viewport in (DESKTOP, PHONE):
            # Signed out: the two public pages.
            page = new_context(viewport=viewport).new_page()
            _take(page, Shot("login", "/login", _visible("#login-form")), viewport, screenshot_dir, taken, problems)
            _take(page, Shot("register", "/register", _visible("#register-form")), viewport, screenshot_dir,
                  taken, problems)

            ui_flows.login(page, app_url, user.user["email"])
            # The sidebar renders once the session is confirmed.
            page.locator("#sidebar #nav-jobs").wait_for(state="attached")
            optional = [path for path in OPTIONAL_PAGES if page.locator(f"#sidebar a[href='{path}']").count()]
            if viewport is DESKTOP:
                optional_found = optional
            shots = list(shots_signed_in)
            for path in optional:
                shots.append(Shot(path.strip("/"), path, _generic_ready))
                # Its editor too, when the list links to one (shot right after the list).
                shots.append(Shot(path.strip("/") + "-new", None, _open_new_from(path)))
            if viewport is PHONE:
                shots.append(Shot("menu", "/", _visible("#nav-toggle"), full_page=False, before=_open_menu))
            for shot in shots:
                _take(page, shot, viewport, screenshot_dir, taken, problems)

            empty_page = new_context(viewport=viewport).new_page()
            ui_flows.login(empty_page, app_url, empty_user.user["email"])
            for shot in shots_empty:
                _take(empty_page, shot, viewport, screenshot_dir, taken, problems)

        print(f"\n{len(taken)} screenshots in {screenshot_dir}:")
        for name in taken:
            print("  " + name)
        if not optional_found:
            print(f"  (no sidebar link to {', '.join(OPTIONAL_PAGES)} yet: those pages were not shot)")
        assert user.job(running_id)["status"] == "running", "the running job ended before its screenshots"
        assert not problems, "layout problems:\n" + "\n".join(f"{k}: {v}" for k, v in problems.items())
    finally:
        api_cancel(user, running_id)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and user.job(running_id)["status"] == "running":
            time.sleep(0.2)
