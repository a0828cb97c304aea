"""The browser terminal as a user sees it, against a real sshd on
127.0.0.2: open it from the Servers page, type a command and see its
output, resize the window and see the PTY's size change, paste, copy,
close; someone else's server gives no terminal. Screenshots at 1280 and
390 px."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import SCREENSHOT_DIR, layout_problems
from tests.support import ui_flows
from tests.support.clients import team_workspace
from tests.support.sshd import SshdHosts

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SIZE_RE = re.compile(r"size-(\d+)x(\d+)")
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def sshd() -> Iterator[SshdHosts]:
    # Port 2230: the other sshd tests use 2222-2228.
    with SshdHosts(count=1, permit_tty=True) as hosts:
        yield hosts


def add_server(user, sshd: SshdHosts, name: str) -> dict:
    reply = user.http.post("/api/v1/servers", json={
        "name": name, "host": sshd.addresses[0], "port": sshd.port, "username": sshd.user,
        "authType": "key", "privateKey": sshd.private_key, "hostKey": sshd.host_key,
    })
    assert reply.status_code == 201, reply.text
    return reply.json()


def screen_text(page: Page) -> str:
    return page.locator("#terminal .xterm-rows").inner_text()


def type_line(page: Page, line: str) -> None:
    page.locator("#terminal .xterm").click()
    page.keyboard.type(line)
    page.keyboard.press("Enter")


def pty_size(page: Page, sizes_seen: int) -> tuple[int, int]:
    """Ask the shell for its size; (rows, cols) of the answer number
    `sizes_seen + 1` on screen."""
    type_line(page, "echo size-$(stty size | tr ' ' x)")
    page.wait_for_function(
        "([n]) => (document.querySelector('#terminal .xterm-rows').innerText.match(/size-\\d+x\\d+/g) || []).length > n",
        arg=[sizes_seen], timeout=20_000,
    )
    rows, cols = SIZE_RE.findall(screen_text(page))[sizes_seen]
    return int(rows), int(cols)


def open_terminal(page: Page, app_url: str, email: str, server_name: str, servers_shot: str = "") -> None:
    """From the Servers page (shot as `servers_shot` when named)."""
    ui_flows.login(page, app_url, email)
    page.goto("/servers")
    row = page.locator(f"[data-testid=server-row][data-name='{server_name}']")
    expect(row.locator("[data-testid=open-terminal]")).to_be_visible()
    if servers_shot:
        assert layout_problems(page) == []
        page.screenshot(path=str(SCREENSHOT_DIR / servers_shot), full_page=True)
    row.locator("[data-testid=open-terminal]").click()
    page.wait_for_url(re.compile(r".*/servers/\d+/terminal/?$"))
    expect(page.locator("#page-title")).to_have_text(server_name)
    expect(page.locator("#terminal-status")).to_have_attribute("data-status", "open", timeout=30_000)


def test_type_a_command_resize_paste_and_close(new_context, app_url, make_api_user, sshd):
    user = make_api_user()
    add_server(user, sshd, "shell-box")
    context = new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    open_terminal(page, app_url, user.user["email"], "shell-box")
    expect(page.locator("#terminal-address")).to_have_text(f"{sshd.user}@{sshd.addresses[0]}:{sshd.port}")

    type_line(page, "echo hello-$((6*7))")
    expect(page.locator("#terminal .xterm-rows")).to_contain_text("hello-42")

    rows, cols = pty_size(page, 0)
    assert cols > 80 and rows >= 10, (rows, cols)  # fitted to the page, not the 80x24 default
    assert layout_problems(page) == []
    page.screenshot(path=str(SCREENSHOT_DIR / "terminal-1280.png"))
    page.set_viewport_size({"width": 900, "height": 600})
    page.wait_for_timeout(500)
    smaller = pty_size(page, 1)
    assert smaller[1] < cols and smaller[0] < rows, (smaller, (rows, cols))

    # Paste: the browser's paste event (Ctrl+Shift+V) becomes input.
    page.evaluate("navigator.clipboard.writeText('echo pasted-$((2+3))')")
    page.locator("#terminal .xterm").click()
    page.keyboard.press("Control+Shift+V")
    page.keyboard.press("Enter")
    expect(page.locator("#terminal .xterm-rows")).to_contain_text("pasted-5")

    # Copy: the first rows selected with the mouse (a drag: a double click
    # on the first row selects nothing when that row is empty, as a login
    # banner's first row may be), Ctrl+Shift+C puts them on the clipboard.
    # The page writes it asynchronously: wait for it.
    page.evaluate("navigator.clipboard.writeText('')")
    page.locator("#terminal .xterm").click()
    screen = page.locator("#terminal .xterm-screen").bounding_box()
    page.mouse.move(screen["x"] + 2, screen["y"] + 2)
    page.mouse.down()
    page.mouse.move(screen["x"] + 300, screen["y"] + 80, steps=5)
    page.mouse.up()
    page.keyboard.press("Control+Shift+C")
    deadline = time.monotonic() + 10
    while not (copied := page.evaluate("navigator.clipboard.readText()")).strip():
        assert time.monotonic() < deadline, "nothing was copied"
        page.wait_for_timeout(100)
    words = lambda text: " ".join(text.split())  # noqa: E731 (xterm shows spaces as U+00A0)
    assert words(copied) in words(screen_text(page)), (copied, screen_text(page))

    page.locator("#terminal-close").click()
    expect(page.locator("#terminal-status")).to_have_attribute("data-status", "closed")
    expect(page.locator("#terminal-closed")).to_contain_text("you closed the terminal")
    expect(page.locator("#terminal-reconnect")).to_be_visible()


def test_the_shell_ending_says_so_and_connect_again_works(page, app_url, make_api_user, sshd):
    user = make_api_user()
    add_server(user, sshd, "exit-box")
    open_terminal(page, app_url, user.user["email"], "exit-box")
    type_line(page, "exit 7")
    expect(page.locator("#terminal-closed")).to_contain_text("the shell ended (exit status 7)")
    page.locator("#terminal-reconnect").click()
    expect(page.locator("#terminal-status")).to_have_attribute("data-status", "open", timeout=30_000)
    type_line(page, "echo again-$((1+1))")
    expect(page.locator("#terminal .xterm-rows")).to_contain_text("again-2")


def test_the_terminal_on_a_phone(new_context, app_url, make_api_user, sshd):
    user = make_api_user()
    add_server(user, sshd, "phone-box")
    page = new_context(viewport=PHONE).new_page()
    open_terminal(page, app_url, user.user["email"], "phone-box", servers_shot="servers-with-terminal-390.png")
    type_line(page, "echo hello-$((6*7))")
    expect(page.locator("#terminal .xterm-rows")).to_contain_text("hello-42")
    assert layout_problems(page) == []
    page.screenshot(path=str(SCREENSHOT_DIR / "terminal-390.png"), full_page=True)


def test_someone_elses_server_gives_no_terminal(page, app_url, make_api_user, sshd):
    owner = make_api_user()
    theirs = add_server(owner, sshd, "not-yours")
    stranger = make_api_user()
    ui_flows.login(page, app_url, stranger.user["email"])
    page.goto(f"/servers/{theirs['id']}/terminal")
    expect(page.locator("#terminal-not-found")).to_be_visible()
    expect(page.locator("#terminal")).to_have_count(0)
    expect(page.locator(".xterm")).to_have_count(0)


def test_a_viewer_of_the_servers_workspace_gets_no_terminal(page, app_url, make_api_user, sshd):
    """The viewer sees the team's server in the list, without the terminal's
    action, and the terminal's address answers as for a server that does not exist."""
    owner, viewer = make_api_user(), make_api_user()
    team_name = f"ops-{secrets.token_hex(3)}"
    _, owner_team = team_workspace(owner, team_name, {"viewer": viewer})
    made = owner_team.post("/api/v1/servers", json={
        "name": "team-box", "host": sshd.addresses[0], "port": sshd.port, "username": sshd.user,
        "authType": "key", "privateKey": sshd.private_key, "hostKey": sshd.host_key,
    })
    assert made.status_code == 201, made.text
    ui_flows.login(page, app_url, viewer.user["email"])
    ui_flows.switch_workspace(page, team_name)
    page.goto("/servers")
    row = page.locator("[data-testid=server-row][data-name='team-box']")
    expect(row).to_be_visible(timeout=30_000)
    expect(row.locator("[data-testid=open-terminal]")).to_have_count(0)
    page.goto(f"/servers/{made.json()['id']}/terminal")
    expect(page.locator("#terminal-not-found")).to_be_visible(timeout=30_000)
    expect(page.locator(".xterm")).to_have_count(0)

