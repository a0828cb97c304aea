"""The keyboard alone: a person who uses no mouse signs in, creates an event,
runs it, opens its job and cancels it (only keyboard.press / keyboard.type;
locators only read what has the focus). And the shortcuts: their list under
`?` (a dialog that keeps the focus and closes on Escape), `g j` / `g e` /
`g w`, `/`, `[` / `]`, none of them while typing in a field."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support import ui_flows
from tests.support.ui_flows import JOB_URL_RE, PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

LONG_SCRIPT = "import time\nprint('started', flush=True)\ntime.sleep(300)\n"


def tab_to(page: Page, selector: str, limit: int = 80, back: bool = False) -> None:
    """Press Tab (Shift+Tab with `back`) until the element matching
    `selector` has the focus, as a keyboard user moves through a page."""
    key = "Shift+Tab" if back else "Tab"
    for _ in range(limit):
        if page.evaluate("(sel) => Boolean(document.activeElement && document.activeElement.matches(sel))", selector):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{selector} never got the focus after {limit} presses of {key}")


def focused_is(page: Page, selector: str) -> bool:
    return page.evaluate("(sel) => Boolean(document.activeElement && document.activeElement.matches(sel))", selector)


def sign_in_by_keyboard(page: Page, email: str) -> None:
    page.goto("/login")
    expect(page.locator("#email-input")).to_be_focused()  # autofocus
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/$"), timeout=30_000)
    page.locator("#sidebar #nav-jobs").wait_for(state="attached")


def test_sign_in_create_run_open_and_cancel_with_the_keyboard_only(page, make_api_user):
    user = make_api_user()
    sign_in_by_keyboard(page, user.user["email"])

    # The skip link is the first stop, and lands in the page's main area.
    page.keyboard.press("Tab")
    expect(page.locator("#skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    # Events, then the "New event" link. (The shortcuts are the page's
    # scripts: they listen once its state has arrived.)
    page.locator("main[data-ready=true]").wait_for(state="attached", timeout=60_000)
    page.keyboard.press("g")
    page.keyboard.press("e")
    page.wait_for_url(re.compile(r".*/events$"))
    tab_to(page, "a[href='/events/new']")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/events/new$"))

    tab_to(page, "#field-name")
    page.keyboard.type("Keyboard only")
    tab_to(page, ".cm-content")
    page.keyboard.press("Control+A")
    page.keyboard.type(LONG_SCRIPT)
    # Tab indents inside the editor; Escape first lets Tab leave it.
    page.keyboard.press("Escape")
    tab_to(page, "#save-event-bottom")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/events/(\d+)$"), timeout=30_000)
    expect(page.locator("#page-title")).to_have_text("Keyboard only")

    # Run it: the `r` shortcut presses Execute (the focus is on no field).
    page.keyboard.press("r")
    page.wait_for_url(JOB_URL_RE, timeout=30_000)
    job_id = JOB_URL_RE.match(page.url).group(1)

    # Open the job from the jobs list.
    page.keyboard.press("g")
    page.keyboard.press("j")
    page.wait_for_url(re.compile(r".*/jobs$"))
    tab_to(page, f"a[href='/jobs/{job_id}']", limit=120)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf".*/jobs/{job_id}$"))
    expect(page.locator("#job-status")).to_have_attribute("data-status", "running", timeout=60_000)

    tab_to(page, "#cancel-job")
    page.keyboard.press("Enter")
    expect(page.locator("#job-status")).to_have_attribute("data-status", "cancelled", timeout=30_000)
    assert user.job(job_id)["status"] == "cancelled"


def test_question_mark_lists_the_shortcuts_in_a_dialog_that_keeps_the_focus(page, app_url, make_api_user):
    user = make_api_user()
    ui_flows.login(page, app_url, user.user["email"])
    page.locator("#sidebar #nav-jobs").wait_for(state="attached")
    page.keyboard.press("?")
    dialog = page.locator("#shortcuts-dialog")
    expect(dialog).to_be_visible()
    for text in ("Go to jobs", "Go to events", "Go to workflows", "Search this page's list", "Run the open event",
                 "Previous page of the list", "Next page of the list"):
        expect(dialog).to_contain_text(text)
    for _ in range(6):  # Tab and Shift+Tab never leave it
        page.keyboard.press("Tab")
        assert page.evaluate("() => Boolean(document.activeElement.closest('#shortcuts-dialog'))")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("() => Boolean(document.activeElement.closest('#shortcuts-dialog'))")
    # A shortcut does nothing while the dialog is open.
    page.keyboard.press("g")
    page.keyboard.press("j")
    page.wait_for_timeout(500)
    assert page.url.rstrip("/") == app_url.rstrip("/")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)


def test_go_to_search_and_page_shortcuts_and_none_while_typing(page, app_url, make_api_user):
    user = make_api_user()
    for index in range(23):  # two pages of events (20 a page)
        user.create_event(name=f"job {index:02d}")
    ui_flows.login(page, app_url, user.user["email"])
    page.locator("#sidebar #nav-jobs").wait_for(state="attached")

    page.keyboard.press("g")
    page.keyboard.press("w")
    page.wait_for_url(re.compile(r".*/workflows$"))
    page.keyboard.press("g")
    page.keyboard.press("e")
    page.wait_for_url(re.compile(r".*/events$"))
    expect(page.locator("#events-range")).to_contain_text("1")

    first_page = page.locator("[data-testid=event-link]").first.inner_text()
    page.keyboard.press("]")
    expect(page.locator("[data-testid=event-link]")).to_have_count(3)
    page.keyboard.press("[")
    expect(page.locator("[data-testid=event-link]")).to_have_count(20)
    assert page.locator("[data-testid=event-link]").first.inner_text() == first_page

    page.keyboard.press("/")
    assert focused_is(page, "#events-search")
    # Typed into the search box: "g", "j", "]" and "r" are text there.
    page.keyboard.type("gj]r")
    page.wait_for_timeout(500)
    assert page.url.endswith("/events")
    expect(page.locator("#events-search")).to_have_value("gj]r")
