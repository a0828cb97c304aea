"""The browser terminal's websocket (/api/terminal/{server_id}) against the
real app over HTTP and a real sshd on 127.0.0.2: who may open one (a UI
session, the app's own origin, a server of the caller's own or of a
workspace where the caller is owner or editor; a runner or a viewer gets
none, and losing the role closes an open terminal), a command's output,
resize reaching the PTY, the idle timeout, the bound on open terminals,
oversized frames, a session that ends closing the terminal, host key
pinning, and no secret ever sent to the browser."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.support.app_server import AppServer
from tests.support.clients import UserClient, register_user, session_cookie, team_workspace
from tests.support.sshd import SshdHosts

pytestmark = pytest.mark.timeout(300)

IDLE_S = 6
MAX_OPEN = 2
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def sshd() -> Iterator[SshdHosts]:
    with SshdHosts(count=1, permit_tty=True) as hosts:
        yield hosts


@pytest.fixture(scope="module")
def terminal_app(app_db_url: str) -> Iterator[AppServer]:
    env = {
        "CRONIUM_TERMINAL_IDLE_SECONDS": str(IDLE_S),
        "CRONIUM_TERMINAL_MAX_PER_USER": str(MAX_OPEN),
        "CRONIUM_TERMINAL_RECHECK_SECONDS": "0.5",
    }
    with AppServer(database_url=app_db_url, env_overrides=env) as server:
        yield server


@dataclass
class Browser:
    """A signed-in user as their browser is: the UI session cookie, the
    app's origin, and an API client for setting things up."""

    app: AppServer
    api: UserClient
    cookie: str
    origin: str = field(init=False)

    def __post_init__(self) -> None:
        self.origin = f"http://localhost:{self.app.port}"

    def url(self, server_id: int | str, **query: Any) -> str:
        suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
        return f"ws://127.0.0.1:{self.app.port}/api/terminal/{server_id}{suffix}"

    def open(self, server_id: int | str, *, origin: str | None = None, cookie: str | None = None, **query: Any):
        headers = {"Cookie": f"cronium_session={self.cookie if cookie is None else cookie}"}
        return connect(self.url(server_id, **query), origin=origin or self.origin, additional_headers=headers)


def sign_in(app: AppServer) -> Browser:
    api = register_user(app.url, email=f"term-{secrets.token_hex(5)}@example.com", password=PASSWORD)
    return Browser(app, api, session_cookie(app.url, api.user["email"], PASSWORD))


@pytest.fixture
def browser(terminal_app) -> Iterator[Browser]:
    made = sign_in(terminal_app)
    yield made
    made.api.http.close()


def add_server(browser: Browser, sshd: SshdHosts, **fields: Any) -> dict[str, Any]:
    body = {
        "name": f"term-{uuid.uuid4().hex[:6]}", "host": sshd.addresses[0], "port": sshd.port,
        "username": sshd.user, "authType": "key", "privateKey": sshd.private_key, "hostKey": sshd.host_key,
    }
    body.update({k: v for k, v in fields.items()})
    response = browser.api.http.post("/api/v1/servers", json={k: v for k, v in body.items() if v is not None})
    assert response.status_code == 201, response.text
    return response.json()


