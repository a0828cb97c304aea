"""The account's security in the browser: a password form submitted before
the page's scripts run never puts the password in a URL; changing the
password keeps this browser signed in and ends every other session at its
next click; signing out everywhere ends them all (and the API tokens, when
asked)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.support import ui_flows

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

NEW_PASSWORD = "a brand new passphrase"
LOGIN_URL = re.compile(r".*/login/?(\?.*)?$")


def _watch_urls(context) -> list[str]:
    urls: list[str] = []
    context.on("request", lambda request: urls.append(f"{request.method} {request.url}"))
    return urls


@pytest.mark.parametrize(("path", "form", "fields"), [
    ("/login", "#login-form", ("#email-input", "#password-input")),
    ("/register", "#register-form", ("#email-input", "#password-input", "#confirm-input")),
])
def test_a_password_form_submitted_before_the_scripts_run_keeps_the_password_out_of_urls(
    new_context, app_url, path, form, fields
):
    # Without JavaScript the page stays as the server sent it: the state of
    # a page whose scripts have not started yet.
    context = new_context(java_script_enabled=False)
    urls = _watch_urls(context)
    page = context.new_page()
    page.goto(path)
    expect(page.locator(form)).to_have_attribute("method", "post")
    secret = "native-submit-secret-42"
    page.locator(fields[0]).fill("early@example.com")
    for selector in fields[1:]:
        page.locator(selector).fill(secret)
    with page.expect_navigation():
        page.locator("#submit").click()
    assert page.url.rstrip("/").endswith(path), page.url
    assert any(url.startswith("POST ") and "/api/session/early-submit" in url for url in urls), urls
    assert not [url for url in urls if secret in url or "early%40example.com" in url], urls


def test_the_settings_password_form_posts_if_it_is_ever_submitted_natively(new_context, app_url, make_api_user):
    user = make_api_user()
    page = new_context().new_page()
    ui_flows.login(page, app_url, user.user["email"])
    page.goto("/settings")
    form = page.locator("#password-form")
    expect(form).to_have_attribute("method", "post")
    expect(form).to_have_attribute("action", re.compile(r"/api/session/early-submit"))


def _change_password(page, current: str, new: str, confirm: str | None = None) -> None:
    page.locator("#current-password").fill(current)
    page.locator("#new-password").fill(new)
    page.locator("#confirm-password").fill(confirm if confirm is not None else new)
    page.locator("#change-password").click()


def _two_browsers(new_context, app_url: str, email: str):
    """Two browsers (contexts of their own) signed in as `email`."""
    pages = [new_context().new_page() for _ in range(2)]
    for page in pages:
        ui_flows.login(page, app_url, email)
    return pages


def _token_names(api_url: str, token: str) -> list[str]:
    response = httpx.get(f"{api_url}/api/v1/tokens", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def test_changing_the_password_keeps_this_browser_and_ends_the_others_at_their_next_click(
    new_context, app_url, api_url, make_api_user
):
    user = make_api_user()
    email = user.user["email"]
    here, elsewhere = _two_browsers(new_context, app_url, email)
    elsewhere.goto("/settings")
    expect(elsewhere.locator("#token-name")).to_be_visible()

    here.goto("/settings")
    _change_password(here, "not the password", NEW_PASSWORD)
    expect(here.locator("#error-current_password")).to_have_text("The current password is wrong.")
    _change_password(here, ui_flows.PASSWORD, NEW_PASSWORD, confirm="something else")
    expect(here.locator("#error-confirm_password")).to_be_visible()
    _change_password(here, ui_flows.PASSWORD, NEW_PASSWORD)
    expect(here.locator("#password-changed")).to_be_visible()
    expect(here.locator("#user-email")).to_have_text(email)
    here.reload()
    expect(here.locator("#user-email")).to_have_text(email)

    # The other browser's page is still on screen; its next click is refused.
    elsewhere.locator("#token-name").fill("made after the change")
    elsewhere.locator("#create-token").click()
    elsewhere.wait_for_url(LOGIN_URL)
    assert "made after the change" not in _token_names(api_url, user.token)
    # The API token still works; the new password signs in, the old one does not.
    ui_flows.login(elsewhere, app_url, email, NEW_PASSWORD)
    expect(elsewhere.locator("#user-email")).to_have_text(email)


def test_sign_out_everywhere_ends_every_session_and_can_revoke_the_api_tokens(
    new_context, app_url, api_url, make_api_user
):
    user = make_api_user()
    email = user.user["email"]
    here, elsewhere = _two_browsers(new_context, app_url, email)
    elsewhere.goto("/events")
    expect(elsewhere.locator("#page-title")).to_have_text("Events")

    here.goto("/settings")
    here.locator("#sign-out-everywhere").click()
    dialog = here.locator("#sign-out-all-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("#revoke-tokens-too").click()
    here.locator("#sign-out-all-confirm").click()
    here.wait_for_url(LOGIN_URL)

    # A click in the other browser (a link: no page load, one websocket event).
    elsewhere.locator("#nav-jobs").click()
    elsewhere.wait_for_url(LOGIN_URL)
    response = httpx.get(f"{api_url}/api/v1/events", headers={"Authorization": f"Bearer {user.token}"})
    assert response.status_code == 401
    # Signing in again works.
    ui_flows.login(here, app_url, email)
    expect(here.locator("#user-email")).to_have_text(email)


def test_a_token_limited_to_mcp_is_made_on_the_settings_page(new_context, app_url, api_url, make_api_user,
                                                             screenshot_dir):
    user = make_api_user()
    page = new_context().new_page()
    ui_flows.login(page, app_url, user.user["email"])
    page.goto("/settings")
    page.locator("#token-name").fill("claude desktop")
    page.locator("#token-mcp-only").click()
    page.locator("#create-token").click()
    expect(page.locator("#new-token")).to_be_visible()
    token = page.locator("#new-token").inner_text().strip()
    row = page.locator('[data-testid="token-row"]', has_text="claude desktop")
    expect(row.locator('[data-testid="token-mcp-only"]')).to_have_text("MCP only")
    # It acts in the tab's workspace (the personal one) as its owner.
    expect(row.locator('[data-testid="token-workspace"]')).to_contain_text("Personal")
    expect(row.locator('[data-testid="token-role"]')).to_have_text("owner")
    page.screenshot(path=str(screenshot_dir / "settings-token-mcp-only.png"), full_page=True)
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{api_url}/api/v1/events", headers=headers).status_code == 403
    ping = httpx.post(f"{api_url}/api/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
                      headers={**headers, "Accept": "application/json, text/event-stream"})
    assert ping.status_code == 200 and ping.json()["result"] == {}
    # The box is cleared for the next token, which has full access.
    expect(page.locator("#token-mcp-only")).not_to_be_checked()
