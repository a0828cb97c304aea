"""An assistant's whole loop through the MCP server, with a real worker
running the scripts, over both transports (Streamable HTTP to /api/mcp, and
stdio through `cronium mcp`): check a plan (a cycle is named), create the
bundle, run it, read the failing run's log, fix the script with
update_event, run again until completed, and run the workflow."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from tests.support.mcp_client import TRANSPORTS, call, mcp_session

FAILING = 'echo "fetching rows"\necho "no such table: orders" >&2\nexit 3\n'
FIXED = 'echo "fetching rows"\necho "42 rows"\n'


def bundle(prefix: str, *, cycle: bool = False) -> dict[str, Any]:
    edges = [{"from": "fetch", "to": "report"}, *([{"from": "report", "to": "fetch"}] if cycle else [])]
    return {
        "events": [{"name": f"{prefix} fetch", "type": "bash", "script": FAILING},
                   {"name": f"{prefix} report", "type": "python", "script": "print('report sent')"}],
        "workflows": [{"name": f"{prefix} nightly", "edges": edges,
                       "steps": [{"name": "fetch", "event": f"{prefix} fetch"},
                                 {"name": "report", "event": f"{prefix} report"}]}],
    }


def mcp_token(user) -> str:
    response = user.http.post("/api/v1/tokens", json={"name": "assistant", "scopes": ["mcp"]})
    assert response.status_code == 201, response.text
    return response.json()["token"]


async def wait_for_job(session, job_id: str) -> dict[str, Any]:
    for _ in range(8):
        job = (await call(session, "get_job", job_id=job_id, wait_seconds=15)).data
        if job["status"] not in ("pending", "acknowledged", "running"):
            return job
    raise AssertionError(f"job {job_id} did not end: {job}")


async def wait_for_run(session, run_id: str) -> dict[str, Any]:
    for _ in range(120):
        run = (await call(session, "get_workflow_run", run_id=run_id)).data
        if run["status"] != "running":
            return run
        await anyio.sleep(1)
    raise AssertionError(f"workflow run {run_id} did not end: {run}")


@pytest.mark.slow
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_draft_run_read_fix_and_run_again(transport, running_worker, worker_app, worker_user, tmp_path):
    prefix = f"via {transport}"

    async def conversation() -> None:
        async with mcp_session(transport, worker_app.url, mcp_token(worker_user), tmp_path) as session:
            listed = (await session.list_tools()).tools
            assert all(tool.annotations is not None for tool in listed) and len(listed) >= 20

            cyclic = (await call(session, "validate_plan", plan=bundle(prefix, cycle=True))).data
            assert cyclic["valid"] is False
            assert cyclic["problems"] == [f"workflows[0] ({prefix} nightly).edges: the steps form a cycle: fetch, report"]
            assert (await call(session, "validate_plan", plan=bundle(prefix))).data["valid"] is True

            made = (await call(session, "create_bundle", plan=bundle(prefix))).data
            events = {item["name"]: item["id"] for item in made["events"]}
            fetch = events[f"{prefix} fetch"]

            job_id = (await call(session, "run_event", event_id=fetch)).data["jobId"]
            failed = await wait_for_job(session, job_id)
            assert failed["status"] == "failed" and failed["exitCode"] == 3
            logs = (await call(session, "get_job_logs", job_id=job_id)).data
            # Two pipes: their lines' order between streams is the reader's, not the script's.
            assert sorted((line["stream"], line["line"]) for line in logs["lines"]) == [
                ("stderr", "no such table: orders"), ("stdout", "fetching rows")]

            fixed = (await call(session, "update_event", event_id=fetch, changes={"script": FIXED})).data
            assert fixed["script"] == FIXED and fixed["source"] == "mcp"
            job_id = (await call(session, "run_event", event_id=fetch)).data["jobId"]
            completed = await wait_for_job(session, job_id)
            assert completed["status"] == "completed" and completed["exitCode"] == 0
            tail = (await call(session, "get_job_logs", job_id=job_id, lines=1)).data
            assert [line["line"] for line in tail["lines"]] == ["42 rows"] and tail["truncated"] is True

            run_id = (await call(session, "run_workflow", workflow_id=made["workflows"][0]["id"])).data["runId"]
            run = await wait_for_run(session, run_id)
            assert run["status"] == "completed", run

    anyio.run(conversation)


@pytest.mark.slow
def test_a_log_tail_is_cut_to_the_size_asked_for(running_worker, worker_app, worker_user):
    script = 'for i in $(seq 1 300); do printf "line %03d %s\\n" "$i" "$(printf "x%.0s" $(seq 1 90))"; done'

    async def conversation() -> None:
        async with mcp_session("http", worker_app.url, mcp_token(worker_user)) as session:
            event = (await call(session, "create_event", event={"name": "chatty", "type": "bash", "script": script})).data
            job_id = (await call(session, "run_event", event_id=event["id"])).data["jobId"]
            assert (await wait_for_job(session, job_id))["status"] == "completed"
            tail = (await call(session, "get_job_logs", job_id=job_id, lines=50, max_chars=1000)).data
            texts = [line["line"] for line in tail["lines"]]
            assert tail["totalLines"] == 300 and tail["truncated"] is True
            assert sum(len(text) for text in texts) <= 1000 and len(texts) <= 11
            assert texts[-1].startswith("line 300 ") and tail["lines"][-1]["seq"] == 300

    anyio.run(conversation)
