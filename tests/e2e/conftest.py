"""End-to-end tests: real Chromium against the whole app started as
`make run` starts it (UI and API on one port), a real worker and Docker.

Session-wide: one fresh migrated database, the app (tests/support/ui_server.py:
`reflex run --env prod --single-port --backend-port PORT`; the first run
builds the frontend, 1 to 3 minutes), one worker and one headless Chromium
(/usr/bin/chromium; skipped with the reason when it is missing; nothing is
installed at test time). Each test gets fresh browser contexts (so fresh
cookies: every test signs in as its own user).

Every page of every context fails its test when a JavaScript dialog opens
(alert/confirm/prompt: none should, and an injected <script> would) or an
uncaught error is thrown in it.

Screenshots go to test-output/screenshots/e2e/ (git-ignored); app and worker
logs to test-output/logs/.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from cronium_app.db import make_engine
from tests.e2e.helpers import SCREENSHOT_DIR
from tests.support.browser import DESKTOP, chromium_missing_reason, running_chromium
from tests.support.clients import UserClient, register_user
from tests.support.databases import migrated_database
from tests.support.receivers import HttpReceiver
from tests.support.ui_flows import PASSWORD
from tests.support.ui_server import UIServer
from tests.support.worker_process import WorkerProcess



@pytest.fixture(scope="session")
def chromium_available() -> None:
    reason = chromium_missing_reason()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def e2e_db_url(chromium_available) -> Iterator[str]:
    with migrated_database("cronium_e2e") as url:
        yield url


@pytest.fixture(scope="session")
def e2e_receiver() -> Iterator[HttpReceiver]:
    """A local stand-in for Slack's incoming webhooks (and any webhook)."""
    with HttpReceiver() as server:
        yield server


@pytest.fixture(scope="session")
def ui_server(e2e_db_url: str, e2e_receiver: HttpReceiver) -> Iterator[UIServer]:
    env = {"CRONIUM_SLACK_WEBHOOK_BASES": f"{e2e_receiver.url}/slack/", "CRONIUM_TOOL_ALLOW": "127.0.0.1"}
    with UIServer(database_url=e2e_db_url, env_overrides=env) as server:
        yield server


@pytest.fixture(scope="session")
def e2e_worker(ui_server: UIServer) -> Iterator[WorkerProcess]:
    with WorkerProcess(app_url=ui_server.url, concurrency=6, env_overrides={"CRONIUM_TOOL_ALLOW": "127.0.0.1"}) as worker:
        yield worker


@pytest.fixture(scope="session")
def app_url(ui_server: UIServer, e2e_worker: WorkerProcess) -> str:
    """Where the browser opens the app (the app and its worker are running)."""
    return ui_server.browser_url


@pytest.fixture(scope="session")
def api_url(ui_server: UIServer) -> str:
    return ui_server.url


@pytest.fixture(scope="session")
def browser(chromium_available):
    with running_chromium() as browser:
        yield browser


@dataclass
class PageProblems:
    """What went wrong in the pages of a test: dialogs and uncaught errors."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def watch(self, page) -> None:
        def on_dialog(dialog) -> None:
            self.dialogs.append(f"{dialog.type}: {dialog.message!r} on {page.url}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda error: self.errors.append(f"{error} on {page.url}"))


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def new_context(browser, app_url: str, page_problems: PageProblems) -> Iterator[Callable[..., object]]:
    """Factory: a fresh browser context (its own cookies); viewport defaults to 1280x800."""
    contexts = []

    def factory(viewport: dict[str, int] | None = None, **kwargs):
        context = browser.new_context(viewport=viewport or DESKTOP, base_url=app_url, **kwargs)
        context.set_default_timeout(20_000)
        context.on("page", page_problems.watch)
        contexts.append(context)
        return context

    yield factory
    for context in contexts:
        context.close()
    assert not page_problems.dialogs, f"a JavaScript dialog opened: {page_problems.dialogs}"
    assert not page_problems.errors, f"uncaught errors in the page: {page_problems.errors}"


@pytest.fixture
def page(new_context):
    """A page at 1280x800 in a fresh context."""
    return new_context().new_page()


@pytest.fixture
def make_api_user(api_url: str) -> Iterator[Callable[[], UserClient]]:
    """Factory: a new user registered through the API (email in .user["email"],
    password tests.support.ui_flows.PASSWORD) with an API token, for setting
    up events and jobs quickly; tests then sign in as them in the browser."""
    clients: list[UserClient] = []

    def factory() -> UserClient:
        client = register_user(api_url, email=f"e2e-{secrets.token_hex(5)}@example.com", password=PASSWORD)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.http.close()


@pytest.fixture
def admin(make_api_user, e2e_db_url: str) -> UserClient:
    """A user made an administrator (as CRONIUM_ADMIN_EMAIL would at start)."""
    user = make_api_user()
    engine = make_engine(e2e_db_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE users SET role = 'admin' WHERE id = :id"), {"id": user.user["id"]})
    finally:
        engine.dispose()
    return user


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR
