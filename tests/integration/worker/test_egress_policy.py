"""Egress jobs reach the public internet and nothing else.

Real jobs through the real app and worker try to reach the app (through
the job network's gateway and every address of this host), a TCP listener
on the host, another job's container, and listeners in a network namespace
this module creates at a private address (10.x) and at 169.254.169.254 (the
cloud metadata address). Each is refused at once. Controls show that the
refusals are the policy's doing: with CRONIUM_EGRESS_ALLOW naming the 10.x
address it is reached, and with the policy off the host is. No traffic goes
anywhere but this machine and its namespace: the rules for public ranges are
checked by reading them.

Workers run one at a time (one class each), all on this module's app.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import ipaddress
import json
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orchestrator_worker.egress import firewall
from orchestrator_worker.egress.guard import RECHECK_S
from orchestrator_worker.egress.policy import EgressPolicy
from tests.integration.worker.jobkit import brief, network_gateway, submit, texts, wait_for_container
from tests.support.app_server import AppServer
from tests.support.clients import UserClient, job_lines, wait_for_job
from tests.support.databases import migrated_database
from tests.support.egress import can_manage_firewall, egress_env, free_subnet, leftovers, network_name, remove_policy
from tests.support.worker_process import WorkerProcess

pytestmark = pytest.mark.skipif(not can_manage_firewall(), reason="needs root and the Docker Engine")

REFUSED_WITHIN_S = 2.0
JOB_LISTENER_PORT = 8080
NAMESPACE_PORT = 80
METADATA = "169.254.169.254"
# The host routes METADATA to one namespace at a time: the test sessions
# running on this machine take turns with this module's namespace.
NAMESPACE_LOCK = Path(tempfile.gettempdir()) / "cronium-test-metadata-namespace.lock"

# Tries each target once and prints one JSON line per try. A hang would show
# as a TimeoutError after 5 s; a refusal is a ConnectionRefusedError at once.
PROBE = """\
import json, socket, time
for label, host, port in json.loads(TARGETS):
    began = time.monotonic()
    result = {"label": label}
    try:
        with socket.create_connection((host, port), timeout=5) as conn:
            conn.settimeout(1)
            try:
                said = conn.recv(64).decode(errors="replace").strip()
            except OSError:
                said = ""
            result.update(outcome="connected", said=said)
    except OSError as exc:
        result.update(outcome=type(exc).__name__, said=str(exc))
    result["seconds"] = round(time.monotonic() - began, 3)
    print(json.dumps(result), flush=True)
print(json.dumps({"label": "if_inet6", "said": open("/proc/net/if_inet6").read()}), flush=True)
"""

JOB_LISTENER = f"""\
import socket
server = socket.create_server(("0.0.0.0", {JOB_LISTENER_PORT}))
server.settimeout(90)
while True:
    conn, _ = server.accept()
    with conn:
        conn.sendall(b"hello from a job\\n")
        if conn.recv(16).startswith(b"quit"):
            break
print("listener done", flush=True)
"""

NAMESPACE_LISTENER = f"""\
import socket
server = socket.create_server(("0.0.0.0", {NAMESPACE_PORT}))
while True:
    conn, _ = server.accept()
    with conn:
        conn.sendall(b"hello from the namespace\\n")
