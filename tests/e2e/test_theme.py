"""Dark mode: the app follows the browser's prefers-color-scheme until the
user picks a theme; the pick is kept on the account, so it holds after a
reload and in another browser (a fresh context: no shared localStorage)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.support import ui_flows

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def expect_theme(page: Page, theme: str) -> None:
    """The page is drawn in `theme` (Reflex puts the resolved mode on <html>)."""
    expect(page.locator("html")).to_have_class(theme, timeout=10_000)
    assert page.evaluate("() => getComputedStyle(document.documentElement).colorScheme") == theme


def sign_in(new_context, app_url: str, email: str, scheme: str) -> Page:
    page = new_context(color_scheme=scheme).new_page()
    ui_flows.login(page, app_url, email)
    # Generous: the first page of a test session may wait on a cold app.
    page.locator("#sidebar #theme-switch").wait_for(state="visible", timeout=60_000)
    return page


def test_without_a_pick_the_page_follows_the_system(new_context, app_url, make_api_user):
    user = make_api_user()
    dark = sign_in(new_context, app_url, user.user["email"], "dark")
    expect_theme(dark, "dark")
    expect(dark.locator("#sidebar #theme-system")).to_have_attribute("data-state", "on")
    light = sign_in(new_context, app_url, user.user["email"], "light")
    expect_theme(light, "light")


def test_a_picked_theme_holds_after_a_reload_and_in_another_browser(new_context, app_url, make_api_user):
    user = make_api_user()
    page = sign_in(new_context, app_url, user.user["email"], "light")
    expect_theme(page, "light")
    page.locator("#sidebar #theme-dark").click()
    expect_theme(page, "dark")

    page.reload()
    page.locator("#sidebar #theme-switch").wait_for(state="visible")
    expect_theme(page, "dark")
    expect(page.locator("#sidebar #theme-dark")).to_have_attribute("data-state", "on")

    # Another browser whose system is light: the account's pick wins.
    elsewhere = sign_in(new_context, app_url, user.user["email"], "light")
    expect_theme(elsewhere, "dark")

    # Back to Auto: the system's light again.
    elsewhere.locator("#sidebar #theme-system").click()
    expect_theme(elsewhere, "light")
