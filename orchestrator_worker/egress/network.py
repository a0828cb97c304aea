"""The Docker network egress jobs run on, and the host facts it depends on.

One bridge network of Cronium's own, labelled as such, IPv4 only, with
traffic between its containers turned off (`enable_icc=false`) and a fixed
bridge name, so that the firewall rules can name the bridge. Several workers
on one Docker host share it. The functions here are blocking (Docker SDK,
files under /proc and /etc): call them from a thread.
"""

from __future__ import annotations

import ipaddress
import shlex
import socket
import struct
from pathlib import Path
from typing import Any

import docker
from docker.errors import APIError
from docker.types import IPAMConfig, IPAMPool

from orchestrator_worker.egress.policy import CONTAINER_SYSCTLS, EgressPolicy

LABEL = "cronium.network"
LABEL_VALUE = "egress"
BRIDGE_NAME_OPTION = "com.docker.network.bridge.name"
ICC_OPTION = "com.docker.network.bridge.enable_icc"
RESOLV_CONF = Path("/etc/resolv.conf")
# Where Docker reads the real resolvers when /etc/resolv.conf points at
# systemd-resolved's stub on loopback.
RESOLVED_CONF = Path("/run/systemd/resolve/resolv.conf")


class NetworkProblem(Exception):
    """The job network cannot be used; the message says why."""


def network_options(policy: EgressPolicy) -> dict[str, str]:
    return {BRIDGE_NAME_OPTION: policy.bridge, ICC_OPTION: "false"}


def ensure_network(client: docker.DockerClient, policy: EgressPolicy, subnet: ipaddress.IPv4Network) -> str | None:
    """Create the job network unless it exists; check it if it does. Returns
    a note worth logging (an existing network on another subnet), or None."""
    existing = find_network(client, policy.network)
    if existing is None:
        clash = find_clash(subnet, docker_subnets(client) + host_routes(exclude_interface=policy.bridge))
        if clash is not None:
            raise NetworkProblem(
                f"the job network's subnet {subnet} overlaps {clash}; choose another with CRONIUM_EGRESS_SUBNET"
            )
        try:
            client.api.create_network(
                policy.network,
                driver="bridge",
                options=network_options(policy),
                ipam=IPAMConfig(pool_configs=[IPAMPool(subnet=str(subnet))]),
                labels={LABEL: LABEL_VALUE},
                enable_ipv6=False,
                check_duplicate=True,
            )
            return None
        except APIError as exc:
            # Another worker on this host may have created it a moment ago.
            existing = find_network(client, policy.network)
            if existing is None:
                raise NetworkProblem(f"could not create the Docker network {policy.network}: {exc.explanation or exc}") from None
    problem = unsafe_settings(existing, policy)
    if problem is not None:
        raise NetworkProblem(
            f"the Docker network {policy.network} exists but {problem}; remove it (docker network rm "
            f"{policy.network}) or choose another name with CRONIUM_EGRESS_NETWORK"
        )
    current = network_subnets(existing)
    if current != [subnet]:
        shown = ", ".join(str(net) for net in current) or "none"
        return f"the Docker network {policy.network} exists on subnet {shown}, not {subnet}; it is used as it is"
    return None


def find_network(client: docker.DockerClient, name: str) -> dict[str, Any] | None:
    # Docker's name filter matches parts of names: keep the exact one.
    return next((net for net in client.api.networks(names=[name]) if net.get("Name") == name), None)


def unsafe_settings(network: dict[str, Any], policy: EgressPolicy) -> str | None:
    """Why an existing network is not one we can trust our jobs to, or None."""
    options = network.get("Options") or {}
    if (network.get("Labels") or {}).get(LABEL) != LABEL_VALUE:
        return f"it is not labelled {LABEL}={LABEL_VALUE} (not Cronium's)"
    if network.get("Driver") != "bridge" or options.get(BRIDGE_NAME_OPTION) != policy.bridge:
        return f"its bridge is not {policy.bridge}"
    if options.get(ICC_OPTION) != "false":
        return "traffic between its containers is not turned off"
    if network.get("EnableIPv6"):
        return "it has IPv6"
    return None


