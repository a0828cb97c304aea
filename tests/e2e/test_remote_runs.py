"""A job on several SSH servers, as a user sees it: the event editor shows
which servers the event targets, and the job page shows every server's
result (a partial job in orange) and the log lines labelled per server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import SCREENSHOT_DIR, wait_api_job, wait_job_status
from tests.support import ui_flows
from tests.support.sshd import SshdHosts

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def sshd() -> Iterator[SshdHosts]:
    with SshdHosts(count=2) as hosts:
        yield hosts


def test_a_partial_job_on_two_servers_in_the_ui(new_context, app_url, make_api_user, sshd):
    user = make_api_user()
    servers = []
    for index, name in enumerate(("web-1", "web-2")):
        reply = user.http.post("/api/v1/servers", json={
            "name": name, "host": sshd.addresses[index], "port": sshd.port, "username": sshd.user,
            "authType": "key", "privateKey": sshd.private_key,
        })
        assert reply.status_code == 201, reply.text
        servers.append(reply.json())
    script = f'set -- $SSH_CONNECTION; echo "hello from $3"; [ "$3" = {sshd.addresses[0]} ] || exit 4'
    event = user.create_event(name="Deploy check", script=script, serverIds=[s["id"] for s in servers])
    job_id = user.execute(event["id"])
    assert wait_api_job(user, job_id)["status"] == "partial"

    page = new_context().new_page()
    ui_flows.login(page, app_url, user.user["email"])
    page.goto(f"/jobs/{job_id}")
    wait_job_status(page, "partial")
    card = page.locator("#job-servers-card")
    expect(card).to_be_visible()
    expect(card.get_by_role("row", name="web-1")).to_contain_text("completed")
    expect(card.get_by_role("row", name="web-2")).to_contain_text("failed")
    expect(card.get_by_role("row", name="web-2")).to_contain_text("4")
    expect(page.locator("[data-testid=log-line]", has_text=f"[web-1] hello from {sshd.addresses[0]}")).to_be_visible()
    expect(page.locator("[data-testid=log-line]", has_text=f"[web-2] hello from {sshd.addresses[1]}")).to_be_visible()
    page.screenshot(path=str(SCREENSHOT_DIR / "job-partial-servers-1280.png"), full_page=True)

    page.goto(f"/events/{event['id']}")
    expect(page.locator("#target-servers")).to_be_visible()
    for server in servers:
        expect(page.locator(f"#target-{server['id']}")).to_have_attribute("data-state", "checked")
    page.screenshot(path=str(SCREENSHOT_DIR / "event-editor-targets-1280.png"), full_page=True)

    # Untick one server and save: the event now targets the other only.
    page.locator(f"#target-{servers[1]['id']}").click()
    page.locator("#save-event").click()
    expect(page.locator("#save-event")).to_be_enabled()
    page.wait_for_function(
        "() => document.body.innerText.includes('Saved.')", timeout=20_000
    )
    assert user.http.get(f"/api/v1/events/{event['id']}").json()["serverIds"] == [servers[0]["id"]]
