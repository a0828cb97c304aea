"""Workflows end to end: a real app, a real worker, real Docker. Steps are
events in three languages passing data with cronium.input()/output();
edges follow success, failure, a set_condition value, or always.

The module has an app of its own (the restart test kills it). The runs of
the ordinary tests are all started at once by one fixture and each test
waits for its own; the restart test comes last."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from tests.integration.worker.jobkit import brief, texts
from tests.support.app_server import AppServer
from tests.support.clients import UserClient, job_lines, register_user, wait_for_job
from tests.support.databases import migrated_database
from tests.support.worker_process import WorkerProcess

RUN_FINAL = ("completed", "failed", "cancelled")


@pytest.fixture(scope="module")
def worker_app() -> Iterator[AppServer]:
    """This module's own app: the restart test stops it with SIGKILL and
    starts a new one on the same port and database."""
    with migrated_database("cronium_workflow_test") as url:
        server = AppServer(database_url=url)
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module")
def running_worker(worker_app) -> Iterator[WorkerProcess]:
    # Room for every run of the module at once (the diamond's branches must
    # find two free slots to run in parallel).
    with WorkerProcess(worker_app.url, concurrency=16) as worker:
        yield worker


# -- helpers ----------------------------------------------------------------------


def event(user: UserClient, name: str, kind: str, script: str) -> int:
    return user.create_event(name=name, type=kind, script=script, timeoutSeconds=120)["id"]


def create_workflow(user: UserClient, name: str, steps: dict[str, int], edges: list[dict[str, Any]]) -> int:
    body = {"name": name, "steps": [{"name": s, "eventId": e} for s, e in steps.items()], "edges": edges}
    response = user.http.post("/api/v1/workflows", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def edge(source: str, target: str, condition: str = "on_success", **extra: Any) -> dict[str, Any]:
    return {"from": source, "to": target, "condition": condition, **extra}


def execute(user: UserClient, workflow_id: int, input: Any = None) -> str:
    response = user.http.post(f"/api/v1/workflows/{workflow_id}/execute", json={"input": input})
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "running"
    return response.json()["runId"]


def get_run(user: UserClient, run_id: str) -> dict[str, Any]:
    response = user.http.get(f"/api/v1/workflow-runs/{run_id}")
    assert response.status_code == 200, response.text
    return response.json()


def wait_run(user: UserClient, run_id: str, timeout: float = 150) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    run = get_run(user, run_id)
    while run["status"] not in RUN_FINAL:
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} still {run['status']} after {timeout}s: {run}")
        time.sleep(0.2)
        run = get_run(user, run_id)
    return run


def steps_of(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in run["steps"]}


def wait_step_job(user: UserClient, run_id: str, step: str, timeout: float = 60) -> str:
    """The job id of a step, once the step has started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job_id = steps_of(get_run(user, run_id))[step]["jobId"]
        if job_id:
            return job_id
        time.sleep(0.1)
    raise AssertionError(f"step {step} of run {run_id} never started")


def step_jobs(user: UserClient, run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: user.job(s["jobId"]) for s in run["steps"] if s["jobId"]}


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def run_jobs(user: UserClient, run: dict[str, Any]) -> list[dict[str, Any]]:
    """Every job of the run (not only those the run view shows)."""
    items = user.http.get("/api/v1/jobs", params={"workflowId": run["workflowId"], "limit": 200}).json()["items"]
    return [job for job in items if job["workflowRunId"] == run["id"]]


# -- scripts ------------------------------------------------------------------------

CHAIN_PY = 'inp = cronium.input()\ncronium.output({"path": ["python"], "seed": inp["seed"], "n": inp["n"] + 1})\n'
CHAIN_NODE = """\
(async () => {
  const inp = await cronium.input();
  await cronium.output({ path: [...inp.path, 'node'], seed: inp.seed, n: inp.n * 10 });
})().catch((e) => { console.error(e); process.exit(1); });
"""
CHAIN_BASH = 'inp=$(cronium_input) || exit 1\ncronium_output "{\\"path\\":\\"bash\\",\\"parent\\":$inp}"\n'

