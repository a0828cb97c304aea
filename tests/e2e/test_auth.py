"""Signing in and out: a wrong password gets a clear message, the session
survives a reload, logout ends it (on a wide screen and from the phone menu),
and the page's scripts never see the session cookie (HttpOnly)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from cronium_app.auth.sessions import SESSION_COOKIE
from tests.support import ui_flows
from tests.support.browser import PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def test_wrong_password_then_sign_in_reload_and_log_out(new_context, app_url, make_api_user):
    user = make_api_user()
    email = user.user["email"]
    page = new_context().new_page()

    page.goto("/login")
    page.locator("#email-input").fill(email)
    page.locator("#password-input").fill("not the password")
    page.locator("#submit").click()
    error = page.locator("#form-error")
    expect(error).to_be_visible()
    expect(error).to_have_text("Wrong email or password.")
    assert page.url.rstrip("/").endswith("/login")
    expect(page.locator("#email-input")).to_have_value(email)

    page.locator("#password-input").fill(ui_flows.PASSWORD)
    page.locator("#submit").click()
    page.wait_for_url(f"{app_url}/")
    expect(page.locator("#page-title")).to_have_text("Dashboard")
    expect(page.locator("#user-email")).to_have_text(email)

    # The session survives a reload, here and on another page.
    page.reload()
    expect(page.locator("#page-title")).to_have_text("Dashboard")
    expect(page.locator("#user-email")).to_have_text(email)
    page.locator("#nav-events").click()
    page.wait_for_url(f"{app_url}/events")
    page.reload()
    expect(page.locator("#page-title")).to_have_text("Events")
    assert page.url.rstrip("/").endswith("/events")

    page.locator("#logout").click()
    page.wait_for_url(re.compile(r".*/login/?$"))
    expect(page.locator("#submit")).to_have_text("Sign in")
    # Signed out for good: the pages send you to /login, even after a reload.
    page.goto("/")
    page.wait_for_url(re.compile(r".*/login/?$"))
    page.reload()
    page.wait_for_url(re.compile(r".*/login/?$"))
    expect(page.locator("#user-email")).to_have_count(0)


def test_sign_in_returns_to_the_page_asked_for(new_context, app_url, make_api_user):
    user = make_api_user()
    page = new_context().new_page()
    page.goto("/jobs")
    page.wait_for_url(re.compile(r".*/login/?\?next=%2Fjobs(%2F)?$"))
    _fill_sign_in_form(page, user.user["email"])
    page.wait_for_url(re.compile(r".*/jobs/?$"))
    expect(page.locator("#page-title")).to_have_text("Jobs")


def test_page_scripts_never_see_the_session_cookie(new_context, app_url, make_api_user):
    user = make_api_user()
    context = new_context()
    page = context.new_page()
    ui_flows.login(page, app_url, user.user["email"])

    [cookie] = [c for c in context.cookies() if c["name"] == SESSION_COOKIE]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["value"]
    visible = page.evaluate("document.cookie")
    assert SESSION_COOKIE not in visible
    assert cookie["value"] not in visible

    # Still signed in after a reload: the server reads the cookie itself.
    page.reload()
    expect(page.locator("#user-email")).to_have_text(user.user["email"])
    assert SESSION_COOKIE not in page.evaluate("document.cookie")

    page.locator("#logout").click()
    page.wait_for_url(re.compile(r".*/login/?$"))
    expect(page.locator("#submit")).to_have_text("Sign in")
    assert [c for c in context.cookies() if c["name"] == SESSION_COOKIE] == []
    page.goto("/jobs")
    page.wait_for_url(re.compile(r".*/login/?\?next=%2Fjobs(%2F)?$"))


def test_sign_in_ignores_a_next_page_on_another_site(new_context, app_url, make_api_user):
    user = make_api_user()
    page = new_context().new_page()
    page.goto("/login?next=%2F%09%2Fexample.com")
    _fill_sign_in_form(page, user.user["email"])
    page.wait_for_url(f"{app_url}/")
    expect(page.locator("#page-title")).to_have_text("Dashboard")


def _fill_sign_in_form(page, email: str) -> None:
    """Fill the sign-in form already on screen."""
    page.locator("#email-input").fill(email)
    page.locator("#password-input").fill(ui_flows.PASSWORD)
    page.locator("#submit").click()


def test_phone_menu_and_log_out(new_context, app_url, make_api_user):
    user = make_api_user()
    page = new_context(viewport=PHONE).new_page()
    ui_flows.login(page, app_url, user.user["email"])
    expect(page.locator("#sidebar")).to_be_hidden()
    expect(page.locator("#mobile-nav")).to_have_count(0)
    page.locator("#nav-toggle").click()
    menu = page.locator("#mobile-nav")
    expect(menu).to_be_visible()
    expect(menu.locator("#user-email")).to_have_text(user.user["email"])
    menu.locator("#nav-jobs").click()
    page.wait_for_url(f"{app_url}/jobs")
    expect(page.locator("#mobile-nav")).to_have_count(0)  # the menu closes on navigation
    page.locator("#nav-toggle").click()
    page.locator("#mobile-nav #logout").click()
    page.wait_for_url(re.compile(r".*/login/?$"))
    page.goto("/jobs")
    page.wait_for_url(re.compile(r".*/login/?\?next=%2Fjobs(%2F)?$"))
