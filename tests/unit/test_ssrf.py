"""The HTTP events' SSRF guard. No test here opens a connection, and no test
asks real DNS: names are answered by `install_fake_dns`, and numeric hosts
go to the system resolver with AI_NUMERICHOST, which never leaves the box."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Sequence

import pytest

from orchestrator_worker.executors.ssrf import DestinationRefused, check_destination

Answer = Sequence[str] | Callable[[], Sequence[str]]


def install_fake_dns(monkeypatch: pytest.MonkeyPatch, names: dict[str, Answer]) -> list[str]:
    """Answer loop.getaddrinfo from `names`; numeric hosts are parsed locally;
    anything else is NXDOMAIN. Returns the list of names looked up."""
    lookups: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    async def fake_getaddrinfo(self, host, port, *, family=0, type=0, proto=0, flags=0):
        host = host.decode("ascii") if isinstance(host, bytes) else host
        lookups.append(host)
        port = int(port or 0)
        answer = names.get(host.lower().rstrip("."))
        if answer is None:
            try:
                return real_getaddrinfo(
                    host, port, family, type or socket.SOCK_STREAM, proto, flags | socket.AI_NUMERICHOST
                )
            except socket.gaierror:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
        addresses = answer() if callable(answer) else answer
        infos = []
        for address in addresses:
            if ":" in address:
                infos.append((socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port, 0, 0)))
            else:
                infos.append((socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port)))
        return infos

    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "getaddrinfo", fake_getaddrinfo)
    return lookups


def check(url: str, allow_private: bool = False):
    return asyncio.run(check_destination(url, allow_private))


def refusal(url: str, allow_private: bool = False) -> str:
    with pytest.raises(DestinationRefused) as caught:
        check(url, allow_private)
    return str(caught.value)


@pytest.fixture(autouse=True)
def dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return install_fake_dns(
        monkeypatch,
        {
            "localhost": ["127.0.0.1", "::1"],
            "metadata.google.internal": ["169.254.169.254"],
            "intranet.example.test": ["10.1.2.3"],
            "public.example.test": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
            "mixed.example.test": ["93.184.216.34", "192.168.0.10"],
            "mapped.example.test": ["::ffff:169.254.169.254"],
        },
    )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://127.0.0.53:8080/x", "loopback"),
        ("http://127.1/", "loopback"),
        ("http://2130706433/", "loopback"),  # decimal
        ("http://0x7f.1/", "loopback"),  # hex
        ("http://017700000001/", "loopback"),  # octal
        ("http://[::1]:8000/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback address (IPv4-mapped form of 127.0.0.1)"),
        ("http://[::ffff:7f00:1]/", "loopback address (IPv4-mapped form of 127.0.0.1)"),
        ("http://[64:ff9b::7f00:1]/", "loopback address (NAT64 form of 127.0.0.1)"),
        ("http://[2002:7f00:1::]/", "loopback address (6to4 form of 127.0.0.1)"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://[::]/", "unspecified"),
        ("http://10.0.0.1/", "private"),
        ("http://172.16.5.4/", "private"),
        ("http://172.31.255.255/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://[fc00::1]/", "private"),
        ("http://[fd00:ec2::254]/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[::ffff:a9fe:a9fe]/", "IPv4-mapped form of 169.254.169.254"),
        ("http://100.64.0.1/", "CGNAT"),
        ("http://100.127.255.254/", "CGNAT"),
        ("http://224.0.0.1/", "multicast"),
        ("http://[ff02::1]/", "multicast"),
        ("http://240.0.0.1/", "reserved"),
        ("http://255.255.255.255/", "non-public"),
        ("http://192.0.2.10/", "non-public"),  # documentation range
        ("http://198.18.0.1/", "non-public"),  # benchmarking range
        ("https://10.0.0.1:8443/", "private"),
    ],
)
def test_non_public_addresses_are_refused_by_default(url: str, reason: str):
    message = refusal(url)
    assert reason in message
    assert "CRONIUM_HTTP_ALLOW_PRIVATE" in message


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://localhost:8000/", "loopback"),
        ("http://LOCALHOST./", "loopback"),
        ("http://metadata.google.internal/computeMetadata/v1/", "link-local"),
        ("http://intranet.example.test/", "private"),
        ("http://mapped.example.test/", "IPv4-mapped form of 169.254.169.254"),
    ],
)
def test_names_that_resolve_to_non_public_addresses_are_refused(url: str, reason: str):
    message = refusal(url)
    assert reason in message
    assert "(" in message  # names the address it resolved to


def test_one_bad_address_among_good_ones_refuses_the_name():
    assert "192.168.0.10" in refusal("http://mixed.example.test/")


def test_unresolvable_host_is_refused_with_a_clear_message(dns: list[str]):
    message = refusal("https://no-such-host.invalid/path")
    assert "cannot resolve host 'no-such-host.invalid'" in message
    assert dns == ["no-such-host.invalid"]
    # Resolution is needed to connect at all, so allow_private does not help.
    assert "cannot resolve" in refusal("http://no-such-host.invalid/", allow_private=True)


@pytest.mark.parametrize(
    "url",
    ["ftp://93.184.216.34/file", "file:///etc/passwd", "gopher://93.184.216.34:70/", "javascript:alert(1)", "//x/y"],
)
def test_only_http_and_https_are_allowed(url: str, dns: list[str]):
    assert "not allowed; use http or https" in refusal(url, allow_private=True)
    assert dns == []


@pytest.mark.parametrize("url", ["http://", "http:///path", "http://exa mple.test/"])
def test_urls_without_a_usable_host_are_refused(url: str):
    refusal(url, allow_private=True)


def test_public_destinations_are_allowed_and_the_vetted_addresses_returned(dns: list[str]):
    dest = check("https://public.example.test:8443/a?b=c")
    assert dest.scheme == "https"
    assert dest.host == "public.example.test"
    assert dest.port == 8443
    assert dest.addresses == ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946")
    assert not dest.host_is_ip
    assert dns == ["public.example.test"]

    dest = check("http://93.184.216.34/")
    assert dest.addresses == ("93.184.216.34",) and dest.host_is_ip and dest.port == 80
    assert check("http://[2606:2800:220:1:248:1893:25c8:1946]/").addresses == ("2606:2800:220:1:248:1893:25c8:1946",)


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://127.0.0.1:8000/", "127.0.0.1"),
        ("http://2130706433/", "127.0.0.1"),
        ("http://localhost/", "127.0.0.1"),
        ("http://10.0.0.1/", "10.0.0.1"),
        ("http://169.254.169.254/", "169.254.169.254"),
        ("http://[::1]/", "::1"),
    ],
)
def test_allow_private_lets_the_admin_reach_any_address(url: str, address: str):
    dest = check(url, allow_private=True)
    assert dest.addresses[0] == address


def test_idn_hosts_are_resolved_in_their_ascii_form(monkeypatch: pytest.MonkeyPatch):
    lookups = install_fake_dns(monkeypatch, {"xn--mnchen-3ya.example": ["93.184.216.34"]})
    dest = check("http://münchen.example/")
    assert dest.host == "xn--mnchen-3ya.example"
    assert lookups == ["xn--mnchen-3ya.example"]