CHECK_PY = 'flag = cronium.input()["flag"]\ncronium.set_condition(flag)\ncronium.output({"flag": flag})\n'
TOOK = 'cronium_output "{\\"took\\":\\"%s\\",\\"parent\\":$(cronium_input)}"\n'

BOOM = "cronium_output '{\"partial\": 1}'\necho 'about to fail' >&2\nexit 3\n"
RECOVER_PY = 'cronium.output({"recovered": cronium.input()})\n'
ECHO = "echo ran\n"

DIAMOND_A = 'cronium.output({"a": cronium.input()})\n'
DIAMOND_B = """\
(async () => {
  const inp = await cronium.input();
  await new Promise((resolve) => setTimeout(resolve, 2500));
  await cronium.output({ b: inp.a });
})().catch((e) => { console.error(e); process.exit(1); });
"""
DIAMOND_C = 'inp=$(cronium_input) || exit 1\nsleep 2.5\ncronium_output "{\\"c\\":$inp}"\n'
DIAMOND_D = 'cronium.output({"joined": cronium.input()})\n'

SLOW = "echo started\nsleep 60\necho 'not cancelled'\n"


# -- the module's runs, all started at once ------------------------------------------


@pytest.fixture(scope="module")
def wf(worker_user, running_worker) -> dict[str, Any]:
    """Create the module's workflows and start their runs together."""
    user = worker_user
    runs: dict[str, Any] = {}

    chain = create_workflow(user, "chain", {
        "py": event(user, "chain py", "python", CHAIN_PY),
        "node": event(user, "chain node", "node", CHAIN_NODE),
        "bash": event(user, "chain bash", "bash", CHAIN_BASH),
    }, [edge("py", "node"), edge("node", "bash")])
    runs["chain"] = execute(user, chain, {"seed": "🌱 chain ü", "n": 1})

    branch = create_workflow(user, "branch", {
        "check": event(user, "check", "python", CHECK_PY),
        "yes": event(user, "yes", "bash", TOOK % "yes"),
        "no": event(user, "no", "bash", TOOK % "no"),
    }, [edge("check", "yes", "on_condition"), edge("check", "no", "on_condition", value=False)])
    runs["branch_true"] = execute(user, branch, {"flag": True})
    runs["branch_false"] = execute(user, branch, {"flag": False})

    recovery = create_workflow(user, "recovery", {
        "boom": event(user, "boom", "bash", BOOM),
        "recover": event(user, "recover", "python", RECOVER_PY),
        "happy": event(user, "happy", "bash", ECHO),
    }, [edge("boom", "recover", "on_failure"), edge("boom", "happy", "on_success")])
    runs["recovery"] = execute(user, recovery)

    unhandled = create_workflow(user, "unhandled", {
        "boom": event(user, "boom 2", "bash", "exit 1\n"),
        "next": event(user, "next", "bash", ECHO),
        "cleanup": event(user, "cleanup", "bash", ECHO),
    }, [edge("boom", "next", "on_success"), edge("boom", "cleanup", "always")])
    runs["unhandled"] = execute(user, unhandled)

    diamond = create_workflow(user, "diamond", {
        "a": event(user, "diamond a", "python", DIAMOND_A),
        "b": event(user, "diamond b", "node", DIAMOND_B),
        "c": event(user, "diamond c", "bash", DIAMOND_C),
        "d": event(user, "diamond d", "python", DIAMOND_D),
    }, [edge("a", "b"), edge("a", "c"), edge("b", "d"), edge("c", "d")])
    runs["diamond"] = execute(user, diamond, {"x": [1, "two"]})

    cancel = create_workflow(user, "cancel", {
        "slow": event(user, "slow", "bash", SLOW),
        "after": event(user, "after cancel", "bash", ECHO),
    }, [edge("slow", "after", "always")])
    runs["cancel"] = execute(user, cancel)
    return runs


