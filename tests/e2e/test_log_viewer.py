"""The live log viewer, opened halfway through a run: every line once and in
order (also after a reload), auto-scroll that follows the end, and stops
while the reader is scrolled up."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import log_lines, wait_job_status
from tests.support import ui_flows
from tests.support.clients import job_lines

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

LINES = 90
STREAM_SCRIPT = (
    "import time\n"
    f"for i in range({LINES}):\n"
    "    print(f'row {i:03d}', flush=True)\n"
    "    time.sleep(0.15)\n"
)

_SCROLL_JS = """() => { const box = document.getElementById('log-lines');
    return {top: box.scrollTop, bottomGap: box.scrollHeight - box.scrollTop - box.clientHeight,
            overflows: box.scrollHeight > box.clientHeight}; }"""


def _shown(page) -> int:
    return page.locator("[data-testid=log-line]").count()


def _wait_shown(page, count: int, timeout_ms: float = 30_000) -> None:
    page.wait_for_function(
        f"() => document.querySelectorAll('[data-testid=log-line]').length >= {count}", timeout=timeout_ms
    )


def test_open_halfway_reload_and_scroll(new_context, app_url, make_api_user):
    user = make_api_user()
    event = user.create_event(name="Streamer", type="python", script=STREAM_SCRIPT)
    job_id = user.execute(event["id"])
    # Open the page once the job has printed a few lines already.
    deadline = time.monotonic() + 60
    while len(job_lines(user, job_id)) < 5:
        assert time.monotonic() < deadline, "the job printed nothing"
        time.sleep(0.1)

    page = new_context().new_page()
    ui_flows.login(page, app_url, user.user["email"])
    page.goto(f"/jobs/{job_id}")
    wait_job_status(page, "running")
    first = log_lines(page)
    assert first and first[0]["text"] == "row 000", first[:3]  # the lines before the page opened too

    # Auto-scroll: once the log overflows its box, the newest line stays in view.
    _wait_shown(page, 40)
    page.wait_for_timeout(300)
    scroll = page.evaluate(_SCROLL_JS)
    assert scroll["overflows"] and scroll["bottomGap"] <= 50, scroll

    # Reload mid-run: the page picks the log up again, without duplicates,
    # and follows its end again.
    seen_before_reload = _shown(page)
    page.reload()
    wait_job_status(page, "running")
    _wait_shown(page, seen_before_reload + 1)
    page.wait_for_function(
        "() => { const b = document.getElementById('log-lines');"
        " return b.scrollHeight > b.clientHeight && b.scrollHeight - b.scrollTop - b.clientHeight <= 50; }"
    )

    # Scrolled up, the reader stays where they are while lines arrive.
    page.locator("#log-lines").hover()
    page.mouse.wheel(0, -100_000)
    # (Not exactly 0: the browser's scroll anchoring may keep the view a line
    # away from the top while lines arrive.)
    page.wait_for_function("() => document.getElementById('log-lines').scrollTop < 50")
    page.wait_for_timeout(300)
    before = page.evaluate(_SCROLL_JS)
    _wait_shown(page, _shown(page) + 5)
    page.wait_for_timeout(300)
    after = page.evaluate(_SCROLL_JS)
    assert abs(after["top"] - before["top"]) <= 25, (before, after)  # the view stayed
    assert after["bottomGap"] > before["bottomGap"] + 50, (before, after)  # new lines arrived below it

    wait_job_status(page, "completed", timeout_ms=60_000)
    expect(page.locator("[data-testid=log-line]")).to_have_count(LINES)
    lines = log_lines(page)
    assert [line["text"] for line in lines] == [f"row {i:03d}" for i in range(LINES)]
    assert [line["seq"] for line in lines] == sorted({line["seq"] for line in lines})
