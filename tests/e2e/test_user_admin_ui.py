"""Instance user administration in the browser: the Users page (screenshots
at 1280x800 and 390x844, test-output/screenshots/e2e/users-*.png), an
invitation link accepted in another browser, a reset link used, and a
disabled user's open live job page and API token stopping within a second
of the admin's click."""

from __future__ import annotations

import re
import time
from datetime import datetime

import httpx
import pytest
from playwright.sync_api import Page, expect

from cronium_app.auth.sessions import SESSION_COOKIE
from tests.e2e.helpers import layout_problems
from tests.support import ui_flows
from tests.support.browser import DESKTOP, PHONE
from tests.support.clients import UserClient

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

NEW_PASSWORD = "a brand new passphrase"
LOGIN_URL = re.compile(r".*/login/?(\?.*)?$")
DASHBOARD_URL = re.compile(r".*:\d+/?$")
# Prints a line every 0.2 s for a minute: the job page keeps polling its log.
CHATTY_SCRIPT = "import time\nfor i in range(300):\n    print(f'line {i}', flush=True)\n    time.sleep(0.2)\n"


def signed_in_page(new_context, api_url: str, app_url: str, user: UserClient, **context_args) -> Page:
    """A page in a fresh context holding the user's session cookie, from the
    sign-in API (what the login form does, without racing the page's scripts
    on a loaded machine)."""
    response = httpx.post(f"{api_url}/api/session", json={"email": user.user["email"], "password": ui_flows.PASSWORD})
    assert response.status_code == 200, response.text
    context = new_context(**context_args)
    context.add_cookies([{"name": SESSION_COOKIE, "value": response.cookies[SESSION_COOKIE], "url": app_url}])
    return context.new_page()


def open_users(page: Page, app_url: str, q: str = "") -> None:
    page.goto(f"{app_url}/users")
    expect(page.locator("#users-table")).to_be_visible(timeout=30_000)
    if q:
        page.locator("#users-search").fill(q)
        expect(page.locator("[data-testid=user-row]")).to_have_count(1, timeout=15_000)


def user_row(page: Page, email: str):
    return page.locator(f"[data-testid=user-row][data-email='{email}']")


def row_action(page: Page, email: str, action: str) -> None:
    user_row(page, email).locator("[data-testid=user-actions]").click()
    page.locator(f"[data-testid={action}]").click()


def made_link(page: Page) -> str:
    expect(page.locator("#link-dialog")).to_be_visible(timeout=15_000)
    url = page.locator("#made-link").input_value()
    assert url.startswith("http"), url
    return url


def test_the_users_page_shows_accounts_and_the_admin_link(new_context, app_url, api_url, admin, make_api_user,
                                                          screenshot_dir):
    other = make_api_user()
    page = signed_in_page(new_context, api_url, app_url, admin, viewport=DESKTOP)
    open_users(page, app_url)
    expect(page.locator("#nav-users").first).to_be_attached()
    page.locator("#users-search").fill(other.user["email"])
    row = user_row(page, other.user["email"])
    expect(row).to_have_count(1)
    expect(row.locator("[data-testid=user-status]")).to_have_attribute("data-status", "active")
    expect(row.locator("[data-testid=user-role]").first).to_have_attribute("data-role", "user")
    # Cleared, the search lists every account again (oldest first, 50 a page:
    # the admin made just now may be on a later page of a shared database).
    page.locator("#users-search").fill("")
    expect(page.locator("[data-testid=user-row]").nth(1)).to_be_attached()
    page.locator("#users-search").fill(admin.user["email"])
    expect(user_row(page, admin.user["email"])).to_have_count(1)
    assert layout_problems(page) == []
    page.screenshot(path=str(screenshot_dir / "users-1280.png"), full_page=True)
    phone = signed_in_page(new_context, api_url, app_url, admin, viewport=PHONE)
    open_users(phone, app_url)
    assert layout_problems(phone) == []
    phone.screenshot(path=str(screenshot_dir / "users-390.png"), full_page=True)


def test_a_user_who_is_not_an_admin_sees_neither_the_page_nor_its_link(new_context, app_url, api_url, make_api_user):
    user = make_api_user()
    page = signed_in_page(new_context, api_url, app_url, user)
    page.goto(f"{app_url}/users")
    expect(page.locator("#users-forbidden")).to_be_visible(timeout=30_000)
    expect(page.locator("#users-table")).to_have_count(0)
    expect(page.locator("#nav-users")).to_have_count(0)


