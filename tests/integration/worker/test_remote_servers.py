"""Events on remote servers: real sshd on 127.0.0.2-4 (on a free port), the
real worker and app. Parallel runs, labelled lines, partial status, fast
failure of a dead server, host key pinning and refusal, helpers over the
reverse-forwarded socket, cancel, timeout, connection reuse, and no secret
anywhere."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.worker.jobkit import network_gateway, write_event_row
from tests.support.clients import UserClient, job_lines, wait_for_job
from tests.support.sshd import SshdHosts
from tests.support.worker_process import SESSION_ENV, WorkerProcess

DEAD_HOST = "127.0.0.9"  # loopback; nothing listens on port 9 (discard) there


@pytest.fixture(scope="module")
def sshd() -> Iterator[SshdHosts]:
    with SshdHosts(count=3) as hosts:
        yield hosts


@pytest.fixture(scope="module")
def ssh_worker(worker_app) -> Iterator[WorkerProcess]:
    with WorkerProcess(worker_app.url, concurrency=8, env_overrides={"CRONIUM_SSH_BREAKER_COOLDOWN": "300"}) as worker:
        yield worker


def add_server(user: UserClient, sshd: SshdHosts, index: int = 0, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"srv-{uuid.uuid4().hex[:6]}", "host": sshd.addresses[index], "port": sshd.port,
        "username": sshd.user, "authType": "key", "privateKey": sshd.private_key,
    }
    body.update(fields)
    response = user.http.post("/api/v1/servers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope="module")
def three_servers(worker_user, sshd) -> list[dict[str, Any]]:
    return [add_server(worker_user, sshd, i, name=f"node-{i + 1}") for i in range(3)]


def run_on(user: UserClient, servers: list[dict[str, Any]], script: str, *, type: str = "bash", timeout: float = 60, **fields: Any) -> dict[str, Any]:
    event = user.create_event(type=type, script=script, serverIds=[s["id"] for s in servers], **fields)
    return wait_for_job(user, user.execute(event["id"]), timeout=timeout)


def lines_of(user: UserClient, job_id: str) -> list[dict[str, Any]]:
    return job_lines(user, job_id)


# -- parallel runs and the log -------------------------------------------------------


def test_three_servers_run_at_the_same_time(ssh_worker, worker_user, three_servers):
    script = "echo \"start $(date +%s.%N)\"; sleep 2; echo \"end $(date +%s.%N)\""
    job = run_on(worker_user, three_servers, script)
    assert job["status"] == "completed", job
    stamps: dict[str, dict[str, float]] = {}
    for line in lines_of(worker_user, job["id"]):
        found = re.match(r"^\[(node-\d)\] (start|end) ([\d.]+)$", line["line"])
        if found:
            stamps.setdefault(found[1], {})[found[2]] = float(found[3])
    assert set(stamps) == {"node-1", "node-2", "node-3"}
    # In parallel: every server started before any of them ended.
    assert max(s["start"] for s in stamps.values()) < min(s["end"] for s in stamps.values())


def test_each_servers_lines_carry_its_name(ssh_worker, worker_user, three_servers):
    job = run_on(worker_user, three_servers, "echo out-line; echo err-line >&2")
    assert job["status"] == "completed"
    lines = [(line["stream"], line["line"]) for line in lines_of(worker_user, job["id"])]
    for name in ("node-1", "node-2", "node-3"):
        assert ("stdout", f"[{name}] out-line") in lines
        assert ("stderr", f"[{name}] err-line") in lines


def test_each_server_has_its_own_result(ssh_worker, worker_user, three_servers):
    job = run_on(worker_user, three_servers, "exit 0")
    results = {r["name"]: r for r in job["result"]["servers"]}
    assert set(results) == {"node-1", "node-2", "node-3"}
    assert all(r["status"] == "completed" and r["exitCode"] == 0 and r["durationMs"] >= 0 for r in results.values())


def test_one_failing_server_makes_the_job_partial(ssh_worker, worker_user, three_servers, sshd):
    # SSH_CONNECTION's third field is the address the server answered on.
    script = f'set -- $SSH_CONNECTION; if [ "$3" = {sshd.addresses[1]} ]; then echo failing >&2; exit 3; fi; echo fine'
    job = run_on(worker_user, three_servers, script)
    assert job["status"] == "partial", job
    results = {r["name"]: r for r in job["result"]["servers"]}
    assert results["node-2"]["status"] == "failed" and results["node-2"]["exitCode"] == 3
    assert results["node-1"]["status"] == results["node-3"]["status"] == "completed"
    assert "1 of 3 servers failed (node-2)" in job["error"]


def test_all_servers_failing_makes_the_job_failed(ssh_worker, worker_user, three_servers):
    job = run_on(worker_user, three_servers, "exit 7")
    assert job["status"] == "failed" and job["exitCode"] == 7


def test_env_vars_reach_the_remote_script_but_not_its_command_line(ssh_worker, worker_user, three_servers):
    # "[i]t.s me" matches the value but not grep's own argv, which may or may
    # not be listed yet when ps runs.
    job = run_on(worker_user, three_servers[:1], 'echo "value=$GREETING"; ps -eo args | grep -c "[i]t.s me" || true',
                 envVars={"GREETING": "it's me"})
    texts = [line["line"] for line in lines_of(worker_user, job["id"])]
    assert "[node-1] value=it's me" in texts
    # No process has the value in its argv: it is in a 0600 file.
    assert "[node-1] 0" in texts


def test_the_private_directory_is_removed_afterwards(ssh_worker, worker_user, three_servers):
    job = run_on(worker_user, three_servers[:1], 'echo "dir=$PWD"; stat -c "%a" "$PWD"')
    texts = [line["line"] for line in lines_of(worker_user, job["id"])]
    run_dir = next(t.split("=", 1)[1] for t in texts if t.startswith("[node-1] dir="))
    assert "[node-1] 700" in texts
    assert not os.path.exists(run_dir)


# -- failures ------------------------------------------------------------------------


def test_an_unreachable_server_fails_fast_with_the_reason(ssh_worker, worker_user, sshd, three_servers):
    dead = add_server(worker_user, sshd, host=DEAD_HOST, port=9, name="dead-one")
    began = time.monotonic()
    job = run_on(worker_user, [three_servers[0], dead], "echo hi")
    assert time.monotonic() - began < 30
    assert job["status"] == "partial"
    result = {r["name"]: r for r in job["result"]["servers"]}["dead-one"]
    assert result["status"] == "failed" and "cannot connect" in result["error"]


def test_a_server_that_keeps_failing_is_skipped_by_the_circuit_breaker(ssh_worker, worker_user, sshd):
    dead = add_server(worker_user, sshd, host=DEAD_HOST, port=2299, name="dead-two")
    errors = [run_on(worker_user, [dead], "echo hi")["error"] for _ in range(4)]
    assert all("cannot connect" in e for e in errors[:3])
    assert "not trying again" in errors[3] and "3 connection attempts failed in a row" in errors[3]


def test_a_changed_host_key_is_refused(ssh_worker, worker_user, sshd):
    server = add_server(worker_user, sshd, hostKey=sshd.other_host_key)
    job = run_on(worker_user, [server], "echo should not run")
    assert job["status"] == "failed"
    assert "host key verification failed" in job["error"]
    assert not any("should not run" in line["line"] for line in lines_of(worker_user, job["id"]))


def test_the_host_key_is_pinned_on_the_first_connection(ssh_worker, worker_user, sshd):
    server = add_server(worker_user, sshd, 2)
    assert server["hostKey"] is None
    assert run_on(worker_user, [server], "true")["status"] == "completed"
    pinned = worker_user.http.get(f"/api/v1/servers/{server['id']}").json()
    assert pinned["hostKey"] == sshd.host_key.rsplit(" ", 1)[0]
    assert pinned["hostKeyFingerprint"].startswith("SHA256:")


def test_password_login_works(ssh_worker, worker_user, sshd):
    server = add_server(worker_user, sshd, 1, authType="password", privateKey=None, password=sshd.password)
    job = run_on(worker_user, [server], "whoami")
    assert job["status"] == "completed"
    assert f"[{server['name']}] {sshd.user}" in [line["line"] for line in lines_of(worker_user, job["id"])]


# -- helpers, cancel, timeout ------------------------------------------------------


def test_helpers_work_on_remote_servers(ssh_worker, worker_user, three_servers):
    key = f"remote_{uuid.uuid4().hex[:8]}"
    script = (
        "import cronium\n"
        f"cronium.set_variable('{key}', {{'from': 'remote'}})\n"
        f"print('got', cronium.get_variable('{key}')['from'])\n"
        "print('event', cronium.event()['name'])\n"
        "cronium.output({'ok': True})\n"
    )
    job = run_on(worker_user, three_servers[:1], script, type="python", name="remote helpers")
    assert job["status"] == "completed", lines_of(worker_user, job["id"])
    texts = [line["line"] for line in lines_of(worker_user, job["id"])]
    assert "[node-1] got remote" in texts and "[node-1] event remote helpers" in texts
    assert worker_user.http.get(f"/api/v1/variables/{key}").json()["value"] == {"from": "remote"}
    assert job["output"] == {"ok": True}


def test_bash_and_node_helpers_work_on_remote_servers(ssh_worker, worker_user, three_servers):
    key = f"remote_{uuid.uuid4().hex[:8]}"
    bash = run_on(worker_user, three_servers[:1], f"cronium_set_variable {key} from-bash; cronium_get_variable {key}")
    assert "[node-1] from-bash" in [line["line"] for line in lines_of(worker_user, bash["id"])]
    node = run_on(worker_user, three_servers[:1], f"(async () => console.log('node', await cronium.getVariable('{key}')))()", type="node")
    assert "[node-1] node from-bash" in [line["line"] for line in lines_of(worker_user, node["id"])]


PRINT_GROUP = 'echo "group $(ps -o pgid= $$ | tr -d " ")"'


def _pids_alive(pgid: int) -> bool:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


def _wait_for_line(user: UserClient, job_id: str, pattern: str, timeout: float = 30) -> re.Match:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in lines_of(user, job_id):
            found = re.search(pattern, line["line"])
            if found:
                return found
        time.sleep(0.2)
    raise AssertionError(f"no line matched {pattern!r}")


def test_cancel_kills_the_remote_process_group(ssh_worker, worker_user, three_servers):
    event = worker_user.create_event(script=f"{PRINT_GROUP}; sleep 300 & sleep 300", serverIds=[three_servers[0]["id"]])
    job_id = worker_user.execute(event["id"])
    pgid = int(_wait_for_line(worker_user, job_id, r"group (\d+)")[1])
    assert _pids_alive(pgid)
    assert worker_user.http.post(f"/api/v1/jobs/{job_id}/cancel").status_code in (200, 202)
    assert wait_for_job(worker_user, job_id)["status"] == "cancelled"
    deadline = time.monotonic() + 10
    while _pids_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _pids_alive(pgid)


def test_a_remote_job_times_out_and_its_processes_are_killed(ssh_worker, worker_user, three_servers):
    job = run_on(worker_user, three_servers[:2], f"{PRINT_GROUP}; sleep 300", timeoutSeconds=2)
    assert job["status"] == "timed_out", job
    groups = [int(m[1]) for line in lines_of(worker_user, job["id"]) if (m := re.search(r"group (\d+)", line["line"]))]
    assert len(groups) == 2
    deadline = time.monotonic() + 10
    while any(_pids_alive(g) for g in groups) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_pids_alive(g) for g in groups)


# -- pooling -------------------------------------------------------------------------


def test_a_second_job_on_a_server_opens_no_new_connection(ssh_worker, worker_user, sshd):
    server = add_server(worker_user, sshd, 0)
    assert run_on(worker_user, [server], "true")["status"] == "completed"
    logins = sshd.logins()
    for _ in range(3):
        assert run_on(worker_user, [server], "true")["status"] == "completed"
    assert sshd.logins() == logins


def test_a_dropped_connection_is_replaced_for_the_next_job(ssh_worker, worker_user, sshd):
    server = add_server(worker_user, sshd, 1)
    assert run_on(worker_user, [server], "true")["status"] == "completed"
    assert sshd.drop_connections() > 0  # as if the server restarted
    logins = sshd.logins()
    job = run_on(worker_user, [server], "echo again")
    assert job["status"] == "completed", job
    assert sshd.logins() == logins + 1


def test_test_connection_pins_the_key_and_reports(worker_app, worker_user, sshd):
    server = add_server(worker_user, sshd, 1)
    reply = worker_user.http.post(f"/api/v1/servers/{server['id']}/test").json()
    assert reply["ok"] is True and "host key pinned" in reply["message"]
    assert reply["server"]["hostKey"] and reply["server"]["lastCheckOk"] is True
    dead = add_server(worker_user, sshd, host=DEAD_HOST, port=9, name="dead-three")
    reply = worker_user.http.post(f"/api/v1/servers/{dead['id']}/test").json()
    assert reply["ok"] is False and "cannot connect" in reply["message"]


# -- secrets -------------------------------------------------------------------------


def test_no_secret_appears_in_any_api_response_or_log(ssh_worker, worker_app, worker_user, sshd):
    by_password = add_server(worker_user, sshd, 1, authType="password", privateKey=None, password=sshd.password)
    by_key = add_server(worker_user, sshd, 2)
    job = run_on(worker_user, [by_password, by_key], "echo done")
    secrets = [sshd.password, sshd.private_key.splitlines()[1]]
    seen = [
        worker_user.http.get("/api/v1/servers", params={"limit": 200}).text,
        worker_user.http.get(f"/api/v1/servers/{by_password['id']}").text,
        worker_user.http.get(f"/api/v1/jobs/{job['id']}").text,
        worker_user.http.get(f"/api/v1/jobs/{job['id']}/logs").text,
        worker_user.http.get("/api/v1/jobs", params={"limit": 200}).text,
        worker_user.http.get("/api/v1/openapi.json").text,
        ssh_worker.log_text(),
        worker_app.log_path.read_text(errors="replace"),
    ]
    for text in seen:
        for secret in secrets:
            assert secret not in text


# -- in a container on the server ------------------------------------------------------


@pytest.fixture
def docker_on_server(sshd):
    """Let the test account use the server's Docker for one test (docker
    group membership is root-equivalent: granted only for the test)."""
    subprocess.run(["usermod", "-aG", "docker", sshd.user], check=True)
    yield
    subprocess.run(["gpasswd", "-d", sshd.user, "docker"], check=True, capture_output=True)


def test_remote_docker_runs_the_script_in_a_locked_down_container(ssh_worker, worker_user, sshd, docker_on_server):
    # A server of its own: a new login, which picks up the docker group.
    server = add_server(worker_user, sshd, 0, name="docker-host")
    key = f"remote_docker_{uuid.uuid4().hex[:8]}"
    script = (
        "import os, cronium\n"
        "print('in container', os.path.exists('/.dockerenv'))\n"
        "try:\n"
        "    open('/etc/x', 'w')\n"
        "except OSError as e:\n"
        "    print('read-only root', e.errno)\n"
        f"cronium.set_variable('{key}', 'from a container')\n"
    )
    job = run_on(worker_user, [server], script, type="python", remoteDocker=True)
    texts = [line["line"] for line in lines_of(worker_user, job["id"])]
    assert job["status"] == "completed", texts
    assert "[docker-host] in container True" in texts and "[docker-host] read-only root 30" in texts
    assert worker_user.http.get(f"/api/v1/variables/{key}").json()["value"] == "from a container"


def test_remote_docker_egress_joins_the_job_network_not_the_default_bridge(ssh_worker, worker_user, sshd, docker_on_server):
    """The server here is this machine, so the job network is the one the
    worker made; the job's default route must lead to its gateway."""
    server = add_server(worker_user, sshd, 0, name="egress-host")
    script = (
        "import socket, struct\n"
        "for line in open('/proc/net/route').read().splitlines()[1:]:\n"
        "    fields = line.split()\n"
        "    if fields[1] == '00000000':\n"
        "        print('gateway', socket.inet_ntoa(struct.pack('<I', int(fields[2], 16))))\n"
        "print('ipv6', repr(open('/proc/net/if_inet6').read()))\n"
    )
    job = run_on(worker_user, [server], script, type="python", remoteDocker=True, network="egress")
    texts = [line["line"] for line in lines_of(worker_user, job["id"])]
    assert job["status"] == "completed", texts
    assert f"[egress-host] gateway {network_gateway(SESSION_ENV['CRONIUM_EGRESS_NETWORK'])}" in texts
    assert "[egress-host] ipv6 ''" in texts


def test_remote_docker_refuses_an_image_not_allowed_before_connecting(ssh_worker, worker_app, worker_user, sshd):
    server = add_server(worker_user, sshd, 0, name="image-host")
    event = worker_user.create_event(type="bash", script="echo never", serverIds=[server["id"]], remoteDocker=True)
    write_event_row(worker_app.database_url, event["id"], image="debian:12")  # the API refuses it
    job = wait_for_job(worker_user, worker_user.execute(event["id"]))

    assert job["status"] == "failed"
    assert job["error"].startswith("image 'debian:12' is not allowed here"), job["error"]
    assert [line["line"] for line in lines_of(worker_user, job["id"])] == [job["error"]]


def test_a_remote_script_dies_with_its_worker(ssh_worker, worker_app, worker_user, sshd):
    """No script outlives its job: when the worker is killed (-9), the SSH
    connection drops and the script's process group is killed on the server."""
    server = add_server(worker_user, sshd, 2, name="orphan-check")
    event = worker_user.create_event(script=f"{PRINT_GROUP}; sleep 300", serverIds=[server["id"]])
    ssh_worker.stop()  # the doomed worker must be the one that takes the job
    try:
        _run_and_kill_the_worker(worker_app, worker_user, event)
    finally:
        ssh_worker.start()


def _run_and_kill_the_worker(worker_app, worker_user, event) -> None:
    with WorkerProcess(worker_app.url, concurrency=2) as doomed:
        job_id = worker_user.execute(event["id"])
        pgid = int(_wait_for_line(worker_user, job_id, r"group (\d+)")[1])
        assert _pids_alive(pgid)
        doomed.signal(signal.SIGKILL)
        deadline = time.monotonic() + 15
        while _pids_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _pids_alive(pgid)
    worker_user.http.post(f"/api/v1/jobs/{job_id}/cancel")