# -- validation (no runs) -------------------------------------------------------------


def test_a_cycle_is_refused(worker_user):
    user = worker_user
    ids = {name: event(user, f"cycle {name}", "bash", ECHO) for name in "abc"}
    body = {"name": "cyclic", "steps": [{"name": n, "eventId": e} for n, e in ids.items()],
            "edges": [edge("a", "b"), edge("b", "c"), edge("c", "a", "always")]}
    response = user.http.post("/api/v1/workflows", json=body)
    assert response.status_code == 422, response.text
    assert "cycle" in response.json()["error"]["message"]
    # A step following itself is a cycle too.
    body["edges"] = [edge("a", "a")]
    assert user.http.post("/api/v1/workflows", json=body).status_code == 422
    # Nothing was stored; replacing a good workflow with a cyclic one is refused as well.
    assert all(w["name"] != "cyclic" for w in user.http.get("/api/v1/workflows").json()["items"])
    good = create_workflow(user, "acyclic", ids, [edge("a", "b"), edge("b", "c")])
    body["edges"] = [edge("a", "b"), edge("b", "c"), edge("c", "a")]
    assert user.http.put(f"/api/v1/workflows/{good}", json=body).status_code == 422
    stored = user.http.get(f"/api/v1/workflows/{good}").json()
    assert [(e["from"], e["to"]) for e in stored["edges"]] == [("a", "b"), ("b", "c")]


def test_an_edge_to_an_unknown_step_is_refused(worker_user):
    user = worker_user
    a = event(user, "lonely", "bash", ECHO)
    for bad in (edge("a", "ghost"), edge("ghost", "a")):
        body = {"name": "dangling", "steps": [{"name": "a", "eventId": a}], "edges": [bad]}
        response = user.http.post("/api/v1/workflows", json=body)
        assert response.status_code == 422, response.text
        assert "ghost" in response.json()["error"]["message"]


def test_a_step_with_another_users_event_is_refused_without_revealing_it(worker_app, worker_user):
    other = register_user(worker_app.url)
    try:
        theirs = other.create_event(name="someone else's secret event", type="bash", script="echo secret-script")
        mine = event(worker_user, "mine", "bash", ECHO)

        def refusal(event_id: int) -> str:
            body = {"name": "borrowing", "steps": [{"name": "a", "eventId": mine}, {"name": "b", "eventId": event_id}],
                    "edges": [edge("a", "b")]}
            response = worker_user.http.post("/api/v1/workflows", json=body)
            assert response.status_code == 422, response.text
            return response.json()["error"]["message"]

        foreign = refusal(theirs["id"])
        nonexistent = refusal(10_000_000)
        assert "secret" not in foreign
        # The same words as for an event that does not exist at all.
        assert foreign.replace(str(theirs["id"]), "N") == nonexistent.replace("10000000", "N")
        assert worker_user.http.get(f"/api/v1/events/{theirs['id']}").status_code == 404
    finally:
        other.http.close()


# -- runs ---------------------------------------------------------------------------------


def test_linear_chain_passes_data_through_three_languages(worker_user, wf):
    run = wait_run(worker_user, wf["chain"])
    assert run["status"] == "completed", run
    jobs = step_jobs(worker_user, run)
    assert [jobs[s]["status"] for s in ("py", "node", "bash")] == ["completed"] * 3, {s: brief(j) for s, j in jobs.items()}
    assert jobs["py"]["input"] == {"seed": "🌱 chain ü", "n": 1}
    assert jobs["py"]["output"] == {"path": ["python"], "seed": "🌱 chain ü", "n": 2}
    # Each step's input is its parent's output.
    assert jobs["node"]["input"] == jobs["py"]["output"]
    assert jobs["node"]["output"] == {"path": ["python", "node"], "seed": "🌱 chain ü", "n": 20}
    assert jobs["bash"]["input"] == jobs["node"]["output"]
    assert jobs["bash"]["output"] == {"path": "bash", "parent": jobs["node"]["output"]}
    assert steps_of(run)["bash"]["output"] == jobs["bash"]["output"]
    for job in jobs.values():
        assert job["workflowRunId"] == run["id"] and job["workflowId"] == run["workflowId"]
    # One after the other.
    assert ts(jobs["py"]["completedAt"]) <= ts(jobs["node"]["createdAt"])
    assert ts(jobs["node"]["completedAt"]) <= ts(jobs["bash"]["createdAt"])


