"""Live-log latency: from a line being printed in the container to it being
painted in the page (see tests/support/ui_flows.py for how). Writes
test-output/live_log_latency.json and prints p50/p95. The goal (p95 under
1 s) is printed, not asserted: this test runs on shared CI machines; `make
bench` (bench/ui.py) reports the same figures."""

from __future__ import annotations

import json

import pytest

from tests.e2e.helpers import OUTPUT_DIR
from tests.support import ui_flows

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

GOAL_P95_MS = 1000


def test_live_log_latency(new_context, app_url, make_api_user):
    user = make_api_user()
    event = user.create_event(name="Latency probe", type="python", script=ui_flows.LATENCY_SCRIPT)
    context = new_context()
    context.add_init_script(ui_flows.LOG_OBSERVER_JS)
    page = context.new_page()
    ui_flows.login(page, app_url, user.user["email"])

    result = ui_flows.measure_live_log_latency(page, app_url, event["id"])

    report = result.as_dict()
    report["goal_p95_ms"] = GOAL_P95_MS
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUTPUT_DIR / "live_log_latency.json").write_text(json.dumps(report, indent=2) + "\n")
    verdict = "met" if result.p95_ms < GOAL_P95_MS else "MISSED"
    print(
        f"\nlive-log latency over {len(result.samples_ms)} lines: p50 {result.p50_ms:.0f} ms, "
        f"p95 {result.p95_ms:.0f} ms, max {result.max_ms:.0f} ms (goal p95 < {GOAL_P95_MS} ms: {verdict})"
    )

    assert result.lines_seen == ui_flows.LATENCY_LINES, report
    # At most the first line may have been printed before the page showed the log.
    assert len(result.samples_ms) >= ui_flows.LATENCY_LINES - 1, report
    # Same clock on both sides: a line cannot be painted before it was printed.
    assert min(result.samples_ms) > -50, report