@dataclass
class Screen:
    """What the terminal received: the output bytes and the JSON status messages."""

    output: bytearray = field(default_factory=bytearray)
    status: list[dict[str, Any]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.output.decode("utf-8", "replace")


async def read_until(ws: ClientConnection, screen: Screen, wanted: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while wanted not in screen.text:
        left = deadline - time.monotonic()
        assert left > 0, f"{wanted!r} never came; the terminal showed {screen.text[-500:]!r}"
        frame = await asyncio.wait_for(ws.recv(), left)
        if isinstance(frame, bytes):
            screen.output += frame
        else:
            screen.status.append(json.loads(frame))


async def read_to_close(ws: ClientConnection, screen: Screen, timeout: float = 15) -> tuple[int, str]:
    """Every frame until the app closes: (close code, close reason)."""
    try:
        async with asyncio.timeout(timeout):
            async for frame in ws:
                if isinstance(frame, bytes):
                    screen.output += frame
                else:
                    screen.status.append(json.loads(frame))
    except ConnectionClosed:
        pass  # closed with an application code: the iteration raises
    except TimeoutError:
        raise AssertionError(f"the terminal stayed open; it showed {screen.text[-300:]!r}") from None
    assert ws.close_code is not None
    return ws.close_code, ws.close_reason or ""


async def shell_ready(ws: ClientConnection, screen: Screen) -> None:
    """The app says ready, and the shell answers."""
    marker = f"ready-{secrets.token_hex(3)}"
    while not screen.status:
        frame = await asyncio.wait_for(ws.recv(), 20)
        if isinstance(frame, bytes):
            screen.output += frame
        else:
            screen.status.append(json.loads(frame))
    assert screen.status[0]["type"] == "ready", screen.status
    await ws.send(f"echo {marker[:6]}''{marker[6:]}\n".encode())
    await read_until(ws, screen, marker)


def in_terminal(browser: Browser, server_id: int | str, steps, *, ready: bool = True, **open_args: Any):
    """Open a terminal (by default waiting for its shell), run `steps(ws,
    screen)` in it: (what the steps returned, the screen)."""

    async def scenario():
        screen = Screen()
        async with browser.open(server_id, **open_args) as ws:
            if ready:
                await shell_ready(ws, screen)
            return await steps(ws, screen), screen

    return asyncio.run(scenario())


def refusal(browser: Browser, server_id: int | str, **open_args: Any) -> tuple[tuple[int, str], Screen]:
    """A terminal the app closes before any shell: ((code, reason), screen)."""
    return in_terminal(browser, server_id, read_to_close, ready=False, **open_args)


def typed(*inputs: bytes | str, until: str | None = None, close: bool = False):
    """Steps: send each input, then read until `until` shows, or to the close."""

    async def steps(ws: ClientConnection, screen: Screen):
        for item in inputs:
            await ws.send(item)
        if until is not None:
            await read_until(ws, screen, until, timeout=30)
        if close:
            return await read_to_close(ws, screen)
        return None

    return steps


# -- who may open a terminal ------------------------------------------------------------


def test_without_a_session_the_terminal_closes_saying_sign_in(browser, sshd):
    server = add_server(browser, sshd)
    assert refusal(browser, server["id"], cookie="")[0] == (4401, "sign in to open a terminal")


def test_a_forged_session_is_refused_like_none(browser, sshd):
    server = add_server(browser, sshd)
    assert refusal(browser, server["id"], cookie=browser.cookie[:-4] + "AAAA")[0][0] == 4401


@pytest.mark.parametrize("origin", ["http://evil.example", "http://localhost:1", "null"])
def test_another_origin_is_refused_before_the_handshake(browser, sshd, origin):
    server = add_server(browser, sshd)
    with pytest.raises(InvalidStatus) as refused:
        refusal(browser, server["id"], origin=origin)
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("server_id", ["0", "2147483648", "99999999999999999999999", "abc", "-1"])
def test_a_server_id_out_of_range_is_refused_not_a_failure(browser, server_id):
    with pytest.raises(InvalidStatus) as refused:
        refusal(browser, server_id)
    assert refused.value.response.status_code == 403


def test_a_server_id_that_does_not_exist_is_not_found(browser):
    (code, reason), _ = refusal(browser, 2147483647)
    assert (code, reason) == (4404, "server 2147483647 not found")


def test_another_users_server_is_not_found(browser, terminal_app, sshd):
    other = sign_in(terminal_app)
    theirs = add_server(other, sshd)
    (code, reason), _ = refusal(browser, theirs["id"])
    assert code == 4404 and reason == f"server {theirs['id']} not found"
    other.api.http.close()


@dataclass
class TeamServer:
    """A server in a team workspace whose members each sign in."""

    server_id: int
    owner_team: httpx.Client
    members: dict[str, Browser]

    def member_id(self, role: str) -> int:
        email = self.members[role].api.user["email"]
        listed = self.owner_team.get("/api/v1/workspace/members").json()["items"]
        return next(m["userId"] for m in listed if m["email"] == email)

    def close(self) -> None:
        self.owner_team.close()
        for member in self.members.values():
            member.api.http.close()


@pytest.fixture
def team_server(browser, terminal_app, sshd) -> Iterator[TeamServer]:
    """`browser` owns a team workspace with an editor, a runner and a viewer,
    and a server in it."""
    members = {role: sign_in(terminal_app) for role in ("editor", "runner", "viewer")}
    _workspace_id, owner_team = team_workspace(
        browser.api, f"Ops {secrets.token_hex(3)}", {role: member.api for role, member in members.items()})
    made = owner_team.post("/api/v1/servers", json={
        "name": f"team-{uuid.uuid4().hex[:6]}", "host": sshd.addresses[0], "port": sshd.port, "username": sshd.user,
        "authType": "key", "privateKey": sshd.private_key, "hostKey": sshd.host_key})
    assert made.status_code == 201, made.text
    team = TeamServer(made.json()["id"], owner_team, members)
    yield team
    team.close()


@pytest.mark.parametrize("role", ["runner", "viewer"])
def test_a_runner_or_a_viewer_of_the_servers_workspace_gets_no_terminal(team_server, role):
    (code, reason), _ = refusal(team_server.members[role], team_server.server_id)
    assert (code, reason) == (4404, f"server {team_server.server_id} not found")


def test_an_editor_of_the_servers_workspace_gets_a_terminal(team_server, browser):
    steps = typed(b"echo team-$((6*7))\n", until="team-42")
    in_terminal(team_server.members["editor"], team_server.server_id, steps)
    in_terminal(browser, team_server.server_id, steps)  # the owner too


def test_a_team_servers_terminal_session_is_audited_in_that_workspace(team_server):
    """The entry names the server's workspace (where a workspace's token
    reads the log), not the personal one of whoever opened it."""
    editor = team_server.members["editor"]
    in_terminal(editor, team_server.server_id, typed(b"echo audit-$((6*7))\n", until="audit-42"))
    response = editor.api.http.get("/api/v1/audit", params={"action": "server.terminal", "limit": 10})
    assert response.status_code == 200, response.text
    entries = [e for e in response.json()["items"] if e["target"]["id"] == str(team_server.server_id)]
    team_id = team_server.owner_team.get("/api/v1/workspace").json()["id"]
    assert [e["workspaceId"] for e in entries] == [team_id]


@pytest.mark.parametrize("change", ["lowered to runner", "removed"])
def test_an_editor_who_loses_the_role_loses_the_open_terminal(team_server, change):
    member_id = team_server.member_id("editor")

    async def steps(ws: ClientConnection, screen: Screen):
        path = f"/api/v1/workspace/members/{member_id}"
        if change == "removed":
            response = await asyncio.to_thread(team_server.owner_team.delete, path)
        else:
            response = await asyncio.to_thread(team_server.owner_team.put, path, json={"role": "runner"})
        assert response.status_code in (200, 204), response.text
        return await read_to_close(ws, screen, timeout=10)

    ended, _ = in_terminal(team_server.members["editor"], team_server.server_id, steps)
    assert ended == (4401, "you may no longer open a terminal on this server")


# -- the shell --------------------------------------------------------------------------


def test_a_command_shows_its_output(browser, sshd):
    server = add_server(browser, sshd)
    steps = typed(b"echo hello-$((6*7)); echo TERM=$TERM\n", until="TERM=xterm-256color")
    _, screen = in_terminal(browser, server["id"], steps)
    assert "hello-42" in screen.text


def test_the_shell_ending_closes_the_terminal_with_its_status(browser, sshd):
    server = add_server(browser, sshd)
    ended, _ = in_terminal(browser, server["id"], typed(b"exit 3\n", close=True))
    assert ended == (1000, "the shell ended (exit status 3)")


def test_each_session_is_one_audit_entry_with_its_duration_and_nothing_typed(browser, sshd):
    server = add_server(browser, sshd)
    secret_word = f"typed-{secrets.token_hex(4)}"
    in_terminal(browser, server["id"], typed(f"echo {secret_word}\n".encode(), until=secret_word))
    response = browser.api.http.get("/api/v1/audit", params={"action": "server.terminal", "limit": 10})
    assert response.status_code == 200, response.text
    entries = [e for e in response.json()["items"] if e["target"]["id"] == str(server["id"])]
    assert len(entries) == 1, entries
    entry = entries[0]
    assert entry["actor"]["email"] == browser.api.user["email"] and entry["source"] == "ui"
    assert entry["target"]["label"] == server["name"]
    changes = entry["changes"]
    assert changes["duration_s"]["after"] >= 0 and changes["bytes_out"]["after"] > 0
    assert changes["reason"]["after"]
    assert secret_word not in json.dumps(entry)


def test_resize_reaches_the_pty(browser, sshd):
    server = add_server(browser, sshd)
    stty = b"echo size-$(stty size | tr ' ' x)\n"

    async def steps(ws: ClientConnection, screen: Screen):
        await typed(stty, until="size-20x90")(ws, screen)
        await typed(json.dumps({"type": "resize", "cols": 132, "rows": 43}), stty, until="size-43x132")(ws, screen)

    in_terminal(browser, server["id"], steps, cols=90, rows=20)


@pytest.mark.parametrize(
    "message, words",
    [
        ("not json", "must be JSON"),
        (json.dumps({"type": "resize", "cols": 0, "rows": 10}), "resize needs"),
        (json.dumps({"type": "resize", "cols": "80", "rows": 24}), "resize needs"),
        (json.dumps({"type": "resize", "cols": 100_000, "rows": 24}), "resize needs"),
        (json.dumps({"type": "exec", "command": "id"}), "the only control message"),
        ("x" * 5000, "limited to 1024 bytes"),
    ],
)
def test_a_bad_control_message_closes_with_the_reason(browser, sshd, message, words):
    server = add_server(browser, sshd)
    (code, reason), _ = in_terminal(browser, server["id"], typed(message, close=True))
    assert code in (4400, 4413) and words in reason


def test_an_input_frame_over_64_kib_is_refused(browser, sshd):
    server = add_server(browser, sshd)
    ended, _ = in_terminal(browser, server["id"], typed(b"a" * (64 * 1024 + 1), close=True))
    assert ended == (4413, "input frames are limited to 64 KiB")


def test_a_large_paste_within_the_bound_goes_through(browser, sshd):
    server = add_server(browser, sshd)
    paste = f"echo {'p' * 60_000} | wc -c | sed 's/^/count-/'\n".encode()
    in_terminal(browser, server["id"], typed(paste, until="count-60001"))


# -- limits and endings --------------------------------------------------------------------


def test_the_idle_timeout_closes_the_terminal_and_says_why(browser, sshd):
    server = add_server(browser, sshd)

    async def steps(ws: ClientConnection, screen: Screen):
        # Output alone does not count as activity.
        await ws.send(b"while true; do echo tick; sleep 1; done\n")
        started = time.monotonic()
        ended = await read_to_close(ws, screen, timeout=IDLE_S + 10)
        return ended, time.monotonic() - started

    ((code, reason), waited), screen = in_terminal(browser, server["id"], steps)
    assert (code, reason) == (4408, f"closed after {IDLE_S} seconds without input")
    assert IDLE_S - 1.5 <= waited <= IDLE_S + 3
    assert screen.status[-1] == {"type": "closed", "code": 4408, "reason": reason}


def test_open_terminals_per_user_are_bounded(browser, sshd):
    server = add_server(browser, sshd)

    async def scenario():
        async with browser.open(server["id"]) as one, browser.open(server["id"]) as two:
            await shell_ready(one, Screen())
            await shell_ready(two, Screen())
            async with browser.open(server["id"]) as three:
                refused = await read_to_close(three, Screen())
            await one.close()
            # A slot is free again once a terminal closed.
            await asyncio.sleep(1)
            async with browser.open(server["id"]) as four:
                await shell_ready(four, Screen())
        return refused

    code, reason = asyncio.run(scenario())
    assert code == 4429 and reason == f"you have {MAX_OPEN} terminals open already: close one first"


def test_an_ended_session_closes_the_open_terminal(browser, sshd):
    """Changing the password ends every UI session of the account (as
    signing out everywhere and disabling the account do): the terminal
    opened with one closes within the recheck interval."""
    server = add_server(browser, sshd)
    change = {"currentPassword": PASSWORD, "newPassword": "another horse battery"}

    async def steps(ws: ClientConnection, screen: Screen):
        response = await asyncio.to_thread(browser.api.http.post, "/api/v1/auth/password", json=change)
        assert response.status_code == 200, response.text
        started = time.monotonic()
        ended = await read_to_close(ws, screen, timeout=10)
        return ended, time.monotonic() - started

    (ended, waited), _ = in_terminal(browser, server["id"], steps)
    assert ended == (4401, "your session has ended: sign in again")
    assert waited < 2.5


def test_a_deleted_server_closes_its_terminal(browser, sshd):
    server = add_server(browser, sshd)

    async def steps(ws: ClientConnection, screen: Screen):
        response = await asyncio.to_thread(browser.api.http.delete, f"/api/v1/servers/{server['id']}")
        assert response.status_code == 204, response.text
        return await read_to_close(ws, screen, timeout=10)

    ended, _ = in_terminal(browser, server["id"], steps)
    assert ended == (4401, "you may no longer open a terminal on this server")


# -- the login: host keys and secrets --------------------------------------------------------


def test_the_first_terminal_pins_the_host_key(browser, sshd):
    server = add_server(browser, sshd, hostKey=None)
    assert server["hostKey"] is None
    in_terminal(browser, server["id"], typed())
    pinned = browser.api.http.get(f"/api/v1/servers/{server['id']}").json()["hostKey"]
    assert pinned == " ".join(sshd.host_key.split()[:2])


def test_a_changed_host_key_is_refused(browser, sshd):
    server = add_server(browser, sshd, hostKey=sshd.other_host_key)
    (code, _), screen = refusal(browser, server["id"])
    assert code == 4502 and "host key verification failed" in screen.status[-1]["reason"]


def test_a_wrong_password_says_so_and_no_secret_reaches_the_browser(browser, sshd):
    server = add_server(browser, sshd, authType="password", privateKey=None, password="not-the-password-x1")
    (code, _), screen = refusal(browser, server["id"])
    assert code == 4502 and "authentication failed" in screen.status[-1]["reason"]
    assert "not-the-password-x1" not in json.dumps(screen.status)


def test_password_login_opens_a_shell_without_sending_the_password(browser, sshd):
    server = add_server(browser, sshd, authType="password", privateKey=None, password=sshd.password)
    _, screen = in_terminal(browser, server["id"], typed(b"exit\n", close=True))
    everything = screen.text + json.dumps(screen.status)
    assert sshd.password not in everything and "PRIVATE KEY" not in everything
    assert [s["type"] for s in screen.status] == ["ready", "closed"]
