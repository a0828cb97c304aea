"""Tools end to end: tool events run by the real worker against local
receivers that check each service's documented payload (Slack, Discord,
Teams, a signed webhook, email over STARTTLS with a login), the "test"
action, and tool credentials kept out of every reply and log."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
from collections.abc import Iterator

import pytest

from tests.integration.worker.jobkit import app_with
from tests.support.clients import UserClient, job_lines, register_user, wait_for_job
from tests.support.receivers import HttpReceiver, SmtpReceiver, self_signed_localhost
from tests.support.worker_process import WorkerProcess

SLACK_PATH = "/slack/services/T0000/B0000/slacksecrettoken123456"
DISCORD_PATH = "/discord/api/webhooks/123456789/discordsecrettoken1234567890"
TEAMS_PATH = "/teams/webhookb2/teamssecrettoken1234567890"
HOOK_PATH = "/hook/endpoint"
SIGNING_SECRET = "whsec-signing-secret-123"
HOOK_HEADER = "hook-header-secret-456"
SMTP_PASSWORD = "smtp-password-789"
ALLOW = "127.0.0.1,localhost"


@pytest.fixture(scope="module")
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as server:
        yield server


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return self_signed_localhost(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def smtp(certificate) -> Iterator[SmtpReceiver]:
    with SmtpReceiver(*certificate, password=SMTP_PASSWORD) as server:
        yield server


def tool_env(receiver: HttpReceiver, certificate) -> dict[str, str]:
    return {
        "CRONIUM_SLACK_WEBHOOK_BASES": f"{receiver.url}/slack/",
        "CRONIUM_DISCORD_WEBHOOK_BASES": f"{receiver.url}/discord/api/webhooks/",
        "CRONIUM_TEAMS_WEBHOOK_BASES": f"{receiver.url}/teams/",
        "CRONIUM_TOOL_ALLOW": ALLOW,
        "SSL_CERT_FILE": str(certificate[0]),
    }


@pytest.fixture(scope="module")
def tools_app(receiver, certificate):
    with app_with("cronium_tools_test", tool_env(receiver, certificate)) as server:
        yield server


@pytest.fixture(scope="module")
def tools_worker(tools_app, certificate) -> Iterator[WorkerProcess]:
    env = {"CRONIUM_TOOL_ALLOW": ALLOW, "SSL_CERT_FILE": str(certificate[0])}
    with WorkerProcess(tools_app.url, env_overrides=env) as worker:
        yield worker


@pytest.fixture(scope="module")
def owner(tools_app) -> Iterator[UserClient]:
    user = register_user(tools_app.url)
    yield user
    user.http.close()


def make_tool(user: UserClient, **body) -> dict:
    response = user.http.post("/api/v1/tools", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def run_tool_event(user: UserClient, tool: dict, fields: dict, input=None) -> dict:
    created = user.create_event(name="notify", type="tool", script="",
                                toolAction={"toolId": tool["id"], "fields": fields})
    job_id = user.execute(created["id"], **({"input": input} if input is not None else {}))
    return wait_for_job(user, job_id)


@pytest.fixture(scope="module")
def slack(owner, receiver) -> dict:
    return make_tool(owner, name="team slack", kind="slack", url=receiver.url + SLACK_PATH)


def test_a_slack_message_is_the_documented_json_with_the_rendered_text(tools_worker, owner, receiver, slack):
    owner.http.put("/api/v1/variables/region", json={"value": "north"})
    owner.http.put("/api/v1/variables/db.password", json={"value": "hunter2-very-secret", "secret": True})
    event = owner.create_event(name="orders", type="tool", script="", toolAction={
        "toolId": slack["id"],
        "fields": {"text": "{{ input.count }} orders in {{ variables.region }} for {{ event.name }} "
                           "({{ variables['db.password'] }})"},
    })
    job = wait_for_job(owner, owner.execute(event["id"], input={"count": 12}))
    assert job["status"] == "completed", job
    got = receiver.wait_for(SLACK_PATH)[-1]
    assert got.method == "POST" and got.headers["Content-Type"] == "application/json"
    assert got.json() == {"text": "12 orders in north for orders (hunter2-very-secret)"}
    assert job["output"]["status"] == 200
    log = "\n".join(line["line"] for line in job_lines(owner, job["id"]))
    assert "Slack message: POST http://127.0.0.1:" in log and " 200 OK" in log
    assert "slacksecrettoken" not in log and "hunter2" not in log


def test_a_discord_message_pings_nobody(tools_worker, owner, receiver):
    tool = make_tool(owner, name="discord", kind="discord", url=receiver.url + DISCORD_PATH)
    job = run_tool_event(owner, tool, {"text": "@everyone backup done"})
    assert job["status"] == "completed", job
    assert receiver.wait_for(DISCORD_PATH)[-1].json() == {
        "content": "@everyone backup done", "allowed_mentions": {"parse": []}}


def test_a_teams_message_is_an_adaptive_card(tools_worker, owner, receiver):
    tool = make_tool(owner, name="teams", kind="teams", url=receiver.url + TEAMS_PATH)
    job = run_tool_event(owner, tool, {"text": "deploy finished"})
    assert job["status"] == "completed", job
    body = receiver.wait_for(TEAMS_PATH)[-1].json()
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["body"] == [{"type": "TextBlock", "text": "deploy finished", "wrap": True}]


def test_a_signed_webhook_carries_a_verifiable_hmac(tools_worker, owner, receiver):
    tool = make_tool(owner, name="hook", kind="webhook", url=receiver.url + HOOK_PATH, method="PUT",
                     headers={"X-Api-Key": HOOK_HEADER}, signingSecret=SIGNING_SECRET)
    job = run_tool_event(owner, tool, {"body": '{"orders": {{ input.n }}}'}, input={"n": 3})
    assert job["status"] == "completed", job
    got = receiver.wait_for(HOOK_PATH)[-1]
    assert got.method == "PUT" and got.body == b'{"orders": 3}'
    assert got.headers["X-Api-Key"] == HOOK_HEADER and got.headers["X-Cronium-Delivery"] == job["id"]
    stamp = got.headers["X-Cronium-Timestamp"]
    expected = hmac.new(SIGNING_SECRET.encode(), stamp.encode() + b"." + got.body, hashlib.sha256).hexdigest()
    assert got.headers["X-Cronium-Signature"] == f"sha256={expected}"


def test_an_email_goes_through_starttls_with_a_login(tools_worker, owner, smtp):
    tool = make_tool(owner, name="mail", kind="email", host="localhost", port=smtp.port, security="starttls",
                     username="cronium", password=SMTP_PASSWORD, fromAddress="cronium@example.com")
    job = run_tool_event(owner, tool, {"to": "ops@example.com, {{ input.owner }}", "subject": "Report {{ input.day }}",
                                       "body": "Sales: {{ input.total }}"},
                         input={"owner": "boss@example.com", "day": "Monday", "total": 1234})
    assert job["status"] == "completed", job
    mail = smtp.wait_for()[-1]
    assert mail.tls and mail.user == "cronium"
    assert mail.mail_from == "cronium@example.com" and mail.rcpt_tos == ["ops@example.com", "boss@example.com"]
    parsed = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert parsed["Subject"] == "Report Monday" and parsed.get_content().strip() == "Sales: 1234"
    assert job["output"]["accepted"] == ["ops@example.com", "boss@example.com"]


def test_the_test_action_sends_through_each_tool(tools_app, owner, receiver, smtp, slack):
    before = len(receiver.to(SLACK_PATH))
    response = owner.http.post(f"/api/v1/tools/{slack['id']}/test")
    assert response.status_code == 200, response.text
    assert response.json()["ok"] is True and response.json()["tool"]["lastTestOk"] is True
    assert "it works" in receiver.wait_for(SLACK_PATH, before + 1)[-1].json()["text"]
    mail_tool = make_tool(owner, name="mail test", kind="email", host="localhost", port=smtp.port,
                          username="cronium", password=SMTP_PASSWORD, fromAddress="cronium@example.com")
    sent = len(smtp.messages)
    response = owner.http.post(f"/api/v1/tools/{mail_tool['id']}/test", json={"to": "me@example.com"})
    assert response.json()["ok"] is True, response.text
    assert smtp.wait_for(sent + 1)[-1].rcpt_tos == ["me@example.com"]


def test_a_receiver_that_is_down_fails_the_job_with_the_reason(tools_worker, tools_app, owner, receiver):
    down = make_tool(owner, name="down", kind="webhook", url="http://127.0.0.1:9/nothing")
    job = run_tool_event(owner, down, {"body": "{}"})
    assert job["status"] == "failed" and "connection failed" in job["error"]
    test = owner.http.post(f"/api/v1/tools/{down['id']}/test").json()
    assert test["ok"] is False and "connection failed" in test["message"]


def test_a_slack_url_outside_the_configured_base_is_refused(owner):
    response = owner.http.post("/api/v1/tools", json={"name": "x", "kind": "slack", "url": "https://example.com/hook"})
    assert response.status_code == 422 and "starts with" in response.text


def test_tool_credentials_never_come_back(tools_worker, owner, receiver, smtp, slack):
    secrets = ("slacksecrettoken", SIGNING_SECRET, HOOK_HEADER, SMTP_PASSWORD)
    hook = make_tool(owner, name="hook 2", kind="webhook", url=receiver.url + HOOK_PATH + "?token=querysecret12345678",
                     headers={"Authorization": f"Bearer {HOOK_HEADER}"}, signingSecret=SIGNING_SECRET)
    job = run_tool_event(owner, hook, {"body": "{}"})
    replies = [
        owner.http.get("/api/v1/tools").text,
        owner.http.get(f"/api/v1/tools/{hook['id']}").text,
        owner.http.patch(f"/api/v1/tools/{hook['id']}", json={"name": "hook 3"}).text,
        owner.http.get(f"/api/v1/jobs/{job['id']}").text,
        json.dumps(job_lines(owner, job["id"])),
        owner.http.get(f"/api/v1/jobs?eventId={job['eventId']}").text,
    ]
    for text in replies:
        for secret in (*secrets, "querysecret12345678"):
            assert secret not in text
    assert hook["signed"] is True and hook["headerNames"] == ["Authorization"] and hook["urlHost"] == "127.0.0.1"


def test_a_tool_event_as_a_workflow_step_renders_the_parent_output(tools_worker, owner, receiver, slack):
    parent = owner.create_event(name="count", type="python", script="cronium.output({'orders': 7})")
    child = owner.create_event(name="tell", type="tool", script="", toolAction={
        "toolId": slack["id"], "fields": {"text": "parent said {{ input.orders }}"}})
    workflow = owner.http.post("/api/v1/workflows", json={
        "name": "count then tell",
        "steps": [{"name": "count", "eventId": parent["id"]}, {"name": "tell", "eventId": child["id"]}],
        "edges": [{"from": "count", "to": "tell"}]}).json()
    run = owner.http.post(f"/api/v1/workflows/{workflow['id']}/execute").json()
    before = len(receiver.to(SLACK_PATH))
    got = receiver.wait_for(SLACK_PATH, before + 1, timeout=90)
    assert {"text": "parent said 7"} in [request.json() for request in got]
    assert owner.http.get(f"/api/v1/workflow-runs/{run['runId']}").json()["status"] in ("running", "completed")


def test_a_tool_event_on_a_schedule_sends_each_run(tools_worker, owner, receiver, slack):
    event = owner.create_event(name="tick", type="tool", script="", scheduleType="cron", cronExpression="* * * * * *",
                               toolAction={"toolId": slack["id"], "fields": {"text": "tick {{ job.id }}"}})
    before = len(receiver.to(SLACK_PATH))
    try:
        got = receiver.wait_for(SLACK_PATH, before + 2, timeout=90)
    finally:
        assert owner.http.patch(f"/api/v1/events/{event['id']}", json={"status": "paused"}).status_code == 200
    ticks = {request.json()["text"] for request in got[before:] if request.json()["text"].startswith("tick job_")}
    assert len(ticks) >= 2  # one message per run, each naming its own job


def test_a_failed_delivery_is_retried(tools_worker, owner, receiver):
    path = "/hook/flaky"
    receiver.statuses[path] = 503
    hook = make_tool(owner, name="flaky", kind="webhook", url=receiver.url + path)
    created = owner.create_event(name="flaky call", type="tool", script="", retries=1,
                                 toolAction={"toolId": hook["id"], "fields": {"body": "{}"}})
    first = wait_for_job(owner, owner.execute(created["id"]))
    assert first["status"] == "failed" and "503" in first["error"]
    receiver.statuses[path] = 200
    jobs = owner.http.get("/api/v1/jobs", params={"eventId": created["id"]}).json()["items"]
    retry = next(job for job in jobs if job["id"] != first["id"])
    assert wait_for_job(owner, retry["id"], timeout=120)["status"] == "completed"
    assert len(receiver.to(path)) == 2
