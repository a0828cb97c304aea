"""SSRF guard for HTTP events: where a user's request may go.

An HTTP event runs on the worker, inside the operator's network, so a user
could otherwise point it at the worker's own loopback services, the LAN or
the cloud metadata endpoint (169.254.169.254). `check_destination` refuses a
URL unless its scheme is http/https and *every* address its host resolves to
is globally routable; the admin can lift the address rule with
CRONIUM_HTTP_ALLOW_PRIVATE.

DNS rebinding: checking a name and then letting the HTTP library resolve it
again would leave a window in which a hostile DNS server answers the second
lookup with 127.0.0.1. So the check returns the vetted addresses and the
executor connects to exactly one of them (the URL's host is replaced by the
IP; the Host header and the TLS server name/certificate check keep the
original name). There is one lookup per request, and what was checked is
what is connected to. Redirects are checked again, hop by hop.

Tools (Slack, Discord, Teams, webhooks, email) go through the same guard.
An operator's allow-list (`AllowList`, CRONIUM_TOOL_ALLOW) opens named
hosts and address ranges that are private on purpose: an internal mail
relay, an intranet hook. HTTP events do not use it.

Literal addresses in any form the resolver accepts (127.1, 2130706433,
0x7f.1, 017700000001, [::ffff:127.0.0.1]) are judged by the address the
resolver turns them into, which is also the address connected to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass

import httpx

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_PRIVATE = tuple(
    ipaddress.ip_network(net) for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)


@dataclass(frozen=True)
class AllowList:
    """Private destinations an operator opens: host names (matched before
    any lookup, whatever they resolve to) and address ranges, each
    optionally for one port only ("relay.internal:25", "10.1.0.0/16",
    "127.0.0.1:8025", "[::1]:2525")."""

    names: frozenset[tuple[str, int | None]] = frozenset()
    networks: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, int | None], ...] = ()

    @classmethod
    def parse(cls, entries: "str | tuple[str, ...] | list[str]") -> "AllowList":
        """Comma-separated entries; ValueError names one that is not a host, address or range."""
        items = entries.split(",") if isinstance(entries, str) else list(entries)
        names: set[tuple[str, int | None]] = set()
        networks = []
        for raw in (item.strip() for item in items):
            if not raw:
                continue
            host, port = _split_port(raw)
            try:
                networks.append((ipaddress.ip_network(host, strict=False), port))
                continue
            except ValueError:
                pass
            if not _HOST_NAME_RE.match(host):
                raise ValueError(f"{raw!r} is not a host name, an IP address or a CIDR range")
            names.add((host.lower().rstrip("."), port))
        return cls(frozenset(names), tuple(networks))

    def allows_name(self, host: str, port: int) -> bool:
        host = host.lower().rstrip(".")
        return (host, None) in self.names or (host, port) in self.names

    def allows_address(self, ip: "IPAddress", port: int) -> bool:
        return any(ip in net and allowed in (None, port) for net, allowed in self.networks)

    def __bool__(self) -> bool:
        return bool(self.names or self.networks)


_HOST_NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?$")


def _split_port(entry: str) -> tuple[str, int | None]:
    """"host:port", "[v6]:port", or an entry without a port."""
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest.removeprefix(":")
        return host, int(port) if port.isdigit() else None
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        if port.isdigit() and 0 < int(port) < 65536:
            return host, int(port)
    return entry, None


class DestinationRefused(Exception):
    """The URL may not be requested; the message says why (safe to show)."""


@dataclass(frozen=True)
class Destination:
    """A vetted destination: connect to one of `addresses`, nothing else."""

    url: httpx.URL
    scheme: str
    host: str  # as sent in the Host header / TLS server name (IDNA, no brackets)
    port: int
    addresses: tuple[str, ...]  # vetted IPs, in the resolver's order of preference
    host_is_ip: bool  # the URL named an address in standard notation, not a name


def address_problem(ip: IPAddress) -> str | None:
    """Why an address is not a public destination, or None if it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        # Addresses that carry an IPv4 address inside are judged by it.
        embedded = ip.ipv4_mapped
        kind = "IPv4-mapped"
        if embedded is None and ip in _NAT64:
            embedded, kind = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "NAT64"
        if embedded is None and ip.sixtofour is not None:
            embedded, kind = ip.sixtofour, "6to4"
        if embedded is not None:
            inner = address_problem(embedded)
            return f"{inner} ({kind} form of {embedded})" if inner else None
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (this includes cloud metadata endpoints)"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "a shared (CGNAT, 100.64.0.0/10) address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "a site-local address"
    if any(ip in net for net in _PRIVATE):
        return "a private address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:
        # Documentation, benchmarking, protocol-assignment ranges, ...
        return "a non-public (special-purpose) address"
    return None


async def _resolve(host: str, port: int) -> list[str]:
    """Addresses for host, in the resolver's order, without duplicates."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    addresses: list[str] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def _parse_ip(address: str) -> IPAddress | None:
    try:
        # A scope ("fe80::1%eth0") says which interface, not which address.
        return ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None


async def check_destination(url: str, allow_private: bool, allow: AllowList | None = None) -> Destination:
    """Vet `url`; raise DestinationRefused, or return where to connect.

    The scheme must be http or https and the host must resolve. Unless
    `allow_private`, every address it resolves to must be public (or, for
    tools, opened by the operator's `allow` list): one bad address refuses
    the whole name (no "pick the good one" games)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise DestinationRefused(f"invalid URL: {exc}") from None
    scheme = parsed.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise DestinationRefused(f"scheme {scheme or '(none)'!r} is not allowed; use http or https")
    try:
        host = parsed.raw_host.decode("ascii")
    except UnicodeDecodeError:
        raise DestinationRefused("invalid host name") from None
    if not host:
        raise DestinationRefused("the URL has no host")
    port = parsed.port or DEFAULT_PORTS[scheme]
    addresses = await vet_host(host, port, allow_private, allow)
    return Destination(
        url=parsed,
        scheme=scheme,
        host=host,
        port=port,
        addresses=addresses,
        host_is_ip=_parse_ip(host) is not None,
    )


async def vet_host(host: str, port: int, allow_private: bool, allow: AllowList | None = None) -> tuple[str, ...]:
    """The addresses `host` resolves to, each one vetted (see
    check_destination); what to connect to, nothing else."""
    try:
        addresses = await _resolve(host, port)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise DestinationRefused(f"cannot resolve host {host!r}: {reason}") from None
    if not addresses:
        raise DestinationRefused(f"cannot resolve host {host!r}: no IPv4 or IPv6 address")
    named = allow is not None and allow.allows_name(host, port)
    vetted: list[str] = []
    for address in addresses:
        ip = _parse_ip(address)
        if ip is None:
            raise DestinationRefused(f"host {host!r} resolved to an unrecognised address {address!r}")
        if not (allow_private or named or (allow is not None and allow.allows_address(ip, port))):
            problem = address_problem(ip)
            if problem is not None:
                shown = host if host == str(ip) else f"{host!r} ({ip})"
                lift = "CRONIUM_TOOL_ALLOW" if allow is not None else "CRONIUM_HTTP_ALLOW_PRIVATE"
                raise DestinationRefused(
                    f"{shown} is {problem}; requests to loopback, private, link-local and other "
                    f"non-public addresses are not allowed (the admin can allow them with {lift})"
                )
        vetted.append(str(ip))
    return tuple(dict.fromkeys(vetted))
