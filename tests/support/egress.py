"""The job network in tests: each test session (and the egress policy's own
tests) runs egress jobs on a network and firewall chains of its own, named
at random, on a free subnet, and removes them afterwards."""

from __future__ import annotations

import ipaddress
import os
import random
import secrets
import subprocess
import sys
from pathlib import Path

import docker

from orchestrator_worker.egress.firewall import LOCK_DIR
from orchestrator_worker.egress.network import bridge_is_local, docker_subnets, find_clash, host_routes
from orchestrator_worker.egress.policy import EgressPolicy
from tests.support.app_server import ORCHESTRATOR_TOKEN, REPO_ROOT


def network_name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def free_subnet() -> ipaddress.IPv4Network:
    """A random /24 in 10.100-250.x that no route and no Docker network uses."""
    try:
        taken = _with_docker(docker_subnets)
    except docker.errors.DockerException:
        taken = []
    taken += host_routes(exclude_interface="")
    for _ in range(200):
        subnet = ipaddress.ip_network(f"10.{random.randint(100, 250)}.{random.randint(0, 255)}.0/24")
        if find_clash(subnet, taken) is None:
            return subnet
    raise RuntimeError("no free subnet found")


def egress_env(name: str, subnet: ipaddress.IPv4Network) -> dict[str, str]:
    return {"CRONIUM_EGRESS_NETWORK": name, "CRONIUM_EGRESS_SUBNET": str(subnet)}


def remove_policy(env: dict[str, str]) -> subprocess.CompletedProcess:
    """`python -m orchestrator_worker.egress remove` with these settings.
    The worker's settings need a token even where, as here, none is used;
    the test workers' one comes first so that the environment's wins."""
    return subprocess.run(
        [sys.executable, "-m", "orchestrator_worker.egress", "remove"],
        cwd=REPO_ROOT, env={"ORCHESTRATOR_TOKEN": ORCHESTRATOR_TOKEN, **os.environ, **env},
        capture_output=True, text=True, timeout=60,
    )


def leftovers(name: str) -> list[str]:
    """What is left of a job network: its chains, jumps to them, the bridge,
    the lock file."""
    policy = EgressPolicy(name)
    table = subprocess.run(["iptables", "-w", "-S"], capture_output=True, text=True, check=True).stdout
    left = [line for line in table.splitlines() if any(chain in line for chain in policy.chains)]
    if bridge_is_local(policy):
        left.append(f"bridge {policy.bridge}")
    if (LOCK_DIR / f"{name}.iptables.lock").exists():
        left.append(f"lock file {name}.iptables.lock")
    left += [f"network {net['Name']}" for net in _with_docker(lambda client: client.api.networks(names=[name])) if net["Name"] == name]
    return left


def can_manage_firewall() -> bool:
    return os.geteuid() == 0 and Path("/var/run/docker.sock").exists()


def _with_docker(call):
    client = docker.from_env()
    try:
        return call(client)
    finally:
        client.close()
