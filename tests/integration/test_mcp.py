"""The MCP server (/api/mcp) with the official MCP client over HTTP against
the real app: tools and their annotations, plans (a cycle named, a bundle
all or nothing), paging, delete's confirmation, token scopes (an MCP token
is refused by every /api/v1 route, from the route table), secrets never in
a tool's answer, and protocol errors answered as MCP errors (never a 500)."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

import anyio
import httpx
import pytest
from fastapi.routing import APIRoute

from cronium_app.api.app import build_api
from cronium_app.api.deps import current_user
from cronium_app.settings import Settings
from tests.support.clients import UserClient
from tests.support.mcp_client import Reply, call, mcp_session

ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
WRITE_TOOLS = {"create_event", "update_event", "create_workflow", "update_workflow", "create_bundle",
               "activate", "pause", "delete", "run_event", "run_workflow"}


def mcp_token(user: UserClient) -> str:
    response = user.http.post("/api/v1/tokens", json={"name": "assistant", "scopes": ["mcp"]})
    assert response.status_code == 201, response.text
    assert response.json()["scopes"] == ["mcp"]
    return response.json()["token"]


def talk(url: str, token: str, *steps: tuple[str, dict[str, Any]]) -> list[Reply]:
    """Call the tools in order in one session; their replies."""
    async def run() -> list[Reply]:
        async with mcp_session("http", url, token) as session:
            return [await call(session, name, **args) for name, args in steps]
    return anyio.run(run)


def plan(*, cycle: bool = False, bad_cron: bool = False, prefix: str = "") -> dict[str, Any]:
    edges = [{"from": "fetch", "to": "report"}, *([{"from": "report", "to": "fetch"}] if cycle else [])]
    schedule = {"type": "cron", "cronExpression": "61 * * * *" if bad_cron else "0 2 * * *"}
    return {
        "events": [{"name": f"{prefix}fetch", "type": "bash", "script": "echo fetch", "schedule": schedule},
                   {"name": f"{prefix}report", "type": "python", "script": "print('report')"}],
        "workflows": [{"name": f"{prefix}nightly",
                       "steps": [{"name": "fetch", "event": f"{prefix}fetch"},
                                 {"name": "report", "event": f"{prefix}report"}],
                       "edges": edges}],
    }


def test_every_tool_is_listed_with_its_annotations(app_server, user):
    async def run():
        async with mcp_session("http", app_server.url, mcp_token(user)) as session:
            return (await session.list_tools()).tools
    tools = {tool.name: tool for tool in anyio.run(run)}
    assert {"get_capabilities", "validate_plan", "list_events", "get_event", "list_workflows", "get_workflow",
            "list_jobs", "get_job", "get_job_logs", "get_workflow_run"} | WRITE_TOOLS <= set(tools)
    for name, tool in tools.items():
        hints = tool.annotations
        assert None not in (hints.readOnlyHint, hints.destructiveHint, hints.idempotentHint, hints.openWorldHint), name
        assert hints.readOnlyHint is (name not in WRITE_TOOLS), name
    assert tools["delete"].annotations.destructiveHint and tools["run_event"].annotations.openWorldHint
    assert "confirm" in tools["delete"].inputSchema["properties"]


def test_validate_plan_names_the_steps_of_a_cycle_and_creates_nothing(app_server, user):
    cyclic, fine = talk(app_server.url, mcp_token(user), ("validate_plan", {"plan": plan(cycle=True)}),
                        ("validate_plan", {"plan": plan()}))
    assert cyclic.data["valid"] is False
    assert cyclic.data["problems"] == ["workflows[0] (nightly).edges: the steps form a cycle: fetch, report"]
    assert fine.data["valid"] is True and len(fine.data["creates"]) == 3
    assert user.http.get("/api/v1/events").json()["total"] == 0


def test_validate_plan_reports_a_bad_cron_and_a_limit_the_service_checks(app_server, user):
    bad = plan(bad_cron=True)
    too_big = plan()
    too_big["events"][1]["memoryMb"] = 10**9
    cron, limit = talk(app_server.url, mcp_token(user), ("validate_plan", {"plan": bad}),
                       ("validate_plan", {"plan": too_big}))
    assert not cron.data["valid"] and "cronExpression" in cron.data["problems"][0]
    assert not limit.data["valid"] and "memoryMb" in limit.data["problems"][0]
    assert user.http.get("/api/v1/events").json()["total"] == 0


def test_a_bundle_is_created_whole_with_source_mcp(app_server, user):
    (made,) = talk(app_server.url, mcp_token(user), ("create_bundle", {"plan": plan()}))
    ids = {item["name"]: item["id"] for item in made.data["events"]}
    assert set(ids) == {"fetch", "report"} and len(made.data["workflows"]) == 1
    event = user.http.get(f"/api/v1/events/{ids['fetch']}").json()
    assert event["source"] == "mcp" and event["cronExpression"] == "0 2 * * *"
    workflow = user.http.get(f"/api/v1/workflows/{made.data['workflows'][0]['id']}").json()
    assert workflow["source"] == "mcp" and [s["eventId"] for s in workflow["steps"]] == [ids["fetch"], ids["report"]]


def test_what_the_tools_change_is_in_the_audit_log_as_done_through_mcp(app_server, user):
    token = mcp_token(user)
    (made,) = talk(app_server.url, token, ("create_bundle", {"plan": plan(prefix="audited-")}))
    entries = [e for e in user.http.get("/api/v1/audit", params={"limit": 50}).json()["items"]
               if e["action"] in ("event.create", "workflow.create")]
    assert sorted(e["target"]["label"] for e in entries) == sorted(
        [item["name"] for item in made.data["events"]] + [made.data["workflows"][0]["name"]])
    assert {(e["source"], e["actor"]["email"], e["actor"]["kind"]) for e in entries} == {("mcp", user.user["email"], "token")}


def test_a_refused_bundle_leaves_nothing_behind(app_server, user):
    refused_plan = plan(prefix="x-")
    refused_plan["events"][1]["cpus"] = 1000  # the second event passes the shape, the service refuses it
    refused, again = talk(app_server.url, mcp_token(user), ("create_bundle", {"plan": refused_plan}),
                          ("create_bundle", {"plan": plan(cycle=True, prefix="y-")}))
    assert refused.is_error and "cpus" in refused.text and "line" not in refused.text
    assert again.is_error and "cycle: fetch, report" in again.text
    assert user.http.get("/api/v1/events").json()["total"] == 0
    assert user.http.get("/api/v1/workflows").json()["total"] == 0


def test_lists_are_paged_summaries_without_scripts(app_server, user):
    for n in range(5):
        user.create_event(name=f"listed {n}", script=f"echo body-{n}")
    first, second = talk(app_server.url, mcp_token(user), ("list_events", {"limit": 3}),
                         ("list_events", {"limit": 3, "offset": 3}))
    assert first.data["total"] == 5 and first.data["nextOffset"] == 3 and len(first.data["items"]) == 3
    assert second.data["nextOffset"] is None and len(second.data["items"]) == 2
    assert "body-" not in first.text + second.text and "script" not in first.data["items"][0]


def test_delete_needs_confirm_true(app_server, user):
    event = user.create_event(name="doomed")
    token = mcp_token(user)
    asked, deleted, gone = talk(app_server.url, token, ("delete", {"kind": "event", "id": event["id"]}),
                                ("delete", {"kind": "event", "id": event["id"], "confirm": True}),
                                ("get_event", {"event_id": event["id"]}))
    assert asked.data["deleted"] is False and asked.data["name"] == "doomed" and "confirm" in asked.data["message"]
    assert deleted.data["deleted"] is True
    assert gone.is_error and "not found" in gone.text


def test_pause_and_activate_a_workflow_and_an_event(app_server, user):
    event = user.create_event(name="toggled", scheduleType="interval", intervalSeconds=3600)
    paused, active = talk(app_server.url, mcp_token(user), ("pause", {"kind": "event", "id": event["id"]}),
                          ("activate", {"kind": "event", "id": event["id"]}))
    assert paused.data["status"] == "paused" and paused.data["nextFireAt"] is None
    assert active.data["status"] == "active" and active.data["nextFireAt"] is not None


def test_another_users_things_are_not_found(app_server, make_user):
    owner, other = make_user(), make_user()
    event = owner.create_event(name="mine")
    (reply,) = talk(app_server.url, mcp_token(other), ("get_event", {"event_id": event["id"]}))
    assert reply.is_error and f"event {event['id']} not found" in reply.text


# -- tokens and scopes ---------------------------------------------------------------


def _needs_a_user(dependant) -> bool:
    return any(dep.call is current_user or _needs_a_user(dep) for dep in dependant.dependencies)


def _api_routes(routes) -> list[APIRoute]:
    """Every APIRoute, also those of included routers (FastAPI keeps an
    included router whole, as one route of the app)."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif (included := getattr(route, "original_router", None)) is not None:
            found.extend(_api_routes(included.routes))
    return found