def remove_network(client: docker.DockerClient, policy: EgressPolicy) -> bool:
    """Remove the job network if it is ours; False if there is none. Docker
    refuses while a container is attached."""
    existing = find_network(client, policy.network)
    if existing is None or (existing.get("Labels") or {}).get(LABEL) != LABEL_VALUE:
        return False
    client.api.remove_network(existing["Id"])
    return True


def network_subnets(network: dict[str, Any]) -> list[ipaddress.IPv4Network]:
    configs = (network.get("IPAM") or {}).get("Config") or []
    subnets = [ipaddress.ip_network(config["Subnet"]) for config in configs if config.get("Subnet")]
    return [net for net in subnets if isinstance(net, ipaddress.IPv4Network)]


def docker_subnets(client: docker.DockerClient) -> list[tuple[ipaddress.IPv4Network, str]]:
    return [
        (subnet, f"the Docker network {net.get('Name')}")
        for net in client.api.networks()
        for subnet in network_subnets(net)
    ]


def host_routes(exclude_interface: str, path: Path = Path("/proc/net/route")) -> list[tuple[ipaddress.IPv4Network, str]]:
    """The host's IPv4 routes (but the default route): the networks it is on."""
    routes = []
    for line in path.read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8 or fields[0] == exclude_interface:
            continue
        destination, mask = (_hex_address(fields[1]), _hex_address(fields[7]))
        network = ipaddress.ip_network(f"{destination}/{mask}", strict=False)
        if network.prefixlen > 0:
            routes.append((network, f"the route to {network} on {fields[0]}"))
    return routes


def find_clash(subnet: ipaddress.IPv4Network, taken: list[tuple[ipaddress.IPv4Network, str]]) -> str | None:
    return next((what for network, what in taken if network.overlaps(subnet)), None)


def bridge_is_local(policy: EgressPolicy) -> bool:
    """The network's bridge exists in this machine's network namespace, so
    iptables rules installed here see its traffic (not so when DOCKER_HOST
    names another machine, or the worker runs in a container of its own)."""
    return Path("/sys/class/net", policy.bridge).exists()


def host_resolvers() -> tuple[ipaddress.IPv4Address, ...]:
    """The DNS servers Docker's embedded DNS server forwards jobs' lookups
    to (those of the host; Docker skips loopback ones, which it reaches from
    the host itself)."""
    servers = _nameservers(RESOLV_CONF)
    if servers and all(server.is_loopback for server in servers) and RESOLVED_CONF.exists():
        servers = _nameservers(RESOLVED_CONF)
    return tuple(server for server in servers if not server.is_loopback)


def remote_docker_network(policy: EgressPolicy, egress: bool) -> tuple[str, str]:
    """For `docker run` on a server reached over SSH: a shell step to run
    first and the network options. An egress job joins the job network,
    created there unless it exists (the same options; Docker picks the
    subnet, as we cannot know that server's networks); the firewall rules
    are not installed there (that needs root on the server)."""
    if not egress:
        return "", "--network none"
    create = ["docker", "network", "create", "--driver", "bridge", "--label", f"{LABEL}={LABEL_VALUE}"]
    for key, value in network_options(policy).items():
        create += ["-o", f"{key}={value}"]
    name = shlex.quote(policy.network)
    inspect = f"docker network inspect {name} >/dev/null 2>&1"
    # Inspected again after a failed create: another run may have just made it.
    prepare = f"{{ {inspect} || {shlex.join([*create, policy.network])} >/dev/null || {inspect}; }} && "
    sysctls = " ".join(f"--sysctl {key}={value}" for key, value in CONTAINER_SYSCTLS.items())
    return prepare, f"--network {name} {sysctls}"


def _nameservers(path: Path) -> list[ipaddress.IPv4Address]:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return []
    servers = []
    for line in lines:
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            try:
                address = ipaddress.ip_address(fields[1])
            except ValueError:
                continue
            if isinstance(address, ipaddress.IPv4Address):
                servers.append(address)
    return servers


def _hex_address(value: str) -> str:
    # /proc/net/route prints addresses as little-endian hex.
    return socket.inet_ntoa(struct.pack("<I", int(value, 16)))