@pytest.mark.parametrize("flag,taken,skipped", [(True, "yes", "no"), (False, "no", "yes")])
def test_branch_on_condition(worker_user, wf, flag, taken, skipped):
    run = wait_run(worker_user, wf["branch_true" if flag else "branch_false"])
    assert run["status"] == "completed", run
    steps = steps_of(run)
    assert steps["check"]["status"] == "completed"
    assert steps[taken]["status"] == "completed" and steps[taken]["jobId"]
    assert steps[skipped]["status"] == "skipped" and steps[skipped]["jobId"] is None
    assert steps[taken]["output"] == {"took": taken, "parent": {"flag": flag}}
    assert len(run_jobs(worker_user, run)) == 2
    # The false edge reads back as it was written.
    edges = worker_user.http.get(f"/api/v1/workflows/{run['workflowId']}").json()["edges"]
    assert sorted((e["to"], e["condition"], e["value"]) for e in edges) == [
        ("no", "on_condition", False), ("yes", "on_condition", True)]


def test_on_failure_edge_recovers(worker_user, wf):
    run = wait_run(worker_user, wf["recovery"])
    assert run["status"] == "completed", run
    steps = steps_of(run)
    assert steps["boom"]["status"] == "failed"
    assert steps["happy"]["status"] == "skipped"
    assert steps["recover"]["status"] == "completed"
    # The failed step's output (set before it failed) is the recovery's input.
    assert steps["recover"]["output"] == {"recovered": {"partial": 1}}
    boom = worker_user.job(steps["boom"]["jobId"])
    assert boom["exitCode"] == 3 and "about to fail" in texts(job_lines(worker_user, boom["id"]), "stderr")


def test_failure_without_on_failure_edge_fails_the_run(worker_user, wf):
    run = wait_run(worker_user, wf["unhandled"])
    assert run["status"] == "failed", run
    steps = steps_of(run)
    assert steps["boom"]["status"] == "failed"
    assert steps["next"]["status"] == "skipped" and steps["next"]["jobId"] is None
    # An `always` edge runs whatever the outcome; it does not handle the failure.
    assert steps["cleanup"]["status"] == "completed"
    assert run["completedAt"]


def test_diamond_fans_out_runs_in_parallel_and_joins(worker_user, wf):
    run = wait_run(worker_user, wf["diamond"])
    assert run["status"] == "completed", run
    jobs = step_jobs(worker_user, run)
    assert set(jobs) == {"a", "b", "c", "d"}
    assert all(job["status"] == "completed" for job in jobs.values()), {s: brief(j) for s, j in jobs.items()}
    assert jobs["a"]["output"] == {"a": {"x": [1, "two"]}}
    assert jobs["b"]["input"] == jobs["a"]["output"] and jobs["c"]["input"] == jobs["a"]["output"]
    assert jobs["b"]["output"] == {"b": {"x": [1, "two"]}}
    assert jobs["c"]["output"] == {"c": {"a": {"x": [1, "two"]}}}
    # The join: started once, its input a map from parent step name to output.
    assert jobs["d"]["input"] == {"b": jobs["b"]["output"], "c": jobs["c"]["output"]}
    assert jobs["d"]["output"] == {"joined": jobs["d"]["input"]}
    assert len(run_jobs(worker_user, run)) == 4
    # b and c ran at the same time; d only after both.
    b_start, b_end = ts(jobs["b"]["startedAt"]), ts(jobs["b"]["completedAt"])
    c_start, c_end = ts(jobs["c"]["startedAt"]), ts(jobs["c"]["completedAt"])
    assert max(b_start, c_start) < min(b_end, c_end), {s: brief(jobs[s]) for s in "bc"}
    assert ts(jobs["d"]["createdAt"]) >= max(b_end, c_end)


