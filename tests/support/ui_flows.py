"""What a person does in the web UI, as Playwright steps, shared by the e2e
tests (tests/e2e) and the UI benchmark (bench/ui.py): sign in, register,
execute an event, and the live-log latency measurement.

Live-log latency: a script prints `time.time()` with each line; a
MutationObserver installed in the page (before any of the app's code runs)
stamps each log row when it enters the DOM and again at the next animation
frame (just before the browser paints it), with `performance.timeOrigin +
performance.now()` (epoch milliseconds, the same clock the container's
time.time() reads: containers share the host's kernel clock). Latency =
painted − printed, per line.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

PASSWORD = "correct horse battery"
JOB_URL_RE = re.compile(r".*/jobs/(job_[A-Za-z0-9_-]+)/?$")

# -- signing in --------------------------------------------------------------


def wait_until_ready(page) -> None:
    """The auth forms' submit button says when the page's scripts run: a
    click before then posts the form natively and lands back on the form.
    When it never does, the failure says what the page did meanwhile (its
    console, its websockets)."""
    seen: list[str] = []

    def on_console(message) -> None:
        seen.append(f"console {message.type}: {message.text[:200]}")

    def on_websocket(socket) -> None:
        seen.append(f"websocket opened {socket.url[:80]}")
        socket.on("close", lambda _: seen.append("websocket closed"))

    page.on("console", on_console)
    page.on("websocket", on_websocket)
    try:
        page.locator("#submit[data-ready=true]").wait_for(timeout=60_000)
    except PlaywrightTimeoutError as exc:
        found = page.evaluate(
            "() => ({readyState: document.readyState,"
            " dataReady: document.querySelector('#submit')?.getAttribute('data-ready') ?? 'no #submit'})"
        )
        raise AssertionError(f"{page.url} not ready after 60 s: {found}; meanwhile: {seen[-30:]}") from exc
    finally:
        page.remove_listener("console", on_console)
        page.remove_listener("websocket", on_websocket)


def register(page, base_url: str, email: str, password: str = PASSWORD) -> None:
    """Create an account through /register; ends on the dashboard."""
    page.goto(f"{base_url}/register")
    wait_until_ready(page)
    page.locator("#email-input").fill(email)
    page.locator("#password-input").fill(password)
    page.locator("#confirm-input").fill(password)
    page.locator("#submit").click()
    page.wait_for_url(f"{base_url}/", timeout=30_000)


def login(page, base_url: str, email: str, password: str = PASSWORD, *, expect_url: str | None = None) -> None:
    """Sign in through /login; ends on the dashboard (or `expect_url`)."""
    page.goto(f"{base_url}/login")
    wait_until_ready(page)
    page.locator("#email-input").fill(email)
    page.locator("#password-input").fill(password)
    page.locator("#submit").click()
    page.wait_for_url(expect_url or f"{base_url}/", timeout=30_000)


# -- executing ---------------------------------------------------------------


# The width from which the sidebar shows instead of the phone menu
# (components/layout.py, WIDE).
WIDE_PX = 768


def open_phone_menu(page) -> None:
    """Open the phone menu, at a phone's width (a tab keeps it open across
    a reload: a click would then close it)."""
    if page.viewport_size["width"] >= WIDE_PX:
        return
    page.locator("#nav-toggle").wait_for(state="visible")
    if not page.locator("#mobile-nav").is_visible():
        page.locator("#nav-toggle").click()
        page.locator("#mobile-nav").wait_for(state="visible")


def switch_workspace(page, name: str) -> None:
    """Pick workspace `name` in the switcher (the sidebar's, or the open
    phone menu's); the page loads again in that workspace."""
    page.locator("[data-testid=workspace-switcher]:visible").click()
    # The switch ends with a reload: wait for it, not for the current page.
    with page.expect_navigation():
        page.get_by_role("option", name=name, exact=False).click()
    page.wait_for_load_state("load")


def execute_from_event_page(page, base_url: str, event_id: int) -> str:
    """Open the event's page, press Execute, land on /jobs/{id}; the job id."""
    page.goto(f"{base_url}/events/{event_id}")
    button = page.locator("#execute-event")
    button.wait_for(state="visible", timeout=30_000)
    button.click()
    page.wait_for_url(JOB_URL_RE, timeout=30_000)
    match = JOB_URL_RE.match(page.url)
    assert match, page.url
    return match.group(1)


# -- live-log latency ----------------------------------------------------------

LATENCY_LINES = 20
LATENCY_INTERVAL_S = 0.3
# The first line waits a second, so that it is printed after the job page is
# on screen (lines printed before that are left out, and counted).
LATENCY_SCRIPT = f"""import time
time.sleep(1)
for i in range({LATENCY_LINES}):
    print(f"tick {{i}} {{time.time():.6f}}", flush=True)
    time.sleep({LATENCY_INTERVAL_S})
"""
_TICK_RE = re.compile(r"^tick (\d+) (\d+\.\d+)$")

# Installed with context.add_init_script: runs in every page before the app.
LOG_OBSERVER_JS = r"""
(() => {
  if (window.__croniumSeenInstalled) return;
  window.__croniumSeenInstalled = true;
  window.__seen = [];
  window.__logReadyAt = null;
  const known = new Set();
  const now = () => performance.timeOrigin + performance.now();
  const take = (el, t) => {
    const seq = el.getAttribute('data-seq');
    const textEl = el.querySelector('.log-text');
    const text = (textEl ? textEl.textContent : el.textContent) || '';
    const key = seq + '|' + text;
    if (known.has(key)) return;
    known.add(key);
    const entry = {seq: Number(seq), text: text, stream: el.getAttribute('data-stream'), insertedAt: t, visibleAt: null};
    window.__seen.push(entry);
    requestAnimationFrame(() => { entry.visibleAt = now(); });
  };
  const visit = (node, t) => {
    if (node.nodeType !== 1) return;
    if (!window.__logReadyAt && (node.id === 'log-lines' || node.querySelector('#log-lines'))) {
      window.__logReadyAt = t;
    }
    if (node.matches('[data-testid="log-line"]')) take(node, t);
    node.querySelectorAll('[data-testid="log-line"]').forEach((el) => take(el, t));
  };
  const observer = new MutationObserver((records) => {
    const t = now();
    for (const record of records) {
      if (record.type === 'childList') {
        record.addedNodes.forEach((node) => visit(node, t));
      } else {
        const el = record.target.nodeType === 1 ? record.target : record.target.parentElement;
        const row = el && el.closest('[data-testid="log-line"]');
        if (row) take(row, t);
      }
    }
  });
  const start = () => observer.observe(document.documentElement, {
    childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ['data-seq'],
  });
  if (document.documentElement) start(); else document.addEventListener('DOMContentLoaded', start);
})();
"""


def percentile(values: list[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class LatencyResult:
    job_id: str
    samples_ms: list[float] = field(default_factory=list)  # per line, in print order
    lines_seen: int = 0
    printed_before_page: int = 0  # printed before the log viewer was on screen: left out

    @property
    def p50_ms(self) -> float:
        return percentile(self.samples_ms, 50)

    @property
    def p95_ms(self) -> float:
        return percentile(self.samples_ms, 95)

    @property
    def max_ms(self) -> float:
        return max(self.samples_ms) if self.samples_ms else math.nan

    def as_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "lines_expected": LATENCY_LINES,
            "lines_seen": self.lines_seen,
            "lines_measured": len(self.samples_ms),
            "printed_before_page": self.printed_before_page,
            "p50_ms": round(self.p50_ms, 1),
            "p95_ms": round(self.p95_ms, 1),
            "max_ms": round(self.max_ms, 1),
            "samples_ms": [round(v, 1) for v in self.samples_ms],
        }


def latency_from_seen(job_id: str, seen: list[dict[str, Any]], log_ready_at: float | None) -> LatencyResult:
    result = LatencyResult(job_id=job_id)
    by_index: dict[int, tuple[float, float]] = {}
    for entry in seen:
        match = _TICK_RE.match((entry.get("text") or "").strip())
        if not match:
            continue
        index, printed_ms = int(match.group(1)), float(match.group(2)) * 1000
        visible = entry.get("visibleAt") or entry.get("insertedAt")
        if index not in by_index:
            by_index[index] = (printed_ms, visible)
    result.lines_seen = len(by_index)
    for index in sorted(by_index):
        printed_ms, visible_ms = by_index[index]
        if log_ready_at is not None and printed_ms < log_ready_at:
            result.printed_before_page += 1
            continue
        result.samples_ms.append(visible_ms - printed_ms)
    return result


def measure_live_log_latency(page, base_url: str, event_id: int, timeout_s: float = 90) -> LatencyResult:
    """Execute the event (its script must be LATENCY_SCRIPT) from its page and
    time every line from print to paint. The page's context must have
    LOG_OBSERVER_JS installed (context.add_init_script) before the page opened."""
    job_id = execute_from_event_page(page, base_url, event_id)
    deadline = time.monotonic() + timeout_s
    page.locator("#job-status[data-status=completed]").wait_for(timeout=timeout_s * 1000)
    # The last poll may land a moment after the status.
    remaining = max(1.0, deadline - time.monotonic())
    page.wait_for_function(
        f"() => window.__seen && window.__seen.filter(e => e.visibleAt && /^tick /.test(e.text)).length >= {LATENCY_LINES}",
        timeout=remaining * 1000,
    )
    seen = page.evaluate("window.__seen")
    ready = page.evaluate("window.__logReadyAt")
    return latency_from_seen(job_id, seen, ready)
