"""What an egress job may reach, as iptables rules (pure: no I/O here).

An egress job may reach the public internet and nothing else: not this host
(the app, the database, any port on any of its addresses), not other jobs'
containers, not private, shared, link-local (cloud metadata), multicast or
reserved addresses. The rules live in three chains of Cronium's own, named
after the job network, so that they can be listed, replaced and removed as
a unit and never touch other traffic:

- NAME-FORWARD, jumped to from DOCKER-USER for packets coming in on the job
  network's bridge: traffic leaving the host (Docker consults DOCKER-USER
  before its own rules).
- NAME-INPUT, jumped to from INPUT for the same packets: traffic to the host
  itself, which DOCKER-USER never sees.
- NAME-REJECT: refuse at once (a TCP reset, or ICMP port unreachable), so a
  refused connection fails in milliseconds instead of hanging until its
  timeout.

The job network is IPv4 only and job containers have IPv6 turned off (see
`CONTAINER_SYSCTLS`), so there are no ip6tables rules.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

# Destinations an egress job may never reach (unless the operator allows a
# range with CRONIUM_EGRESS_ALLOW): every IPv4 block that is not globally
# routable, the same judgement as the HTTP events' guard (executors/ssrf.py).
BLOCKED: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "'this network'"),
    ("10.0.0.0/8", "private (RFC 1918)"),
    ("100.64.0.0/10", "shared address space (CGNAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local, with cloud metadata at 169.254.169.254"),
    ("172.16.0.0/12", "private (RFC 1918)"),
    ("192.0.2.0/24", "documentation (TEST-NET-1)"),
    ("192.168.0.0/16", "private (RFC 1918)"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation (TEST-NET-2)"),
    ("203.0.113.0/24", "documentation (TEST-NET-3)"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved, and the limited broadcast address 255.255.255.255"),
)

# The job network has no IPv6; this makes sure the container has none either
# (Docker 20.10 already does so for IPv4-only networks; other versions may not).
CONTAINER_SYSCTLS = {"net.ipv6.conf.all.disable_ipv6": "1", "net.ipv6.conf.default.disable_ipv6": "1"}

# The built-in chains our chains are jumped to from.
FORWARD_HOOK = "DOCKER-USER"
INPUT_HOOK = "INPUT"


@dataclass(frozen=True)
class EgressPolicy:
    """`network` names the Docker network, its bridge (`network` + "0") and
    the chains (upper case + -FORWARD, -INPUT, -REJECT). `allow` opens
    private ranges the operator chose; `dns` are the resolvers Docker's
    embedded DNS server forwards to, reachable on port 53 only."""

    network: str
    allow: tuple[ipaddress.IPv4Network, ...] = ()
    dns: tuple[ipaddress.IPv4Address, ...] = ()

    @property
    def bridge(self) -> str:
        return f"{self.network}0"

    @property
    def forward_chain(self) -> str:
        return f"{self.network.upper()}-FORWARD"

    @property
    def input_chain(self) -> str:
        return f"{self.network.upper()}-INPUT"

    @property
    def reject_chain(self) -> str:
        return f"{self.network.upper()}-REJECT"

    @property
    def chains(self) -> tuple[str, str, str]:
        return (self.forward_chain, self.input_chain, self.reject_chain)


def chain_rules(policy: EgressPolicy) -> list[list[str]]:
    """The contents of our three chains, as `iptables` argument lists."""
    reject, forward, host = policy.reject_chain, policy.forward_chain, policy.input_chain
    return [
        ["-A", reject, "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"],
        ["-A", reject, "-j", "REJECT", "--reject-with", "icmp-port-unreachable"],
        # Another job's container on the same bridge; before the allow rules,
        # so that no allowed range can open it.
        ["-A", forward, "-o", policy.bridge, "-j", reject],
        *_dns_rules(policy, forward),
        *(["-A", forward, "-d", str(net), "-j", "RETURN"] for net in policy.allow),
        *(["-A", forward, "-d", cidr, "-j", reject] for cidr, _why in BLOCKED),
        # The host itself: answers to connections the host opened (to a
        # container) may come back; nothing a job starts gets in.
        ["-A", host, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "RETURN"],
        *_dns_rules(policy, host),
        ["-A", host, "-j", reject],
    ]


def jump_rules(policy: EgressPolicy) -> list[list[str]]:
    """The rules that send the job network's packets (and only those) to
    our chains, first in their built-in chains."""
    return [
        ["-I", FORWARD_HOOK, "1", "-i", policy.bridge, "-j", policy.forward_chain],
        ["-I", INPUT_HOOK, "1", "-i", policy.bridge, "-j", policy.input_chain],
    ]


def iptables_rules(policy: EgressPolicy) -> list[list[str]]:
    """Everything the policy installs: the chains' rules, then the jumps."""
    return chain_rules(policy) + jump_rules(policy)


def _dns_rules(policy: EgressPolicy, chain: str) -> list[list[str]]:
    # Docker's embedded DNS server (127.0.0.11 inside the container) sends a
    # job's lookups on from the container's own network namespace, so they
    # cross these chains like any other packet. The resolvers are often
    # private addresses (a LAN router, a cloud's resolver at 169.254.x.x) or
    # the host itself.
    return [
        ["-A", chain, "-d", f"{server}/32", "-p", proto, "-m", proto, "--dport", "53", "-j", "RETURN"]
        for server in policy.dns
        for proto in ("udp", "tcp")
    ]