def test_cancelling_a_run_cancels_its_running_step(worker_user, wf):
    run_id = wf["cancel"]
    slow_id = wait_step_job(worker_user, run_id, "slow")
    wait_for_job(worker_user, slow_id, statuses=("running",), timeout=60)
    response = worker_user.http.post(f"/api/v1/workflow-runs/{run_id}/cancel")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    slow = wait_for_job(worker_user, slow_id, timeout=30)
    assert slow["status"] == "cancelled", brief(slow)
    assert "not cancelled" not in texts(job_lines(worker_user, slow_id))
    # Twice: a conflict.
    assert worker_user.http.post(f"/api/v1/workflow-runs/{run_id}/cancel").status_code == 409
    # The `always` step does not start after a cancel, not even after the
    # reconciler's next rounds.
    time.sleep(4.5)
    run = get_run(worker_user, run_id)
    assert run["status"] == "cancelled" and run["completedAt"]
    assert steps_of(run)["after"]["jobId"] is None
    assert len(run_jobs(worker_user, run)) == 1


def test_runs_are_listed_with_their_steps(worker_user, wf):
    run = wait_run(worker_user, wf["chain"])
    listed = worker_user.http.get(f"/api/v1/workflows/{run['workflowId']}/runs").json()["items"]
    assert [item["id"] for item in listed] == [run["id"]] and listed[0]["status"] == "completed"
    assert [s["name"] for s in run["steps"]] == ["py", "node", "bash"]
    assert all(s["jobId"] and s["status"] == "completed" for s in run["steps"])


# -- a run follows the graph it started with ---------------------------------------------


SLOW_FIRST = 'echo "first started"\nsleep 4\ncronium_output "{\\"first\\":true}"\n'
ECHO_STEP = 'echo "{name} ran"\n'


def _slow_chain(user: UserClient, label: str) -> tuple[int, dict[str, int]]:
    """first (4 s) -> second -> third, each a bash event of its own."""
    events = {
        "first": event(user, f"{label} first", "bash", SLOW_FIRST),
        "second": event(user, f"{label} second", "bash", ECHO_STEP.format(name=f"{label} second")),
        "third": event(user, f"{label} third", "bash", ECHO_STEP.format(name=f"{label} third")),
    }
    workflow = create_workflow(user, f"{label} chain", events, [edge("first", "second"), edge("second", "third")])
    return workflow, events


def _started_run(user: UserClient, workflow: int) -> str:
    run_id = execute(user, workflow)
    wait_for_job(user, wait_step_job(user, run_id, "first"), statuses=("running",), timeout=60)
    return run_id


def _each_step_ran_once(user: UserClient, run: dict[str, Any]) -> list[tuple[str, str, int]]:
    jobs = step_jobs(user, run)
    assert sorted(job["id"] for job in run_jobs_of(user, run["id"])) == sorted(job["id"] for job in jobs.values())
    return [(name, jobs[name]["status"], jobs[name]["attempt"]) for name in sorted(jobs)]


def run_jobs_of(user: UserClient, run_id: str) -> list[dict[str, Any]]:
    """Every job of a run, whatever became of its workflow."""
    items = user.http.get("/api/v1/jobs", params={"limit": 200}).json()["items"]
    return [job for job in items if job["workflowRunId"] == run_id]


ALL_THREE_ONCE = [("first", "completed", 1), ("second", "completed", 1), ("third", "completed", 1)]


