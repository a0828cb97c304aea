"""The `cronium` command line against the real app and a real worker.

`run --follow` is checked in a pseudo-terminal. A script prints its first
line, then waits (bounded) until the test sets a variable, which the test
does only once that line has reached the terminal: a command that printed
the log only at the end would never show the line while the job runs, and
the script would give up. The job's own timestamps (a line's `date`, the
job's completedAt) then show the line arrived before the job ended."""

from __future__ import annotations

import json
import os
import secrets
import stat
from datetime import datetime

import pytest

from tests.support.cli import Terminal, cli_env, run_cli
from tests.support.clients import register_user, wait_for_job
from tests.support.tcp_proxy import CuttableProxy

pytestmark = pytest.mark.slow

GATED = """\
echo "first $(date +%s.%N)"
for i in $(seq 1 600); do
  [ -n "$(cronium_get_variable {gate})" ] && break
  sleep 0.1
done
[ -n "$(cronium_get_variable {gate})" ] || echo "gave up waiting for the test"
echo "second $(date +%s.%N)"
exit {code}
"""


@pytest.fixture
def env(worker_app, worker_user, tmp_path):
    return cli_env(worker_app.url, worker_user.token, tmp_path / "config")


def gated_event(user, code: int) -> tuple[dict, str]:
    gate = f"gate_{secrets.token_hex(4)}"
    event = user.create_event(name=f"gated {gate}", script=GATED.format(gate=gate, code=code), timeoutSeconds=120)
    return event, gate


def open_gate(user, gate: str) -> None:
    assert user.http.put(f"/api/v1/variables/{gate}", json={"value": "go"}).status_code == 201


def stamp(line: str) -> float:
    return float(line.split()[-1])


def iso(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


@pytest.mark.parametrize("code", [0, 3])
def test_run_follow_prints_lines_as_they_are_written_and_exits_with_the_scripts_code(
        env, worker_user, running_worker, code):
    event, gate = gated_event(worker_user, code)
    with Terminal(env, ("run", event["name"], "--follow")) as terminal:
        first_arrived = terminal.wait_for("first ")
        open_gate(worker_user, gate)
        assert terminal.wait() == code, terminal.text()
    lines = [line for _, line in terminal.lines()]
    firsts = [line for line in lines if line.startswith("first ")]
    seconds = [line for line in lines if line.startswith("second ")]
    assert len(firsts) == 1 and len(seconds) == 1, terminal.text()
    assert "gave up" not in terminal.text()
    job_id = next(line.split()[1] for line in lines if line.startswith("job job_"))
    job = worker_user.job(job_id)
    # The first line was on the terminal before the script wrote its second
    # line, and before the job ended (by the job's own clocks).
    assert stamp(firsts[0]) <= first_arrived < stamp(seconds[0]) < iso(job["completedAt"])
    assert job["exitCode"] == code


def test_run_follow_exits_124_when_the_job_times_out(env, worker_user, running_worker):
    event = worker_user.create_event(name="sleeps too long", script="echo started; sleep 60", timeoutSeconds=2)
    with Terminal(env, ("run", str(event["id"]), "--follow")) as terminal:
        assert terminal.wait() == 124, terminal.text()
    assert "started" in terminal.text()
    assert "timed_out" in terminal.text()


def test_run_follow_resumes_after_a_dropped_connection_without_losing_or_repeating_a_line(
        worker_app, worker_user, running_worker, tmp_path):
    event, gate = gated_event(worker_user, 0)
    with CuttableProxy(worker_app.port) as proxy:
        env = cli_env(proxy.url, worker_user.token, tmp_path / "config")
        with Terminal(env, ("run", event["name"], "--follow", "--reconnect-for", "120")) as terminal:
            terminal.wait_for("first ")
            proxy.cut()
            terminal.wait_for("connection lost")
            open_gate(worker_user, gate)
            job_id = next(line.split()[1] for _, line in terminal.lines() if line.startswith("job job_"))
            wait_for_job(worker_user, job_id, timeout=120)
            proxy.restore()
            assert terminal.wait() == 0, terminal.text()
    lines = [line for _, line in terminal.lines()]
    assert sum(line.startswith("first ") for line in lines) == 1, terminal.text()
    assert sum(line.startswith("second ") for line in lines) == 1, terminal.text()
    assert any(line.startswith("reconnected") for line in lines), terminal.text()


def test_run_without_follow_prints_the_job_id_and_json_for_scripts(env, worker_user):
    event = worker_user.create_event(name=f"plain {secrets.token_hex(3)}", script="echo hi")
    done = run_cli(env, "run", str(event["id"]), "--input", '{"n": 1}', "--json")
    assert done.returncode == 0, done.stderr
    job_id = json.loads(done.stdout)["jobId"]
    assert worker_user.job(job_id)["input"] == {"n": 1}


def test_jobs_logs_show_and_ls(env, worker_user, running_worker):
    event = worker_user.create_event(name=f"logs {secrets.token_hex(3)}", script="echo alpha; echo beta >&2")
    job_id = worker_user.execute(event["id"])
    wait_for_job(worker_user, job_id)
    logs = run_cli(env, "jobs", "logs", job_id)
    assert (logs.returncode, logs.stdout, logs.stderr) == (0, "alpha\n", "beta\n")
    shown = json.loads(run_cli(env, "jobs", "show", job_id, "--json").stdout)
    assert shown["status"] == "completed" and shown["exitCode"] == 0
    listed = run_cli(env, "jobs", "ls", "--event", event["name"])
    assert job_id in listed.stdout and "completed" in listed.stdout


def test_jobs_cancel_ends_the_job_cancelled(env, worker_user):
    # Waiting or already running (the module's worker may have taken it), it ends cancelled.
    event = worker_user.create_event(name="to cancel", script="sleep 60", timeoutSeconds=120)
    job_id = worker_user.execute(event["id"])
    done = run_cli(env, "jobs", "cancel", job_id, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["id"] == job_id
    assert wait_for_job(worker_user, job_id, timeout=120)["status"] == "cancelled"


def test_errors_are_one_line_with_their_documented_exit_codes(env, worker_app, tmp_path):
    missing = run_cli(env, "events", "show", "no such event")
    assert missing.returncode == 65 and missing.stderr.startswith("error: no event named")
    assert "Traceback" not in missing.stderr
    unsigned = run_cli(cli_env(worker_app.url, None, tmp_path / "empty"), "events", "ls")
    assert unsigned.returncode == 77 and "cronium login" in unsigned.stderr
    refused = run_cli(cli_env(worker_app.url, "crn_not-a-token", tmp_path / "empty"), "events", "ls")
    assert refused.returncode == 77
    closed = CuttableProxy(worker_app.port).start()
    closed.cut()
    unreachable = run_cli(cli_env(closed.url, "crn_x", tmp_path / "empty"), "jobs", "ls")
    assert unreachable.returncode == 69 and "cannot reach" in unreachable.stderr
    usage = run_cli(env, "run")
    assert usage.returncode == 2


def test_login_stores_url_and_token_for_the_user_alone_and_the_environment_overrides_them(
        worker_app, worker_user, tmp_path):
    env = cli_env("http://127.0.0.1:1", None, tmp_path / "config")
    del env["CRONIUM_URL"]
    done = run_cli(env, "login", "--url", worker_app.url, "--token", worker_user.token)
    assert done.returncode == 0, done.stderr
    stored = tmp_path / "config" / "cronium" / "config.json"
    assert stat.S_IMODE(os.stat(stored).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(stored.parent).st_mode) == 0o700
    assert json.loads(stored.read_text()) == {"url": worker_app.url, "token": worker_user.token}
    assert run_cli(env, "tokens", "ls").returncode == 0
    overridden = run_cli({**env, "CRONIUM_TOKEN": "crn_wrong"}, "tokens", "ls")
    assert overridden.returncode == 77
    assert run_cli(env, "login", "--url", worker_app.url, "--token", "crn_wrong").returncode == 77


def test_variables_set_get_and_export_as_json_env_and_csv(worker_app, tmp_path):
    user = register_user(worker_app.url)
    env = cli_env(worker_app.url, user.token, tmp_path / "config")
    assert run_cli(env, "variables", "set", "greeting", "it's me").returncode == 0
    assert run_cli(env, "variables", "set", "limits", '{"max": 3}', "--parse-json").returncode == 0
    assert run_cli(env, "variables", "set", "api.key", "s3cret-value", "--secret").returncode == 0
    assert run_cli(env, "variables", "get", "greeting").stdout == "it's me\n"
    assert run_cli(env, "variables", "get", "limits").stdout == '{"max": 3}\n'
    assert run_cli(env, "variables", "get", "api.key").returncode == 65
    as_json = json.loads(run_cli(env, "variables", "export", "--format", "json").stdout)
    assert as_json == {"api.key": None, "greeting": "it's me", "limits": {"max": 3}}
    as_env = run_cli(env, "variables", "export", "--format", "env").stdout
    assert as_env == "# api.key: secret, not exported\ngreeting='it'\"'\"'s me'\nlimits='{\"max\": 3}'\n"
    as_csv = run_cli(env, "variables", "export", "--format", "csv").stdout
    assert as_csv == 'key,value,secret\napi.key,,true\ngreeting,it\'s me,false\nlimits,"{""max"": 3}",false\n'
    assert "s3cret-value" not in as_json and "s3cret-value" not in as_env + as_csv


def test_workflows_run_follow_exits_with_the_runs_outcome(env, worker_user, running_worker):
    event = worker_user.create_event(name=f"step {secrets.token_hex(3)}", script="exit 0")
    name = f"flow {secrets.token_hex(3)}"
    created = worker_user.http.post("/api/v1/workflows", json={"name": name, "steps": [
        {"name": "only", "eventId": event["id"]}]})
    assert created.status_code == 201, created.text
    listed = run_cli(env, "workflows", "ls")
    assert name in listed.stdout
    done = run_cli(env, "workflows", "run", name, "--follow")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "only: completed" in done.stdout


def test_tokens_create_prints_the_token_once_and_revoke_ends_it(env, worker_app, tmp_path):
    made = json.loads(run_cli(env, "tokens", "create", "ci", "--json").stdout)
    fresh = cli_env(worker_app.url, made["token"], tmp_path / "other")
    listed = run_cli(fresh, "tokens", "ls")
    assert listed.returncode == 0 and "WORKSPACE" in listed.stdout and "Personal" in listed.stdout
    assert run_cli(env, "tokens", "revoke", str(made["id"])).returncode == 0
    assert run_cli(fresh, "tokens", "ls").returncode == 77
