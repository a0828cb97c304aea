"""Events as code through the real app and the `cronium` command line:
export, plan, apply (twice, and to a fresh instance), prune, dry runs and
the errors a bad file gets."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.app_server import AppServer
from tests.support.cli import cli_env, run_cli
from tests.support.clients import UserClient, register_user
from tests.support.databases import migrated_database

# What the API shows of an event / a workflow that a document does not carry:
# ids, times, counters and the server's own derived values.
NOT_CARRIED = {"id", "createdAt", "updatedAt", "nextFireAt", "executionCount", "lastRunAt", "lastJobStatus",
               "secretEnvVarNames", "serverIds", "scheduleState", "userId", "stats", "lastRun"}


@pytest.fixture(scope="module")
def fresh_app() -> Iterator[AppServer]:
    """A second instance with a database of its own."""
    with migrated_database("cronium_ascode_fresh") as url:
        with AppServer(database_url=url) as server:
            yield server


def cli(user: UserClient, url: str, tmp_path: Path):
    env = cli_env(url, user.token, tmp_path / f"config-{secrets.token_hex(3)}")

    def run(*args: str, stdin: str | None = None):
        return run_cli(env, *args, stdin=stdin)

    return run


def fill(user: UserClient) -> None:
    """Events with schedules, a workflow naming them, variables (one secret)."""
    report = user.create_event(
        name="nightly report", type="python", script='print("report")\nprint("done")\n', description="every night",
        scheduleType="cron", cronExpression="0 2 * * *", timezone="Europe/Paris", retries=2, timeoutSeconds=90,
        envVars={"REGION": "eu"}, tags=["reports"],
    )
    ping = user.create_event(name="ping", type="bash", script="echo pong", scheduleType="interval",
                             intervalSeconds=600, misfirePolicy="skip", memoryMb=128, maxConcurrent=1,
                             priority=7, retentionDays=3, retentionRuns=20)
    cleanup = user.create_event(name="cleanup", type="node", script="console.log('x')", status="paused")
    made = user.http.post("/api/v1/workflows", json={
        "name": "nightly", "description": "report, then clean up",
        "steps": [{"name": "report", "eventId": report["id"]}, {"name": "ping", "eventId": ping["id"]},
                  {"name": "cleanup", "eventId": cleanup["id"]}],
        "edges": [{"from": "report", "to": "ping", "condition": "on_success"},
                  {"from": "report", "to": "cleanup", "condition": "on_failure"}],
        "scheduleType": "cron", "cronExpression": "30 3 * * 1",
    })
    assert made.status_code == 201, made.text
    for key, body in (("region", {"value": "eu"}), ("limits", {"value": {"max": 3}}),
                      ("smtp_password", {"value": "hunter2-secret", "secret": True})):
        assert user.http.put(f"/api/v1/variables/{key}", json=body).status_code in (200, 201)


def listed(user: UserClient, kind: str) -> dict[str, dict]:
    items = user.http.get(f"/api/v1/{kind}", params={"limit": 200}).json()["items"]
    return {item["name"]: user.http.get(f"/api/v1/{kind}/{item['id']}").json() for item in items}


def comparable_event(event: dict) -> dict:
    return {key: value for key, value in event.items() if key not in NOT_CARRIED}


def comparable_workflow(workflow: dict, event_names: dict[int, str]) -> dict:
    shown = {key: value for key, value in workflow.items() if key not in NOT_CARRIED}
    shown["steps"] = [{**{k: v for k, v in step.items() if k not in ("id", "eventId")},
                       "event": event_names[step["eventId"]]} for step in workflow["steps"]]
    return shown


def plan_of(result) -> dict:
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)["plan"]


def test_export_then_apply_to_a_fresh_instance_reproduces_every_event_workflow_and_schedule(
        make_user, app_server, fresh_app, tmp_path, request):
    source = make_user()
    fill(source)
    out_dir = tmp_path / "exported"
    exported = cli(source, app_server.url, tmp_path)("export", "--out", f"{out_dir}/")
    assert exported.returncode == 0, exported.stderr
    assert sorted(p.name for p in out_dir.iterdir()) == ["events.yaml", "variables.yaml", "workflows.yaml"]
    assert "hunter2-secret" not in "".join(p.read_text() for p in out_dir.iterdir())

    target = register_user(fresh_app.url)
    request.addfinalizer(target.http.close)
    run = cli(target, fresh_app.url, tmp_path)
    applied = run("apply", "-f", str(out_dir), "--yes")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "Plan: 6 to create, 0 to update, 0 to delete, 1 unchanged." in applied.stdout
    assert "smtp_password" in applied.stderr  # a secret reference with no value there: a warning

    source_events, target_events = listed(source, "events"), listed(target, "events")
    assert sorted(target_events) == ["cleanup", "nightly report", "ping"]
    for name, event in source_events.items():
        assert comparable_event(target_events[name]) == comparable_event(event), name
    names = {e["id"]: n for n, e in source_events.items()}
    target_names = {e["id"]: n for n, e in target_events.items()}
    source_flow, target_flow = listed(source, "workflows")["nightly"], listed(target, "workflows")["nightly"]
    assert comparable_workflow(target_flow, target_names) == comparable_workflow(source_flow, names)
    assert target.http.get("/api/v1/variables/limits").json()["value"] == {"max": 3}


def test_apply_twice_plans_all_unchanged_the_second_time(user, app_server, tmp_path):
    fill(user)
    run = cli(user, app_server.url, tmp_path)
    document = run("export").stdout
    edited = document.replace("echo pong", "echo pong again")
    first = plan_of(run("apply", "-f", "-", "--yes", "--json", stdin=edited))
    assert [(c["name"], c["fields"]) for c in first["changes"] if c["action"] == "update"] == [("ping", ["script"])]
    second = plan_of(run("apply", "-f", "-", "--yes", "--json", stdin=edited))
    assert second["summary"] == {"create": 0, "update": 0, "delete": 0, "unchanged": 7}
    assert {c["action"] for c in second["changes"]} == {"unchanged"}


def test_dry_run_only_plans_and_prune_deletes_what_the_file_no_longer_has(user, app_server, tmp_path):
    fill(user)
    run = cli(user, app_server.url, tmp_path)
    only_ping = "version: 1\nevents:\n- name: ping\n  type: bash\n  script: echo pong\n  memoryMb: 128\n" \
                "  maxConcurrent: 1\n  priority: 7\n  retentionDays: 3\n  retentionRuns: 20\n" \
                "  schedule: {type: interval, intervalSeconds: 600, misfirePolicy: skip}\n"
    planned = run("apply", "-f", "-", "--prune", "--dry-run", stdin=only_ping)
    assert planned.returncode == 0, planned.stderr
    assert "- event 'cleanup': delete" in planned.stdout and "- workflow 'nightly': delete" in planned.stdout
    assert "= event 'ping': unchanged" in planned.stdout
    assert sorted(listed(user, "events")) == ["cleanup", "nightly report", "ping"]  # nothing changed

    not_asked = run("apply", "-f", "-", "--prune", stdin=only_ping)
    assert not_asked.returncode == 2 and "--yes" in not_asked.stderr

    pruned = run("apply", "-f", "-", "--prune", "--yes", stdin=only_ping)
    assert pruned.returncode == 0, pruned.stderr
    assert sorted(listed(user, "events")) == ["ping"] and listed(user, "workflows") == {}
    assert user.http.get("/api/v1/variables", params={"limit": 200}).json()["items"] == []


@pytest.mark.parametrize(("text", "line", "needle"), [
    ("version: 1\nevents:\n- name: a\n  type: bash\n  script: echo\n  schedule:\n    type: cron\n"
     "    cronExpression: 'not a cron'\n", 8, "events[0] (a).schedule.cronExpression"),
    ("version: 1\nevents:\n- name: a\n  type: cobol\n", 4, "events[0] (a).type"),
    ("version: 1\nevents:\n- name: a\n  type: bash\n  colour: red\n", 5, "events[0] (a).colour"),
    ("version: 1\nevents:\n- name: a\n  type: bash\n   script: [\n", 5, "column"),
])
def test_a_bad_file_is_refused_naming_the_line_and_the_field(user, app_server, tmp_path, text, line, needle):
    path = tmp_path / "cronium.yaml"
    path.write_text(text)
    refused = cli(user, app_server.url, tmp_path)("apply", "-f", str(path), "--dry-run")
    assert refused.returncode == 65, refused.stdout + refused.stderr
    assert f"{path} line {line}" in refused.stderr and needle in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_workflow_step_naming_an_unknown_event_is_refused(user, app_server, tmp_path):
    text = "version: 1\nworkflows:\n- name: w\n  steps:\n  - {name: s, event: nowhere}\n"
    refused = cli(user, app_server.url, tmp_path)("apply", "-f", "-", "--dry-run", stdin=text)
    assert refused.returncode == 65
    assert "<stdin> line 3" in refused.stderr and "steps[0].event" in refused.stderr
    assert "'nowhere'" in refused.stderr


def test_a_secret_value_in_a_file_is_refused(user, app_server, tmp_path):
    text = "version: 1\nvariables:\n- key: token\n  secret: true\n  value: hunter2\n"
    refused = cli(user, app_server.url, tmp_path)("apply", "-f", "-", "--dry-run", stdin=text)
    assert refused.returncode == 65 and "<stdin> line 3" in refused.stderr and "reference" in refused.stderr