def test_an_invitation_link_opened_in_another_browser_creates_the_account(new_context, app_url, api_url, admin,
                                                                          screenshot_dir):
    page = signed_in_page(new_context, api_url, app_url, admin)
    open_users(page, app_url)
    invited = f"invited-{time.time_ns()}@example.com"
    page.locator("#open-invite").click()
    page.locator("#invite-email").fill(invited)
    page.locator("#invite-submit").click()
    url = made_link(page)
    page.screenshot(path=str(screenshot_dir / "users-invite-link-1280.png"))
    page.locator("#link-done").click()
    expect(page.locator(f"[data-testid=invitation-row][data-email='{invited}']")).to_be_visible()

    for viewport, name in ((PHONE, "390"), (DESKTOP, "1280")):
        guest = new_context(viewport=viewport).new_page()
        guest.goto(url)
        expect(guest.locator("#link-email")).to_have_text(invited, timeout=30_000)
        assert layout_problems(guest) == []
        guest.screenshot(path=str(screenshot_dir / f"users-invite-page-{name}.png"), full_page=True)
    guest.locator("#password-input").fill(NEW_PASSWORD)
    guest.locator("#confirm-input").fill(NEW_PASSWORD)
    guest.locator("#submit").click()
    guest.wait_for_url(DASHBOARD_URL, timeout=30_000)
    expect(guest.locator("#user-email").first).to_have_text(invited)

    # The link works once: opened again, it says so in words.
    again = new_context().new_page()
    again.goto(url)
    expect(again.locator("#link-refused")).to_contain_text("used already", timeout=30_000)
    again.screenshot(path=str(screenshot_dir / "users-invite-used-1280.png"))
    page.reload()
    page.locator("#users-search").fill(invited)
    expect(user_row(page, invited)).to_have_count(1)
    expect(page.locator(f"[data-testid=invitation-row][data-email='{invited}']")).to_have_count(0)


def test_a_reset_link_sets_a_new_password(new_context, app_url, api_url, admin, make_api_user, screenshot_dir):
    user = make_api_user()
    page = signed_in_page(new_context, api_url, app_url, admin)
    open_users(page, app_url, q=user.user["email"])
    row_action(page, user.user["email"], "reset-link")
    url = made_link(page)
    for viewport, name in ((PHONE, "390"), (DESKTOP, "1280")):
        guest = new_context(viewport=viewport).new_page()
        guest.goto(url)
        expect(guest.locator("#link-email")).to_have_text(user.user["email"], timeout=30_000)
        assert layout_problems(guest) == []
        guest.screenshot(path=str(screenshot_dir / f"users-reset-page-{name}.png"), full_page=True)
    guest.locator("#password-input").fill(NEW_PASSWORD)
    guest.locator("#confirm-input").fill(NEW_PASSWORD)
    guest.locator("#submit").click()
    guest.wait_for_url(DASHBOARD_URL, timeout=30_000)
    login = lambda password: httpx.post(f"{api_url}/api/v1/auth/login",  # noqa: E731
                                        json={"email": user.user["email"], "password": password})
    assert login(ui_flows.PASSWORD).status_code == 401
    assert login(NEW_PASSWORD).status_code == 200


# Run in the user's tab before the app's scripts: when the page starts to
# unload (the reload an ended session gets), the epoch time goes to
# sessionStorage, which the reloaded tab still has.
UNLOAD_STAMP_JS = """window.addEventListener('beforeunload', () => {
  if (!sessionStorage.getItem('unloadAt')) sessionStorage.setItem('unloadAt', String(performance.timeOrigin + performance.now()));
});"""


def epoch_ms(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000


def test_a_disabled_users_open_job_page_and_token_stop_within_a_second(new_context, app_url, api_url, admin,
                                                                        make_api_user, e2e_worker):
    user = make_api_user()
    event = user.create_event(name="chatty", type="python", script=CHATTY_SCRIPT, timeoutSeconds=120)
    job_id = user.execute(event["id"])

    watcher = signed_in_page(new_context, api_url, app_url, user)
    watcher.context.add_init_script(UNLOAD_STAMP_JS)
    watcher.goto(f"{app_url}/jobs/{job_id}")
    expect(watcher.locator("[data-testid=log-line]").first).to_be_visible(timeout=60_000)

    page = signed_in_page(new_context, api_url, app_url, admin)
    open_users(page, app_url, q=user.user["email"])
    row_action(page, user.user["email"], "disable-user")
    expect(page.locator("#confirm-user")).to_be_visible()
    clicked_ms = time.time() * 1000
    page.locator("#confirm-user-confirm").click()
    # The job page stops following its log and reloads, to /login.
    watcher.wait_for_url(LOGIN_URL, timeout=15_000)
    unloaded_ms = float(watcher.evaluate("() => sessionStorage.getItem('unloadAt')"))
    disabled = admin.http.get(f"/api/v1/users/{user.user['id']}").json()["user"]
    stopped_after_ms = unloaded_ms - epoch_ms(disabled["disabledAt"])
    print(f"the disabled user's job page stopped {stopped_after_ms:.0f} ms after the account was disabled "
          f"({unloaded_ms - clicked_ms:.0f} ms after the admin's click)")
    assert 0 < stopped_after_ms < 1000, stopped_after_ms
    assert user.http.get("/api/v1/events").status_code == 401
    expect(user_row(page, user.user["email"]).locator("[data-testid=user-status]")).to_have_attribute(
        "data-status", "disabled")
    # Signing in again says why not.
    watcher.locator("#email-input").fill(user.user["email"])
    watcher.locator("#password-input").fill(ui_flows.PASSWORD)
    expect(watcher.locator("#submit")).to_be_enabled()
    watcher.wait_for_timeout(1000)  # the form's scripts run (a click before them posts the form natively)
    watcher.locator("#submit").click()
    expect(watcher.locator("#form-error")).to_contain_text("disabled", timeout=15_000)
