"""`python -m orchestrator_worker.egress install|show|remove` (as root), with
the worker's settings from the environment.

install  set up the job network and its firewall rules, as a worker does at
         start (for a Docker host whose egress jobs a worker runs over SSH)
show     print the installed rules (`iptables -S` lines) and the network
remove   remove the rules and the network (Docker refuses while a job
         container is still attached to it)
"""

from __future__ import annotations

import asyncio
import sys

import docker

from orchestrator_worker.egress import firewall, network
from orchestrator_worker.egress.guard import EgressGuard, policy_from
from orchestrator_worker.settings import WorkerSettings

async def install(settings: WorkerSettings, client: docker.DockerClient) -> int:
    guard = EgressGuard(settings.model_copy(update={"egress_policy": "enforce"}), lambda: client)
    refusal = await guard.refusal()
    if refusal is not None:
        print(refusal, file=sys.stderr)
        return 1
    await show(settings, client)
    return 0


async def show(settings: WorkerSettings, client: docker.DockerClient) -> int:
    policy = policy_from(settings)
    for line in firewall.installed_rules(policy, await firewall.read_filter_table()):
        print(line)
    found = network.find_network(client, policy.network)
    if found is None:
        print(f"# no Docker network {policy.network}")
    else:
        subnets = ", ".join(str(net) for net in network.network_subnets(found))
        print(f"# Docker network {policy.network}: bridge {policy.bridge}, subnet {subnets}")
    return 0


async def remove(settings: WorkerSettings, client: docker.DockerClient) -> int:
    policy = policy_from(settings)
    removed_rules = await firewall.remove(policy)
    print(f"firewall chains {', '.join(policy.chains)}: {'removed' if removed_rules else 'none installed'}")
    removed_network = await asyncio.to_thread(network.remove_network, client, policy)
    outcome = "removed" if removed_network else "none of Cronium's by that name"
    print(f"Docker network {policy.network}: {outcome}")
    return 0


COMMANDS = {"install": install, "show": show, "remove": remove}


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    settings = WorkerSettings()
    client = docker.DockerClient(base_url=settings.docker_host or "unix:///var/run/docker.sock", timeout=60)
    try:
        return asyncio.run(COMMANDS[argv[0]](settings, client))
    except (firewall.FirewallError, docker.errors.DockerException, OSError) as exc:
        print(f"{argv[0]} failed: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