def v1_routes() -> list[tuple[str, str, bool]]:
    """(method, path, needs a user's token) of every /api/v1 route."""
    api = build_api(Settings(DATABASE_URL="sqlite://"))
    found = []
    for route in _api_routes(api.routes):
        if route.path.startswith("/api/v1"):
            for method in sorted(route.methods - {"HEAD"}):
                found.append((method, route.path, _needs_a_user(route.dependant)))
    return found


def test_an_mcp_token_is_refused_by_every_other_api_route(app_server, user):
    token = mcp_token(user)
    routes = v1_routes()
    public = sorted(path for _method, path, needs in routes if not needs)
    # Without a token by design: signing up and signing in.
    assert public == ["/api/v1/auth/login", "/api/v1/auth/register"], public
    with httpx.Client(base_url=app_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        for method, path, needs in routes:
            if not needs:
                continue
            concrete = re.sub(r"\{[^}]+\}", "1", path)
            response = http.request(method, concrete, json={} if method in ("POST", "PUT", "PATCH") else None)
            assert response.status_code == 403, (method, path, response.status_code, response.text)
            assert "limited to MCP" in response.json()["error"]["message"]
    (capabilities,) = talk(app_server.url, token, ("get_capabilities", {}))
    assert not capabilities.is_error


def test_a_full_token_may_use_mcp_and_old_tokens_have_full_access(app_server, user):
    listed = user.http.get("/api/v1/tokens").json()["items"]
    assert listed and listed[0]["scopes"] is None
    (reply,) = talk(app_server.url, user.token, ("list_events", {}))
    assert not reply.is_error


def test_the_token_api_refuses_unknown_scopes(user):
    for scopes in (["admin"], [], "mcp"):
        response = user.http.post("/api/v1/tokens", json={"name": "x", "scopes": scopes})
        assert response.status_code == 422, (scopes, response.text)


def test_the_endpoint_refuses_a_missing_or_bad_token(app_server):
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    missing = httpx.post(f"{app_server.url}/api/mcp", json=body, headers=ACCEPT)
    bad = httpx.post(f"{app_server.url}/api/mcp", json=body, headers={**ACCEPT, "Authorization": "Bearer crn_nope"})
    assert missing.status_code == 401 and bad.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"


# -- secrets -------------------------------------------------------------------------


def test_no_tool_answer_holds_a_secret_value(app_server, user):
    mark = secrets.token_hex(6)
    values = {name: f"{name}-{mark}" for name in (
        "secretenv", "plainenv", "secretvariable", "webhookurl", "webhookheader", "signing", "smtppassword",
        "serverpassword")}
    event = user.create_event(name="with secrets", script="echo hi", secretEnvVars={"API_KEY": values["secretenv"]},
                              envVars={"REGION": values["plainenv"]})
    assert user.http.put("/api/v1/variables/db_password",
                         json={"value": values["secretvariable"], "secret": True}).status_code in (200, 201)
    tools = [
        {"name": "hook", "kind": "webhook", "url": f"https://hooks.example.com/in?token={values['webhookurl']}",
         "headers": {"X-Key": values["webhookheader"]}, "signingSecret": values["signing"]},
        {"name": "mail", "kind": "email", "host": "mail.example.com", "port": 587, "username": "cronium",
         "password": values["smtppassword"], "fromAddress": "cronium@example.com"},
    ]
    for tool in tools:
        response = user.http.post("/api/v1/tools", json=tool)
        assert response.status_code == 201, response.text
    server = user.http.post("/api/v1/servers", json={"name": "box", "host": "box.example.com", "port": 22,
                                                     "username": "deploy", "authType": "password",
                                                     "password": values["serverpassword"]})
    assert server.status_code == 201, server.text
    workflow = user.http.post("/api/v1/workflows", json={"name": "wf", "steps": [
        {"name": "one", "eventId": event["id"]}]}).json()
    token = mcp_token(user)
    first = talk(app_server.url, token, ("run_event", {"event_id": event["id"]}),
                 ("run_workflow", {"workflow_id": workflow["id"]}))
    job_id, run_id = first[0].data["jobId"], first[1].data["runId"]
    replies = first + talk(
        app_server.url, token,
        ("get_capabilities", {}), ("list_events", {}), ("get_event", {"event_id": event["id"]}),
        ("update_event", {"event_id": event["id"], "changes": {"description": "still secret-free"}}),
        ("list_workflows", {}), ("get_workflow", {"workflow_id": workflow["id"]}),
        ("list_jobs", {}), ("get_job", {"job_id": job_id}), ("get_job_logs", {"job_id": job_id}),
        ("get_workflow_run", {"run_id": run_id}), ("validate_plan", {"plan": plan(prefix="s-")}),
        ("create_bundle", {"plan": plan(prefix="s-")}),
        ("create_event", {"event": {"name": "new", "type": "bash", "script": "echo"}}),
        ("create_workflow", {"workflow": {"name": "wf2", "steps": [{"name": "a", "eventId": event["id"]}]}}),
        ("update_workflow", {"workflow_id": workflow["id"], "workflow": {"name": "wf", "steps": [
            {"name": "one", "eventId": event["id"]}]}}),
        ("pause", {"kind": "event", "id": event["id"]}), ("activate", {"kind": "event", "id": event["id"]}),
        ("delete", {"kind": "event", "id": event["id"]}),
    )
    assert not [r.text for r in replies if r.is_error]
    everything = "\n".join(r.text for r in replies)
    assert "API_KEY" in everything and "db_password" in everything and "REGION" in everything
    for name, value in values.items():
        assert value not in everything, name
        assert mark not in everything, name


# -- protocol errors -----------------------------------------------------------------


def _post(app_server, token: str, content: bytes) -> httpx.Response:
    return httpx.post(f"{app_server.url}/api/mcp", content=content,
                      headers={**ACCEPT, "Authorization": f"Bearer {token}"}, timeout=30)


def test_bad_json_rpc_gets_a_json_rpc_error_not_a_500(app_server, user):
    token = mcp_token(user)
    for content in (b"{not json", b"[]", b'{"jsonrpc": "1.0", "id": 1, "method": "tools/list"}',
                    b'{"jsonrpc": "2.0", "id": 1}', b'"just a string"', b"\xff\xfe"):
        response = _post(app_server, token, content)
        assert 400 <= response.status_code < 500, (content, response.status_code, response.text)
        assert "error" in response.json(), content
    unknown_method = _post(app_server, token, b'{"jsonrpc": "2.0", "id": 7, "method": "no/such"}')
    # The SDK answers a method it does not know as invalid params (the request matches no known shape).
    assert unknown_method.status_code == 200 and unknown_method.json()["error"]["code"] in (-32601, -32602)


def test_an_unknown_tool_or_bad_arguments_are_tool_errors(app_server, user):
    unknown, wrong_type, missing, out_of_range, extra = talk(
        app_server.url, mcp_token(user),
        ("no_such_tool", {}), ("get_event", {"event_id": "seven"}), ("get_event", {}),
        ("get_job_logs", {"job_id": "x", "lines": 10**9}),
        ("create_event", {"event": {"name": "n", "type": "bash", "surprise": 1}}),
    )
    assert unknown.is_error and "no_such_tool" in unknown.text
    for reply in (wrong_type, missing, out_of_range, extra):
        assert reply.is_error, reply.text
    assert "event_id" in missing.text and "surprise" in extra.text


def test_a_bad_tools_call_over_raw_json_rpc_is_never_a_500(app_server, user):
    token = mcp_token(user)
    calls = [{"name": "get_event", "arguments": {"event_id": {"deep": [1, 2]}}},
             {"name": "list_events", "arguments": "not an object"},
             {"name": 12}, {}]
    for params in calls:
        body = json.dumps({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": params}).encode()
        response = _post(app_server, token, body)
        assert response.status_code < 500, (params, response.text)
        reply = response.json()
        assert "error" in reply or reply["result"]["isError"] is True, (params, reply)


@pytest.mark.parametrize("lines", [0, 5000])
def test_the_log_tail_size_is_bounded(app_server, user, lines):
    event = user.create_event(name="tail")
    job_id = user.execute(event["id"])
    (reply,) = talk(app_server.url, mcp_token(user), ("get_job_logs", {"job_id": job_id, "lines": lines}))
    assert reply.is_error and "lines" in reply.text
