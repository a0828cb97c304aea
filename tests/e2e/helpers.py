"""Small steps and checks the e2e tests share."""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import Page, expect

from tests.support.app_server import REPO_ROOT
from cronium_app.jobs.status import TERMINAL
from tests.support.clients import UserClient

OUTPUT_DIR = REPO_ROOT / "test-output"
SCREENSHOT_DIR = OUTPUT_DIR / "screenshots" / "e2e"

STAT_KEYS = ("pending", "running", "completedToday", "failedToday")  # ids: #stat-<key>
EVENT_URL_RE = re.compile(r".*/events/(\d+)/?$")


def stat_value(page: Page, key: str, timeout_ms: float = 20_000) -> int:
    """The number a stat card shows, once the card has loaded (a card shows
    a skeleton until the first counts arrive)."""
    selector = f"#stat-{key} [data-testid=stat-value]"
    page.wait_for_function(
        """(sel) => { const el = document.querySelector(sel);
                      return el && !el.closest('.rt-Skeleton') && !el.classList.contains('rt-Skeleton')
                             && /^[0-9,]+$/.test(el.textContent.trim()); }""",
        arg=selector,
        timeout=timeout_ms,
    )
    return int(page.locator(selector).inner_text().strip().replace(",", ""))


def expect_stat(page: Page, key: str, value: int, timeout_ms: float = 20_000) -> None:
    """The card shows `value` (formatted with thousands separators), without a reload."""
    expect(page.locator(f"#stat-{key} [data-testid=stat-value]")).to_have_text(f"{value:,}", timeout=timeout_ms)


def type_script(page: Page, script: str) -> None:
    """Replace the CodeMirror editor's text, as a person pasting it would."""
    editor = page.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(script)


def create_event_in_editor(page: Page, name: str, script: str, kind: str = "python") -> int:
    """Fill /events/new and create the event; returns its id (the page ends on /events/{id})."""
    page.goto("/events/new")
    page.locator("#field-name").fill(name)
    if kind != "python":
        page.locator("#field-kind").click()
        page.get_by_role("option", name={"bash": "Bash", "node": "Node.js", "http": "HTTP"}[kind]).click()
    type_script(page, script)
    page.locator("#save-event").click()
    page.wait_for_url(EVENT_URL_RE, timeout=30_000)
    match = EVENT_URL_RE.match(page.url)
    assert match, page.url
    expect(page.locator("#page-title")).to_have_text(name)
    return int(match.group(1))


def wait_job_status(page: Page, status: str, timeout_ms: float = 60_000) -> None:
    expect(page.locator("#job-status")).to_have_attribute("data-status", status, timeout=timeout_ms)


def log_lines(page: Page) -> list[dict[str, Any]]:
    """The log rows on screen: seq, stream, the marker shown and the text."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('[data-testid=log-line]')).map((row) => ({
              seq: Number(row.getAttribute('data-seq')),
              stream: row.getAttribute('data-stream'),
              tag: (row.querySelector('.log-tag') || {}).innerText || '',
              text: (row.querySelector('.log-text') || row).innerText,
           }))"""
    )


def wait_api_job(user: UserClient, job_id: str, statuses=TERMINAL, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    job = user.job(job_id)
    while job["status"] not in statuses:
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']} after {timeout_s}s"
        time.sleep(0.2)
        job = user.job(job_id)
    return job


def api_cancel(user: UserClient, job_id: str) -> None:
    response = user.http.post(f"/api/v1/jobs/{job_id}/cancel")
    assert response.status_code in (200, 202, 409), response.text


# -- layout checks for the screenshots -------------------------------------------

FORBIDDEN_WORDS = ("TODO", "lorem", "placeholder")

_LAYOUT_JS = r"""
(words) => {
  const doc = document.documentElement;
  const width = window.innerWidth;
  const culprits = [];
  if (doc.scrollWidth > width) {
    for (const el of document.body.querySelectorAll('*')) {
      const box = el.getBoundingClientRect();
      if (box.width > 0 && box.right > width + 1) {
        const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
          + (el.getAttribute('data-testid') ? `[data-testid=${el.getAttribute('data-testid')}]` : '');
        culprits.push(`${name} right=${Math.round(box.right)} text=${JSON.stringify((el.innerText || '').slice(0, 40))}`);
        if (culprits.length >= 8) break;
      }
    }
  }
  const text = document.body.innerText;
  const found = words.filter((w) => new RegExp('\\b' + w + '\\b', 'i').test(text));
  return {scrollWidth: doc.scrollWidth, innerWidth: width, culprits, found};
}
"""


def layout_problems(page: Page) -> list[str]:
    """Horizontal overflow of the viewport, and words that must not show."""
    report = page.evaluate(_LAYOUT_JS, list(FORBIDDEN_WORDS))
    problems = []
    if report["scrollWidth"] > report["innerWidth"]:
        problems.append(
            f"the page is wider than the viewport ({report['scrollWidth']} > {report['innerWidth']} px): "
            + "; ".join(report["culprits"])
        )
    if report["found"]:
        problems.append(f"the page says {report['found']}")
    return problems
