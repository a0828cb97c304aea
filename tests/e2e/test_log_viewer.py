"""The live log viewer, opened halfway through a run: every line once and in
order (also after a reload), auto-scroll that follows the end, and stops
while the reader is scrolled up."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import log_lines, wait_job_status
from tests.support import ui_flows
from tests.support.clients import job_lines

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

STOP_VARIABLE = "STREAM_STOP"
MAX_LINES = 3000
# Prints a line every 0.15 s until the test sets a variable: the log keeps
# growing for as long as the test needs, however slow the machine is.
STREAM_SCRIPT = (
    "import time, cronium\n"
    "i = 0\n"
    f"while i < {MAX_LINES} and not cronium.get_variable('{STOP_VARIABLE}'):\n"
    "    print(f'row {i:04d}', flush=True)\n"
    "    i += 1\n"
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
    # The page's websockets, so that the test can drop one (see below).
    sockets = []

    def relay(socket):
        socket.connect_to_server()
        sockets.append(socket)

    page.route_web_socket(re.compile(r"/_event"), relay)
    ui_flows.login(page, app_url, user.user["email"])
    page.goto(f"/jobs/{job_id}")
    wait_job_status(page, "running")
    _wait_shown(page, 5)
    first = log_lines(page)
    assert first and first[0]["text"] == "row 0000", first[:3]  # the lines before the page opened too

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

    # Scrolled up, the reader stays where they are while lines arrive. (The
    # scrollbar dragged to the top: a wheel's smooth scroll is animated by the
    # browser's compositor, which a loaded machine can hold up for long.)
    page.eval_on_selector("#log-lines", "box => { box.scrollTop = 0; }")
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

    # The connection drops (a network blip, a proxy's idle timeout, a
    # browser starved of CPU missing the server's pings): the page connects
    # again and loads the job again; the reader's view still stays.
    opened = len(sockets)
    sockets[-1].close()
    deadline = time.monotonic() + 30
    while len(sockets) == opened:
        assert time.monotonic() < deadline, "the page did not connect again"
        page.wait_for_timeout(100)
    _wait_shown(page, _shown(page) + 5)
    page.wait_for_timeout(300)
    reconnected = page.evaluate(_SCROLL_JS)
    assert abs(reconnected["top"] - before["top"]) <= 25, (before, reconnected)
    assert reconnected["bottomGap"] > after["bottomGap"], (after, reconnected)

    # Back at the end, the view follows the newest line again.
    page.eval_on_selector("#log-lines", "box => { box.scrollTop = box.scrollHeight; }")
    _wait_shown(page, _shown(page) + 5)
    page.wait_for_timeout(300)
    assert page.evaluate(_SCROLL_JS)["bottomGap"] <= 50, page.evaluate(_SCROLL_JS)

    response = user.http.put(f"/api/v1/variables/{STOP_VARIABLE}", json={"value": True})
    assert response.status_code == 201, response.text
    wait_job_status(page, "completed", timeout_ms=60_000)
    printed = [line["line"] for line in job_lines(user, job_id) if line["stream"] == "stdout"]
    assert len(printed) < MAX_LINES, "the job did not see the stop variable"
    expect(page.locator("[data-testid=log-line]")).to_have_count(len(printed))
    lines = log_lines(page)
    assert [line["text"] for line in lines] == [f"row {i:04d}" for i in range(len(printed))]
    assert [line["seq"] for line in lines] == sorted({line["seq"] for line in lines})