"""


# -- this machine --------------------------------------------------------------------


def host_addresses() -> list[tuple[str, ipaddress.IPv4Address | ipaddress.IPv6Address]]:
    """(interface, address) for every address of this host but loopback."""
    links = json.loads(subprocess.run(["ip", "-j", "addr"], capture_output=True, text=True, check=True).stdout)
    found = []
    for link in links:
        for info in link.get("addr_info", []):
            address = ipaddress.ip_address(info["local"])
            if not address.is_loopback:
                found.append((link["ifname"], address))
    return found


def run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=30)


def rules(chain: str) -> list[str]:
    return subprocess.run(["iptables", "-w", "-S", chain], capture_output=True, text=True, check=True).stdout.splitlines()


def rule_lines_with(needle: str) -> list[str]:
    table = subprocess.run(["iptables", "-w", "-S"], capture_output=True, text=True, check=True).stdout
    return [line for line in table.splitlines() if needle in line]


class _Greeter(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.sendall(b"hello from the host\n")


class _DualStackServer(socketserver.ThreadingTCPServer):
    address_family = socket.AF_INET6
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


@dataclass(frozen=True)
class Namespace:
    name: str
    private: str  # the listener's 10.x address
    host_side: str


@pytest.fixture(scope="module")
def worker_app() -> Iterator[AppServer]:
    """The app on every address of the host, as `make run` serves it: what
    a job must not reach."""
    with migrated_database("cronium_egress_test") as url:
        with AppServer(database_url=url, host="0.0.0.0") as server:
            yield server


@pytest.fixture(scope="module")
def host_listener() -> Iterator[int]:
    """A TCP listener on every IPv4 and IPv6 address of the host; its port."""
    server = _DualStackServer(("::", 0), _Greeter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def namespace() -> Iterator[Namespace]:
    """A network namespace behind a veth pair, at a free 10.x address and at
    169.254.169.254, routed from the host (so traffic from the job network
    would be forwarded there), with a TCP listener on port 80."""
    with _namespace_turn():
        yield from _namespace()


@contextlib.contextmanager
def _namespace_turn() -> Iterator[None]:
    """This session's turn at the metadata route, held until its namespace
    (and the route with it) is gone."""
    with open(NAMESPACE_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _namespace() -> Iterator[Namespace]:
    tag = network_name("crt").removeprefix("crt-")
    name, host_if, ns_if = f"crt-ns-{tag}", f"crtv{tag}h", f"crtv{tag}n"
    subnet = free_subnet()
    host_side, private = str(subnet[1]), str(subnet[2])
    listener: subprocess.Popen | None = None
    try:
        run("ip", "netns", "add", name)
        run("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        run("ip", "link", "set", ns_if, "netns", name)
        run("ip", "addr", "add", f"{host_side}/{subnet.prefixlen}", "dev", host_if)
        run("ip", "link", "set", host_if, "up")
        inside = ("ip", "netns", "exec", name)
        run(*inside, "ip", "addr", "add", f"{private}/{subnet.prefixlen}", "dev", ns_if)
        run(*inside, "ip", "addr", "add", f"{METADATA}/32", "dev", ns_if)
        run(*inside, "ip", "link", "set", "lo", "up")
        run(*inside, "ip", "link", "set", ns_if, "up")
        run(*inside, "ip", "route", "add", "default", "via", host_side)
        run("ip", "route", "add", f"{METADATA}/32", "via", private, "dev", host_if)
        listener = subprocess.Popen([*inside, sys.executable, "-c", NAMESPACE_LISTENER])
        _wait_until_greeted(private, NAMESPACE_PORT)
        _wait_until_greeted(METADATA, NAMESPACE_PORT)
        yield Namespace(name, private, host_side)
    finally:
        if listener is not None:
            listener.kill()
            listener.wait(10)
        # Deleting the namespace deletes its end of the veth pair, which
        # takes the host's end and the route through it along.
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
        subprocess.run(["ip", "link", "del", host_if], capture_output=True)
        assert name not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        assert not Path("/sys/class/net", host_if).exists()
        assert METADATA not in subprocess.run(["ip", "route"], capture_output=True, text=True).stdout


def _wait_until_greeted(host: str, port: int, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=2) as conn:
                return conn.recv(64).decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.fixture(scope="module")
def job_network() -> Iterator[dict[str, str]]:
    """This module's job network settings; the network and its rules are
    removed afterwards, and nothing of them may be left."""
    env = egress_env(network_name("crt"), free_subnet())
    yield env
    result = remove_policy(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert leftovers(env["CRONIUM_EGRESS_NETWORK"]) == []


# -- running probes ----------------------------------------------------------------


Target = tuple[str, str, int]


def probe(user: UserClient, targets: list[Target], name: str = "egress probe") -> dict[str, dict[str, Any]]:
    """Run the probe as an egress job; its results by target label."""
    script = f"TARGETS = {json.dumps(json.dumps(targets))}\n{PROBE}"
    job = wait_for_job(user, submit(user, script, kind="python", name=name, network="egress"), timeout=120)
    assert job["status"] == "completed", (brief(job), texts(job_lines(user, job["id"])))
    results = [json.loads(line) for line in texts(job_lines(user, job["id"]), "stdout")]
    return {result["label"]: result for result in results}


def host_targets(gateway: str, port: int, what: str) -> list[Target]:
    targets: list[Target] = [(f"{what} via the gateway {gateway}", gateway, port)]
    for ifname, address in host_addresses():
        shown = f"{address}%eth0" if address.is_link_local else str(address)  # eth0: the job's side
        targets.append((f"{what} via {ifname} {address}", shown, port))
    return targets


def assert_refused_at_once(result: dict[str, Any]) -> None:
    assert result["outcome"] == "ConnectionRefusedError", result
    assert result["seconds"] < REFUSED_WITHIN_S, result


def assert_not_reached(result: dict[str, Any]) -> None:
    """IPv6: the job has none, so the try fails at once, one way or another."""
    assert result["outcome"] != "connected", result
    assert result["seconds"] < REFUSED_WITHIN_S, result


def check_every(results: dict[str, dict[str, Any]], prefix: str) -> int:
    checked = 0
    for label, result in results.items():
        if label.startswith(prefix):
            is_v6 = ":" in label.rsplit(" ", 1)[-1]
            (assert_not_reached if is_v6 else assert_refused_at_once)(result)
            checked += 1
    return checked


# -- the policy enforced -------------------------------------------------------------


@pytest.fixture(scope="class")
def enforcing_worker(worker_app, job_network) -> Iterator[WorkerProcess]:
    with WorkerProcess(worker_app.url, concurrency=4, env_overrides=job_network) as worker:
        worker.wait_for_log("egress jobs run on network")
        yield worker


@pytest.fixture(scope="class")
def job_listener(enforcing_worker, worker_user, job_network) -> Iterator[str]:
    """A long-running egress job listening on a port; its address. The host
    can reach it (so a refusal from another job is the policy's doing)."""
    job_id = submit(worker_user, JOB_LISTENER, kind="python", name="listening job", network="egress", timeoutSeconds=120)
    container = wait_for_container(job_id)
    network = job_network["CRONIUM_EGRESS_NETWORK"]
    deadline = time.monotonic() + 30
    address = ""
    while not address:
        assert time.monotonic() < deadline, "the listening job got no address"
        container.reload()
        address = (container.attrs["NetworkSettings"]["Networks"].get(network) or {}).get("IPAddress", "")
        time.sleep(0.1)
    assert _wait_until_greeted(address, JOB_LISTENER_PORT) == "hello from a job\n"
    yield address
    with socket.create_connection((address, JOB_LISTENER_PORT), timeout=5) as conn:
        conn.recv(64)
        conn.sendall(b"quit")
    job = wait_for_job(worker_user, job_id, timeout=60)
    assert job["status"] == "completed", brief(job)


@pytest.fixture(scope="class")
def enforced(enforcing_worker, worker_user, worker_app, host_listener, namespace, job_listener, job_network) -> dict[str, dict[str, Any]]:
    gateway = network_gateway(job_network["CRONIUM_EGRESS_NETWORK"])
    targets = [
        *host_targets(gateway, worker_app.port, "the app"),
        *host_targets(gateway, host_listener, "the host listener"),
        ("another job", job_listener, JOB_LISTENER_PORT),
        ("a private address", namespace.private, NAMESPACE_PORT),
        ("cloud metadata", METADATA, NAMESPACE_PORT),
    ]
    return probe(worker_user, targets)


@pytest.mark.usefixtures("enforcing_worker")
class TestEnforced:
    def test_the_app_is_refused_at_the_gateway_and_every_host_address(self, enforced):
        assert check_every(enforced, "the app via") >= 3  # the gateway, eth0, docker0 at least

    def test_a_listener_on_the_host_is_refused_at_every_address(self, enforced):
        assert check_every(enforced, "the host listener via") >= 3

    def test_another_jobs_container_is_refused(self, enforced):
        assert_refused_at_once(enforced["another job"])

    def test_a_private_address_is_refused(self, enforced):
        assert_refused_at_once(enforced["a private address"])

    def test_cloud_metadata_is_refused(self, enforced):
        assert_refused_at_once(enforced["cloud metadata"])

    def test_the_job_has_no_ipv6(self, enforced):
        assert enforced["if_inet6"]["said"] == ""

    def test_the_rules_match_only_the_job_networks_bridge(self, job_network):
        policy = EgressPolicy(job_network["CRONIUM_EGRESS_NETWORK"])
        jumps = rule_lines_with(f"-j {policy.forward_chain}") + rule_lines_with(f"-j {policy.input_chain}")
        assert sorted(jumps) == sorted([
            f"-A DOCKER-USER -i {policy.bridge} -j {policy.forward_chain}",
            f"-A INPUT -i {policy.bridge} -j {policy.input_chain}",
        ])

    def test_no_rule_refuses_a_public_address(self, job_network):
        """Read from the installed rules: every destination the forward
        chain refuses is non-public, and the chain refuses nothing else."""
        policy = EgressPolicy(job_network["CRONIUM_EGRESS_NETWORK"])
        refused, catch_all = [], []
        for line in rules(policy.forward_chain)[1:]:
            words = line.split()
            if words[-1] != policy.reject_chain:
                continue
            if "-d" in words:
                refused.append(ipaddress.ip_network(words[words.index("-d") + 1]))
            else:
                catch_all.append(line)
        assert catch_all == [f"-A {policy.forward_chain} -o {policy.bridge} -j {policy.reject_chain}"]
        for public in ("1.1.1.1", "8.8.8.8", "9.9.9.9", "11.0.0.1", "100.128.0.1", "172.32.0.1", "192.169.0.1", "151.101.1.1"):
            assert not any(ipaddress.ip_address(public) in net for net in refused), public
        for private in ("10.0.0.1", "172.16.0.1", "192.168.0.1", "100.64.0.1", METADATA, "127.0.0.1", "224.0.0.1", "255.255.255.255", "0.0.0.1"):
            assert any(ipaddress.ip_address(private) in net for net in refused), private

    def test_rules_wiped_behind_the_workers_back_are_put_back_before_the_next_egress_job(
        self, enforcing_worker, worker_user, host_listener, job_network
    ):
        policy = EgressPolicy(job_network["CRONIUM_EGRESS_NETWORK"])
        before = rule_lines_with(policy.network.upper())
        assert asyncio.run(firewall.remove(policy))
        assert rule_lines_with(policy.network.upper()) == []
        time.sleep(RECHECK_S)
        gateway = network_gateway(policy.network)
        results = probe(worker_user, [("the host", gateway, host_listener)], name="after a firewall wipe")
        assert rule_lines_with(policy.network.upper()) == before
        assert "installing them again" in enforcing_worker.log_text()
        assert_refused_at_once(results["the host"])


class TestRestart:
    def test_restarting_the_worker_replaces_the_rules_without_duplicating_them(self, worker_app, job_network):
        policy = EgressPolicy(job_network["CRONIUM_EGRESS_NETWORK"])
        with WorkerProcess(worker_app.url, concurrency=1, env_overrides=job_network) as worker:
            worker.wait_for_log("egress jobs run on network")
            before = rule_lines_with(policy.network.upper())
            worker.stop()
            worker.start()
            worker.wait_for_log("egress jobs run on network")
            assert rule_lines_with(policy.network.upper()) == before
        jumps = [line for line in before if line.startswith(("-A DOCKER-USER", "-A INPUT"))]
        assert len(jumps) == 2, before

    def test_installs_at_the_same_moment_leave_one_copy(self, job_network):
        policy = EgressPolicy(job_network["CRONIUM_EGRESS_NETWORK"])

        async def four_at_once() -> None:
            await asyncio.gather(*(firewall.install(policy) for _ in range(4)))

        asyncio.run(four_at_once())
        jumps = rule_lines_with(f"-j {policy.forward_chain}") + rule_lines_with(f"-j {policy.input_chain}")
        assert len([line for line in jumps if line.startswith(("-A DOCKER-USER", "-A INPUT"))]) == 2, jumps


# -- a private range allowed ---------------------------------------------------------


@pytest.fixture(scope="class")
def allowing_worker(worker_app, job_network, namespace) -> Iterator[WorkerProcess]:
    overrides = {**job_network, "CRONIUM_EGRESS_ALLOW": f"{namespace.private}/32"}
    with WorkerProcess(worker_app.url, concurrency=4, env_overrides=overrides) as worker:
        worker.wait_for_log("egress jobs run on network")
        yield worker


@pytest.fixture(scope="class")
def allowed(allowing_worker, worker_user, host_listener, namespace, job_network) -> dict[str, dict[str, Any]]:
    gateway = network_gateway(job_network["CRONIUM_EGRESS_NETWORK"])
    return probe(worker_user, [
        ("a private address", namespace.private, NAMESPACE_PORT),
        ("cloud metadata", METADATA, NAMESPACE_PORT),
        ("the host listener via the gateway", gateway, host_listener),
        ("the host listener via the namespace's side", namespace.host_side, host_listener),
    ])


@pytest.mark.usefixtures("allowing_worker")
class TestAllowedRange:
    def test_an_allowed_private_address_is_reached(self, allowed):
        assert allowed["a private address"]["outcome"] == "connected", allowed
        assert allowed["a private address"]["said"] == "hello from the namespace"

    def test_cloud_metadata_stays_refused(self, allowed):
        assert_refused_at_once(allowed["cloud metadata"])

    def test_the_host_stays_refused(self, allowed):
        assert check_every(allowed, "the host listener") == 2

    def test_the_allow_rule_comes_before_the_refusals(self, job_network, namespace):
        policy = EgressPolicy(job_network["CRONIUM_EGRESS_NETWORK"])
        chain = rules(policy.forward_chain)
        allow = chain.index(f"-A {policy.forward_chain} -d {namespace.private}/32 -j RETURN")
        first_refusal = next(i for i, line in enumerate(chain) if line.endswith(f"-d 10.0.0.0/8 -j {policy.reject_chain}"))
        assert allow < first_refusal


# -- controls: the policy off, and no iptables -----------------------------------------


@pytest.fixture(scope="class")
def unprotected_network() -> Iterator[dict[str, str]]:
    env = egress_env(network_name("cro"), free_subnet())
    yield env
    result = remove_policy(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert leftovers(env["CRONIUM_EGRESS_NETWORK"]) == []


@pytest.fixture(scope="class")
def unprotected_worker(worker_app, unprotected_network) -> Iterator[WorkerProcess]:
    overrides = {**unprotected_network, "CRONIUM_EGRESS_POLICY": "off"}
    with WorkerProcess(worker_app.url, concurrency=4, env_overrides=overrides) as worker:
        worker.wait_for_log("WITHOUT the firewall rules")
        yield worker


@pytest.mark.usefixtures("unprotected_worker")
class TestPolicyOff:
    """The control for the host: without the rules, the same probe reaches
    the app and the listener through the gateway."""

    def test_without_the_rules_the_host_is_reached(self, worker_user, worker_app, host_listener, unprotected_network):
        gateway = network_gateway(unprotected_network["CRONIUM_EGRESS_NETWORK"])
        results = probe(worker_user, [("the app", gateway, worker_app.port), ("the listener", gateway, host_listener)])
        assert results["the app"]["outcome"] == "connected", results
        assert results["the listener"] == {**results["the listener"], "outcome": "connected", "said": "hello from the host"}

    def test_no_rules_are_installed(self, unprotected_network):
        assert rule_lines_with(unprotected_network["CRONIUM_EGRESS_NETWORK"].upper()) == []


@pytest.fixture(scope="class")
def worker_without_iptables(worker_app, job_network) -> Iterator[WorkerProcess]:
    """A worker whose PATH has no iptables (as on a host without it)."""
    overrides = {**job_network, "PATH": str(Path(sys.executable).parent)}
    with WorkerProcess(worker_app.url, concurrency=4, env_overrides=overrides) as worker:
        worker.wait_for_log("egress jobs will be refused")
        yield worker


@pytest.mark.usefixtures("worker_without_iptables")
class TestWithoutIptables:
    def test_an_egress_job_is_refused_with_the_reason(self, worker_user):
        job = wait_for_job(worker_user, submit(worker_user, "echo never", name="egress, unprotected", network="egress"))
        assert job["status"] == "failed", brief(job)
        assert "egress is unavailable on this worker" in job["error"] and "iptables" in job["error"], job["error"]
        lines = job_lines(worker_user, job["id"])
        assert texts(lines, "stdout") == []
        assert any("iptables" in line for line in texts(lines, "system")), lines

    def test_a_job_without_network_still_runs(self, worker_user):
        job = wait_for_job(worker_user, submit(worker_user, "echo fine", name="no network"))
        assert job["status"] == "completed", brief(job)
