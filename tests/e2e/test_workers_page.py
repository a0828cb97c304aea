"""The Workers page (/workers), as an administrator sees it: the session's
real worker with its Docker Engine and jobs, workers that drain, stopped and
went silent, a worker that appears while the page is open; nothing wider
than a phone. Others see neither the page nor its link. Screenshots at
1280x800 and 390x844 go to test-output/screenshots/e2e/workers-*.png."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from cronium_app.db import make_engine
from cronium_app.timeutil import utcnow
from tests.e2e.helpers import layout_problems
from tests.support import ui_flows
from tests.support.browser import DESKTOP, PHONE
from tests.support.clients import UserClient, WorkerClient

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


@pytest.fixture
def fake_workers(api_url: str, e2e_db_url: str) -> Iterator[dict[str, WorkerClient]]:
    """Workers that only send heartbeats: one draining with a container
    pool, one stopped; and one whose last heartbeat is an hour old."""
    workers = {name: WorkerClient(api_url, f"{name}-{secrets.token_hex(2)}") for name in ("draining", "stopped", "silent")}
    details = {"host": "worker-host-2", "engineVersion": "20.10.24", "engineHost": "docker-host-2", "concurrency": 16}
    beats = {
        "draining": {**details, "state": "draining", "pool": {"ready": 3, "target": 8}},
        "stopped": {**details, "state": "stopped"},
        "silent": {**details, "state": "running"},
    }
    for name, worker in workers.items():
        body = {"workerId": worker.worker_id, "jobs": [], "worker": beats[name]}
        assert worker.http.post("/api/internal/heartbeat", json=body).status_code == 200
    engine = make_engine(e2e_db_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text("UPDATE workers SET last_seen_at = :then WHERE id = :id"),
                {"then": utcnow() - timedelta(hours=1), "id": workers["silent"].worker_id},
            )
    finally:
        engine.dispose()
    yield workers
    for worker in workers.values():
        worker.http.close()


def open_workers(page: Page, app_url: str, user: UserClient) -> None:
    ui_flows.login(page, app_url, user.user["email"])
    page.goto(f"{app_url}/workers")


def row(page: Page, worker_id: str):
    return page.locator(f"[data-testid=worker-row][data-worker-id='{worker_id}']")


def test_an_admin_sees_every_worker_with_its_status(new_context, app_url, admin, fake_workers, e2e_worker, screenshot_dir):
    page = new_context(viewport=DESKTOP).new_page()
    open_workers(page, app_url, admin)

    real = row(page, e2e_worker.worker_id)
    expect(real.locator("[data-testid=worker-status]")).to_have_attribute("data-status", "online", timeout=30_000)
    expect(real.locator("[data-testid=worker-engine]")).to_contain_text("Docker ")
    # The session's worker may still hold a job of an earlier test: its count
    # of held jobs, out of its concurrency.
    expect(real.locator("[data-testid=worker-jobs]")).to_have_text(re.compile(r"^\d of 6$"))
    expected = {"draining": "draining", "stopped": "stopped", "silent": "gone"}
    for name, status in expected.items():
        expect(row(page, fake_workers[name].worker_id).locator("[data-testid=worker-status]")).to_have_attribute(
            "data-status", status
        )
    expect(row(page, fake_workers["draining"].worker_id).locator("[data-testid=worker-pool]")).to_have_text(
        "ready 3 · target 8"
    )
    expect(page.locator("#nav-workers")).to_be_visible()
    assert layout_problems(page) == []
    page.screenshot(path=str(screenshot_dir / "workers-1280x800.png"), full_page=True)


def test_a_worker_shows_up_while_the_page_is_open(new_context, app_url, admin, api_url):
    page = new_context(viewport=DESKTOP).new_page()
    open_workers(page, app_url, admin)
    expect(page.locator("#workers-table")).to_be_visible(timeout=30_000)
    newcomer = WorkerClient(api_url, f"newcomer-{secrets.token_hex(2)}")
    try:
        body = {"workerId": newcomer.worker_id, "jobs": [], "worker": {"host": "late-host", "concurrency": 2}}
        assert newcomer.http.post("/api/internal/heartbeat", json=body).status_code == 200
        expect(row(page, newcomer.worker_id).locator("[data-testid=worker-host]")).to_have_text("late-host", timeout=15_000)
    finally:
        newcomer.http.close()


def test_on_a_phone_the_page_fits(new_context, app_url, admin, fake_workers, e2e_worker, screenshot_dir):
    page = new_context(viewport=PHONE).new_page()
    open_workers(page, app_url, admin)
    expect(row(page, e2e_worker.worker_id)).to_be_visible(timeout=30_000)
    assert layout_problems(page) == []
    page.screenshot(path=str(screenshot_dir / "workers-390x844.png"), full_page=True)


def test_someone_who_is_not_an_admin_sees_neither_the_workers_nor_the_link(page, app_url, make_api_user):
    open_workers(page, app_url, make_api_user())
    expect(page.locator("#workers-forbidden")).to_be_visible(timeout=30_000)
    expect(page.locator("#workers-table")).to_have_count(0)
    expect(page.locator("#nav-workers")).to_have_count(0)
