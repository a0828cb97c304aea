"""/servers in the browser: add a server with a real key, the service's
message next to a bad field, a connection test against an address where
nothing listens, edit keeping the stored key, delete with confirmation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support import ui_flows
from tests.support.sshd import keygen

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

# Loopback, a port where nothing listens: the connection is refused at once.
DEAD_HOST, DEAD_PORT = "127.0.0.9", "9"


def _private_key(directory: Path) -> str:
    return keygen(directory / "id_ed25519")[0]


def _open_servers(new_context, make_api_user, app_url: str) -> Page:
    user = make_api_user()
    page = new_context().new_page()
    ui_flows.login(page, app_url, user.user["email"])
    page.locator("#sidebar #nav-servers").click()
    page.wait_for_url(re.compile(r".*/servers/?$"))
    expect(page.locator("#page-title")).to_have_text("Servers")
    return page


def _fill_server(page: Page, name: str, private_key: str) -> None:
    page.locator("#server-name").fill(name)
    page.locator("#server-host").fill(DEAD_HOST)
    page.locator("#server-port").fill(DEAD_PORT)
    page.locator("#server-username").fill("deploy")
    page.locator("#server-private-key").fill(private_key)
    page.locator("#server-tags").fill("web, eu-west")


def _row(page: Page, name: str):
    return page.locator(f"[data-testid=server-row][data-name='{name}']")


def _add_server(page: Page, name: str, private_key: str) -> None:
    page.locator("#new-server").first.click()
    expect(page.locator("#server-dialog")).to_be_visible()
    expect(page.locator("#server-port")).to_have_value("22")
    _fill_server(page, name, private_key)
    page.locator("#server-save").click()
    expect(page.locator("#server-dialog")).to_be_hidden()
    expect(_row(page, name)).to_be_visible()


def test_a_bad_private_key_is_explained_next_to_its_field(new_context, make_api_user, app_url):
    page = _open_servers(new_context, make_api_user, app_url)
    expect(page.locator("#servers-empty")).to_be_visible()
    page.locator("#new-server").click()
    _fill_server(page, "web-1", "this is not a key")
    page.locator("#server-save").click()

    message = page.locator("#server-dialog #error-privateKey")
    expect(message).to_contain_text("The private key could not be read")
    expect(page.locator("#server-private-key")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#server-dialog")).to_be_visible()

    page.locator("#server-private-key").fill("still not a key")
    expect(message).to_have_count(0)  # typing clears the message


def test_add_list_test_connection_and_delete_a_server(new_context, make_api_user, app_url, tmp_path):
    page = _open_servers(new_context, make_api_user, app_url)
    _add_server(page, "web-1", _private_key(tmp_path))

    row = _row(page, "web-1")
    expect(row.locator("[data-testid=server-address]")).to_have_text(f"deploy@{DEAD_HOST}:{DEAD_PORT}")
    expect(row).to_contain_text("Private key")
    expect(row.locator("[data-testid=server-tags]")).to_contain_text("web")
    expect(row.locator("[data-testid=server-tags]")).to_contain_text("eu-west")
    expect(row.locator("[data-testid=server-fingerprint]").first).to_have_text("not pinned yet")
    expect(row.locator("[data-testid=server-check]").first).to_have_attribute("data-check", "never")
    expect(page.locator("#servers-range")).to_have_text("1–1 of 1 server")

    # Nothing listens there: the test fails with the reason, in a toast and in the row.
    row.locator("[data-testid=test-server]").click()
    check = row.locator("[data-testid=server-check]").first
    expect(check).to_have_attribute("data-check", "failed", timeout=60_000)
    expect(row.locator("[data-testid=server-check-message]").first).to_contain_text("cannot connect")
    expect(page.locator("[data-sonner-toast][data-type=error]")).to_contain_text("cannot connect")

    # Edit: the credential fields come back empty and say so; the key is kept.
    row.locator("[data-testid=edit-server]").click()
    expect(page.locator("#server-name")).to_have_value("web-1")
    key_field = page.locator("#server-private-key")
    expect(key_field).to_have_value("")
    expect(key_field).to_have_attribute("placeholder", "Leave empty to keep the stored key")
    page.locator("#server-tags").fill("web")
    page.locator("#server-save").click()
    expect(page.locator("#server-dialog")).to_be_hidden()
    expect(row.locator("[data-testid=server-tags]")).not_to_contain_text("eu-west")

    # Delete, after a confirmation that names it.
    row.locator("[data-testid=server-menu]").click()
    page.locator("[data-testid=delete-server]").click()
    dialog = page.locator("#delete-dialog")
    expect(dialog).to_contain_text("web-1")
    page.locator("#delete-dialog-confirm").click()
    expect(dialog).to_be_hidden()
    expect(row).to_have_count(0)
    expect(page.locator("#servers-empty")).to_be_visible()


def test_search_and_tag_filter(new_context, make_api_user, app_url, tmp_path):
    page = _open_servers(new_context, make_api_user, app_url)
    key = _private_key(tmp_path)
    _add_server(page, "web-1", key)
    page.locator("#new-server").first.click()
    _fill_server(page, "db-1", key)
    page.locator("#server-tags").fill("db")
    page.locator("#server-save").click()
    expect(_row(page, "db-1")).to_be_visible()

    page.locator("#servers-search").fill("db")
    expect(page.locator("[data-testid=server-row]")).to_have_count(1)
    expect(_row(page, "db-1")).to_be_visible()
    page.locator("#servers-search").fill("")
    expect(page.locator("[data-testid=server-row]")).to_have_count(2)

    page.locator("#servers-tag-filter").click()
    page.get_by_role("option", name="web", exact=True).click()
    expect(page.locator("[data-testid=server-row]")).to_have_count(1)
    expect(_row(page, "web-1")).to_be_visible()
