"""Single sign-on in real Chromium: the login page's "Sign in with ..."
button → the provider's sign-in page (a real OpenID provider on 127.0.0.1,
tests/support/oidc_provider.py) → back on the dashboard, signed in; a
refusal told in words on the login page; the Users page saying how each
account signs in. Screenshots at 1280x800 and 390x844 in
test-output/screenshots/e2e/oidc-*.png.

The app here is one of its own (single sign-on is configured at start),
on a database of its own: its first account, made by single sign-on, is
its administrator."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import layout_problems
from tests.support.browser import DESKTOP, PHONE
from tests.support.databases import migrated_database
from tests.support.oidc_provider import Provider, running_provider
from tests.support.ui_server import UIServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

LABEL = "Example ID"
ADMINS = "cronium-admins"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture(scope="module")
def sso_ui(chromium_available, provider) -> Iterator[UIServer]:
    env = {
        "CRONIUM_OIDC_ISSUER": provider.issuer,
        "CRONIUM_OIDC_CLIENT_ID": "cronium-e2e",
        "CRONIUM_OIDC_CLIENT_SECRET": secrets.token_hex(16),
        "CRONIUM_OIDC_ROLE_CLAIM": "groups",
        "CRONIUM_OIDC_ADMIN_VALUES": ADMINS,
        "CRONIUM_OIDC_LABEL": LABEL,
    }
    with migrated_database("cronium_e2e_oidc") as url, UIServer(database_url=url, env_overrides=env) as server:
        yield server


@pytest.fixture
def open_page(browser, sso_ui, page_problems) -> Iterator:
    contexts = []

    def factory(viewport: dict[str, int]) -> Page:
        context = browser.new_context(viewport=viewport, base_url=sso_ui.browser_url)
        context.set_default_timeout(30_000)
        context.on("page", page_problems.watch)
        contexts.append(context)
        return context.new_page()

    yield factory
    for context in contexts:
        context.close()
    assert not page_problems.dialogs and not page_problems.errors, page_problems


def sign_on(page: Page, app_url: str, sub: str, shot: str) -> None:
    """From the login page through the provider's page to the dashboard."""
    page.goto(f"{app_url}/login")
    button = page.locator("#sso-sign-in")
    expect(button).to_have_text(f"Sign in with {LABEL}")
    page.wait_for_timeout(300)
    page.screenshot(path=f"{shot}-login.png", full_page=True)
    assert not layout_problems(page)
    button.click()
    page.wait_for_url(re.compile(r"http://127\.0\.0\.1:\d+/oauth2/authorize\?.*"))
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{app_url}/", timeout=30_000)


def test_the_sso_button_signs_in_through_the_provider_to_the_dashboard(
    open_page, sso_ui, provider, screenshot_dir
):
    email = f"sso-admin-{secrets.token_hex(4)}@example.com"
    provider.set_claims("e2e-admin", email=email, email_verified=True, groups=[ADMINS])
    page = open_page(DESKTOP)
    sign_on(page, sso_ui.browser_url, "e2e-admin", str(screenshot_dir / "oidc-1280"))
    expect(page.get_by_text(email).first).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "oidc-1280-dashboard.png"), full_page=True)
    # The Users page says how each account signs in.
    page.goto(f"{sso_ui.browser_url}/users")
    row = page.locator(f"[data-testid=user-row][data-email='{email}']")
    expect(row.locator("[data-testid=user-sign-in]")).to_have_text("SSO")
    expect(row.locator("[data-testid=user-role]").first).to_have_attribute("data-role", "admin")
    page.screenshot(path=str(screenshot_dir / "oidc-1280-users.png"), full_page=True)


def test_on_a_phone_too(open_page, sso_ui, provider, screenshot_dir):
    email = f"sso-phone-{secrets.token_hex(4)}@example.com"
    provider.set_claims("e2e-phone", email=email, email_verified=True, groups=[])
    page = open_page(PHONE)
    sign_on(page, sso_ui.browser_url, "e2e-phone", str(screenshot_dir / "oidc-390"))
    page.screenshot(path=str(screenshot_dir / "oidc-390-dashboard.png"), full_page=True)
    assert not layout_problems(page)


def test_a_refused_sign_on_is_told_in_words_on_the_login_page(open_page, sso_ui, provider, screenshot_dir):
    # An unverified email cannot make an account.
    provider.set_claims("e2e-unverified", email="unverified@example.com", email_verified=False)
    page = open_page(DESKTOP)
    page.goto(f"{sso_ui.browser_url}/login")
    page.locator("#sso-sign-in").click()
    page.locator("input[name=sub]").fill("e2e-unverified")
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(r".*/login/?\?sso_error=no_verified_email$"))
    expect(page.locator("#form-error")).to_contain_text("did not give a verified email address")
    page.screenshot(path=str(screenshot_dir / "oidc-1280-refused.png"), full_page=True)