def test_a_workflow_edited_mid_run_runs_no_step_twice_and_the_run_keeps_its_graph(worker_user, running_worker):
    user = worker_user
    workflow, events = _slow_chain(user, "edited")
    run_id = _started_run(user, workflow)
    other = event(user, "edited replacement", "bash", ECHO_STEP.format(name="replacement"))
    # The same step names with new rows and a new shape: first -> only.
    body = {"name": "edited chain", "steps": [{"name": "first", "eventId": events["first"]},
                                              {"name": "only", "eventId": other}],
            "edges": [edge("first", "only")]}
    assert user.http.put(f"/api/v1/workflows/{workflow}", json=body).status_code == 200
    run = wait_run(user, run_id)
    assert run["status"] == "completed", run
    assert [s["name"] for s in run["steps"]] == ["first", "second", "third"]
    assert _each_step_ran_once(user, run) == ALL_THREE_ONCE
    # A new run follows the new graph.
    new_run = wait_run(user, execute(user, workflow))
    assert [(s["name"], s["status"]) for s in new_run["steps"]] == [("first", "completed"), ("only", "completed")]


def test_an_event_deleted_mid_run_still_runs_its_step_as_the_run_froze_it(worker_user, running_worker):
    user = worker_user
    workflow, events = _slow_chain(user, "deleted event")
    run_id = _started_run(user, workflow)
    assert user.http.delete(f"/api/v1/events/{events['second']}").status_code == 204
    run = wait_run(user, run_id)
    assert run["status"] == "completed", run
    assert _each_step_ran_once(user, run) == ALL_THREE_ONCE
    second = step_jobs(user, run)["second"]
    assert second["eventId"] is None and "deleted event second ran" in texts(job_lines(user, second["id"]))


def test_a_workflow_deleted_mid_run_lets_the_run_finish_and_keeps_it(worker_user, running_worker):
    user = worker_user
    workflow, _ = _slow_chain(user, "deleted workflow")
    run_id = _started_run(user, workflow)
    assert user.http.delete(f"/api/v1/workflows/{workflow}").status_code == 204
    run = wait_run(user, run_id)
    assert (run["status"], run["workflowId"]) == ("completed", None), run
    assert _each_step_ran_once(user, run) == ALL_THREE_ONCE


# -- restart (last: it stops this module's app) -------------------------------------------


RESTART_S1 = 'echo "s1 started"\nsleep 4\ncronium_output "{\\"s1\\":$(cronium_input)}"\n'
RESTART_S2 = 'cronium.output({"s2": cronium.input()})\n'
RESTART_S3 = 'cronium_output "{\\"s3\\":$(cronium_input)}"\n'


def test_run_survives_an_app_restart_mid_run(worker_app, worker_user, running_worker):
    user = worker_user
    workflow = create_workflow(user, "restart", {
        "s1": event(user, "restart s1", "bash", RESTART_S1),
        "s2": event(user, "restart s2", "python", RESTART_S2),
        "s3": event(user, "restart s3", "bash", RESTART_S3),
    }, [edge("s1", "s2"), edge("s2", "s3")])
    run_id = execute(user, workflow, {"r": "ü"})
    s1 = wait_step_job(user, run_id, "s1")
    wait_for_job(user, s1, statuses=("running",), timeout=60)

    worker_app.stop(signal.SIGKILL)
    assert worker_app.process.poll() is not None
    worker_app.start()  # same port, same database

    run = wait_run(user, run_id, timeout=120)
    assert run["status"] == "completed", run
    jobs = step_jobs(user, run)
    assert jobs["s3"]["output"] == {"s3": {"s2": {"s1": {"r": "ü"}}}}
    # Each step ran once: one job per step, on its first attempt.
    all_jobs = run_jobs(user, run)
    assert sorted(job["id"] for job in all_jobs) == sorted(job["id"] for job in jobs.values())
    assert [(name, jobs[name]["attempt"], jobs[name]["status"]) for name in ("s1", "s2", "s3")] == [
        ("s1", 1, "completed"), ("s2", 1, "completed"), ("s3", 1, "completed")]
    assert texts(job_lines(user, s1)).count("s1 started") == 1
    assert running_worker.process.poll() is None
