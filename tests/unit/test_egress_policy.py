"""The egress policy's rule builder, the iptables-restore scripts made from
it, the job network's host checks, and the guard (with a fake firewall):
no iptables is run and no network is made."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress

import pytest
from pydantic import ValidationError

from orchestrator_worker.egress import firewall, network
from orchestrator_worker.egress import guard as guard_module
from orchestrator_worker.egress.firewall import installed_rules, removal_script, restore_script
from orchestrator_worker.egress.guard import EgressGuard, wants_egress
from orchestrator_worker.egress.policy import BLOCKED, EgressPolicy, chain_rules, iptables_rules
from orchestrator_worker.executors.ssrf import address_problem
from orchestrator_worker.jobs import ClaimedJob
from orchestrator_worker.settings import WorkerSettings

DEFAULT = EgressPolicy("cronium-egress")
ALLOWING = EgressPolicy(
    "cronium-egress",
    allow=(ipaddress.IPv4Network("10.20.0.0/16"),),
    dns=(ipaddress.IPv4Address("10.255.255.53"),),
)
PUBLIC = ("1.1.1.1", "8.8.8.8", "11.0.0.1", "100.128.0.1", "172.32.0.1", "192.169.0.1", "223.255.255.254")
NOT_PUBLIC = (
    "0.0.0.0", "10.1.2.3", "100.64.0.1", "127.0.0.1", "169.254.169.254", "172.16.0.1", "172.31.255.255",
    "192.168.1.1", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
)


def refused_destinations(policy: EgressPolicy) -> list[ipaddress.IPv4Network]:
    return [
        ipaddress.IPv4Network(rule[rule.index("-d") + 1])
        for rule in chain_rules(policy)
        if rule[1] == policy.forward_chain and rule[-1] == policy.reject_chain and "-d" in rule
    ]


def forward_rules(policy: EgressPolicy) -> list[list[str]]:
    return [rule for rule in chain_rules(policy) if rule[1] == policy.forward_chain]


def input_rules(policy: EgressPolicy) -> list[list[str]]:
    return [rule for rule in chain_rules(policy) if rule[1] == policy.input_chain]


def test_chains_bridge_and_network_share_one_name():
    assert DEFAULT.bridge == "cronium-egress0"
    assert DEFAULT.chains == ("CRONIUM-EGRESS-FORWARD", "CRONIUM-EGRESS-INPUT", "CRONIUM-EGRESS-REJECT")


def test_the_longest_network_name_still_makes_valid_interface_and_chain_names():
    policy = EgressPolicy("a" * 14)
    assert len(policy.bridge) <= 15  # IFNAMSIZ - 1
    assert all(len(chain) <= 28 for chain in policy.chains)  # iptables' limit


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_every_non_public_destination_is_refused(address):
    assert any(ipaddress.IPv4Address(address) in net for net in refused_destinations(DEFAULT))


@pytest.mark.parametrize("address", PUBLIC)
def test_no_public_destination_is_refused(address):
    assert not any(ipaddress.IPv4Address(address) in net for net in refused_destinations(DEFAULT))


@pytest.mark.parametrize("cidr", [cidr for cidr, _why in BLOCKED])
def test_every_blocked_range_is_non_public_for_the_http_guard_too(cidr):
    net = ipaddress.IPv4Network(cidr)
    assert address_problem(net[0]) is not None and address_problem(net[-1]) is not None


def test_the_forward_chain_refuses_nothing_but_listed_ranges_and_other_jobs():
    no_destination = [rule for rule in forward_rules(DEFAULT) if "-d" not in rule]
    assert no_destination == [["-A", DEFAULT.forward_chain, "-o", DEFAULT.bridge, "-j", DEFAULT.reject_chain]]


def test_other_jobs_are_refused_before_any_allowed_range():
    rules = forward_rules(ALLOWING)
    assert rules[0] == ["-A", ALLOWING.forward_chain, "-o", ALLOWING.bridge, "-j", ALLOWING.reject_chain]


def test_allowed_ranges_return_before_the_first_refusal():
    rules = forward_rules(ALLOWING)
    allow = rules.index(["-A", ALLOWING.forward_chain, "-d", "10.20.0.0/16", "-j", "RETURN"])
    first_refusal = next(i for i, rule in enumerate(rules) if "-d" in rule and rule[-1] == ALLOWING.reject_chain)
    assert allow < first_refusal


def test_allowed_ranges_do_not_open_the_host():
    assert not any("10.20.0.0/16" in rule for rule in input_rules(ALLOWING))


def test_the_host_accepts_only_replies_and_dns_and_refuses_the_rest():
    rules = input_rules(ALLOWING)
    assert rules[0] == ["-A", ALLOWING.input_chain, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "RETURN"]
    assert rules[-1] == ["-A", ALLOWING.input_chain, "-j", ALLOWING.reject_chain]
    assert all("--dport" in rule and rule[rule.index("--dport") + 1] == "53" for rule in rules[1:-1])


@pytest.mark.parametrize("chain", ["forward_chain", "input_chain"])
def test_dns_is_open_to_the_resolvers_on_port_53_only(chain):
    name = getattr(ALLOWING, chain)
    dns = [rule for rule in chain_rules(ALLOWING) if rule[1] == name and "10.255.255.53/32" in rule]
    assert sorted(rule[rule.index("-p") + 1] for rule in dns) == ["tcp", "udp"]
    assert all(rule[rule.index("--dport") + 1] == "53" and rule[-1] == "RETURN" for rule in dns)


def test_refusals_answer_at_once_rather_than_drop():
    reject = [rule for rule in chain_rules(DEFAULT) if rule[1] == DEFAULT.reject_chain]
    assert reject == [
        ["-A", DEFAULT.reject_chain, "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"],
        ["-A", DEFAULT.reject_chain, "-j", "REJECT", "--reject-with", "icmp-port-unreachable"],
    ]
    assert not any("DROP" in rule for rule in iptables_rules(DEFAULT))


def test_the_jumps_match_only_the_job_networks_bridge():
    jumps = [rule for rule in iptables_rules(DEFAULT) if rule[0] == "-I"]
    assert jumps == [
        ["-I", "DOCKER-USER", "1", "-i", "cronium-egress0", "-j", "CRONIUM-EGRESS-FORWARD"],
        ["-I", "INPUT", "1", "-i", "cronium-egress0", "-j", "CRONIUM-EGRESS-INPUT"],
    ]


# -- the iptables-restore scripts ------------------------------------------------------

TABLE_WITH_OLD_RULES = [
    "-P INPUT ACCEPT",
    "-N CRONIUM-EGRESS-FORWARD",
    "-N CRONIUM-EGRESS-INPUT",
    "-N DOCKER-USER",
    "-A INPUT -i cronium-egress0 -j CRONIUM-EGRESS-INPUT",
    "-A INPUT -i lo -j ACCEPT",
    "-A CRONIUM-EGRESS-FORWARD -d 10.0.0.0/8 -j DROP",
    "-A DOCKER-USER -i cronium-egress0 -j CRONIUM-EGRESS-FORWARD",
    "-A DOCKER-USER -i cronium-egress0 -j CRONIUM-EGRESS-FORWARD",
    "-A DOCKER-USER -i old-bridge0 -j CRONIUM-EGRESS-FORWARD",
    "-A DOCKER-USER -j RETURN",
]


def test_installing_empties_our_chains_and_replaces_every_jump_in_one_transaction():
    script = restore_script(DEFAULT, TABLE_WITH_OLD_RULES).splitlines()
    assert script[0] == "*filter" and script[-1] == "COMMIT" and script.count("COMMIT") == 1
    assert script[1:4] == [f":{chain} - [0:0]" for chain in DEFAULT.chains]
    assert script[4:8] == [
        "-D INPUT -i cronium-egress0 -j CRONIUM-EGRESS-INPUT",
        "-D DOCKER-USER -i cronium-egress0 -j CRONIUM-EGRESS-FORWARD",
        "-D DOCKER-USER -i cronium-egress0 -j CRONIUM-EGRESS-FORWARD",
        "-D DOCKER-USER -i old-bridge0 -j CRONIUM-EGRESS-FORWARD",
    ]
    assert script[8:-1] == [" ".join(rule) for rule in iptables_rules(DEFAULT)]


def test_installing_touches_no_other_rule():
    script = restore_script(DEFAULT, TABLE_WITH_OLD_RULES)
    assert "lo" not in script.split() and "-D DOCKER-USER -j RETURN" not in script


def test_installing_on_a_clean_table_deletes_nothing():
    script = restore_script(DEFAULT, ["-P INPUT ACCEPT", "-N DOCKER-USER", "-A DOCKER-USER -j RETURN"])
    assert not any(line.startswith("-D") for line in script.splitlines())


def test_removing_deletes_the_jumps_then_empties_and_deletes_the_chains_that_exist():
    script = removal_script(DEFAULT, TABLE_WITH_OLD_RULES).splitlines()
    assert script == [
        "*filter",
        "-D INPUT -i cronium-egress0 -j CRONIUM-EGRESS-INPUT",
        "-D DOCKER-USER -i cronium-egress0 -j CRONIUM-EGRESS-FORWARD",
        "-D DOCKER-USER -i cronium-egress0 -j CRONIUM-EGRESS-FORWARD",
        "-D DOCKER-USER -i old-bridge0 -j CRONIUM-EGRESS-FORWARD",
        "-F CRONIUM-EGRESS-FORWARD",
        "-F CRONIUM-EGRESS-INPUT",
        "-X CRONIUM-EGRESS-FORWARD",
        "-X CRONIUM-EGRESS-INPUT",
        "COMMIT",
    ]


def test_removing_nothing_is_no_script():
    assert removal_script(DEFAULT, ["-P INPUT ACCEPT", "-N DOCKER-USER"]) is None


def test_installed_rules_are_our_chains_and_the_jumps_to_them():
    assert installed_rules(DEFAULT, TABLE_WITH_OLD_RULES) == [
        line for line in TABLE_WITH_OLD_RULES if "CRONIUM-EGRESS" in line
    ]


# -- settings and the host -------------------------------------------------------------


def test_allowed_ranges_are_comma_separated_cidrs():
    settings = WorkerSettings(_env_file=None, ORCHESTRATOR_TOKEN="unit-test-token", CRONIUM_EGRESS_ALLOW="10.20.0.0/16, 192.168.7.7")
    assert settings.egress_allow == (ipaddress.IPv4Network("10.20.0.0/16"), ipaddress.IPv4Network("192.168.7.7/32"))


@pytest.mark.parametrize("value", ["10.20.0.1/16", "fd00::/8", "not-a-range"])
def test_an_allowed_range_that_is_not_an_ipv4_network_is_refused_at_start(value):
    with pytest.raises(ValidationError, match="CRONIUM_EGRESS_ALLOW"):
        WorkerSettings(_env_file=None, ORCHESTRATOR_TOKEN="unit-test-token", CRONIUM_EGRESS_ALLOW=value)


def test_a_network_name_too_long_for_its_bridge_is_refused():
    with pytest.raises(ValidationError, match="CRONIUM_EGRESS_NETWORK"):
        WorkerSettings(_env_file=None, ORCHESTRATOR_TOKEN="unit-test-token", CRONIUM_EGRESS_NETWORK="cronium-egress-x")


def test_host_routes_are_read_from_proc(tmp_path):
    table = tmp_path / "route"
    table.write_text(
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
        "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
        "cronium-egress0\t00FC1DAC\t00000000\t0001\t0\t0\t0\t00FCFFFF\t0\t0\t0\n"
    )
    routes = network.host_routes(exclude_interface="cronium-egress0", path=table)
    assert [net for net, _what in routes] == [ipaddress.IPv4Network("172.17.0.0/16")]


def test_a_subnet_that_overlaps_a_taken_one_is_a_clash():
    taken = [(ipaddress.IPv4Network("172.17.0.0/16"), "the Docker network bridge")]
    assert network.find_clash(ipaddress.IPv4Network("172.17.5.0/24"), taken) == "the Docker network bridge"
    assert network.find_clash(ipaddress.IPv4Network("172.29.252.0/22"), taken) is None


def test_resolvers_are_the_hosts_but_loopback(tmp_path, monkeypatch):
    conf = tmp_path / "resolv.conf"
    conf.write_text("search example\nnameserver 10.255.255.53\nnameserver 127.0.0.53\nnameserver fd00::53\n")
    monkeypatch.setattr(network, "RESOLV_CONF", conf)
    assert network.host_resolvers() == (ipaddress.IPv4Address("10.255.255.53"),)


def test_with_systemd_resolved_the_real_resolvers_are_used(tmp_path, monkeypatch):
    (tmp_path / "stub").write_text("nameserver 127.0.0.53\n")
    (tmp_path / "real").write_text("nameserver 192.168.1.1\n")
    monkeypatch.setattr(network, "RESOLV_CONF", tmp_path / "stub")
    monkeypatch.setattr(network, "RESOLVED_CONF", tmp_path / "real")
    assert network.host_resolvers() == (ipaddress.IPv4Address("192.168.1.1"),)


def test_an_existing_network_without_our_label_or_with_icc_is_not_trusted():
    ours = {
        "Driver": "bridge", "EnableIPv6": False, "Labels": {network.LABEL: network.LABEL_VALUE},
        "Options": network.network_options(DEFAULT),
    }
    assert network.unsafe_settings(ours, DEFAULT) is None
    assert "not Cronium's" in network.unsafe_settings({**ours, "Labels": {}}, DEFAULT)
    with_icc = {**ours, "Options": {**ours["Options"], network.ICC_OPTION: "true"}}
    assert "between its containers" in network.unsafe_settings(with_icc, DEFAULT)
    assert "IPv6" in network.unsafe_settings({**ours, "EnableIPv6": True}, DEFAULT)


def test_a_remote_egress_run_joins_the_job_network_and_never_the_default_bridge():
    prepare, args = network.remote_docker_network(DEFAULT, egress=True)
    assert args.startswith("--network cronium-egress ") and "bridge" not in args.split()
    assert "net.ipv6.conf.all.disable_ipv6=1" in args
    assert "docker network create" in prepare and "enable_icc=false" in prepare and prepare.endswith("&& ")


def test_a_remote_run_without_egress_has_no_network():
    assert network.remote_docker_network(DEFAULT, egress=False) == ("", "--network none")


# -- the guard -------------------------------------------------------------------------


class FakeFirewall:
    """Stands in for iptables: `table` is what `iptables -S` would print."""

    def __init__(self, monkeypatch, *, fails: str | None = None, bridge_here: bool = True):
        self.table: list[str] = []
        self.installs = 0
        self.fails = fails
        monkeypatch.setattr(network, "ensure_network", lambda client, policy, subnet: None)
        monkeypatch.setattr(network, "bridge_is_local", lambda policy: bridge_here)
        monkeypatch.setattr(firewall, "install", self.install)
        monkeypatch.setattr(firewall, "read_filter_table", self.read)

    async def install(self, policy):
        if self.fails:
            raise firewall.FirewallError(self.fails)
        self.installs += 1
        self.table = [" ".join(rule) for rule in iptables_rules(policy)]
        return list(self.table)

    async def read(self):
        return list(self.table)


def guard_for(**settings) -> EgressGuard:
    return EgressGuard(WorkerSettings(_env_file=None, ORCHESTRATOR_TOKEN="unit-test-token", CRONIUM_EGRESS_DNS="", **settings), docker_client=lambda: None)


def refusal_after_start(guard: EgressGuard) -> str | None:
    async def run() -> str | None:
        await guard.prepare()
        return await guard.refusal()

    return asyncio.run(run())


def test_egress_runs_once_the_rules_are_installed(monkeypatch):
    fake = FakeFirewall(monkeypatch)
    assert refusal_after_start(guard_for()) is None
    assert fake.installs == 1


def test_without_the_rules_egress_jobs_are_refused_with_the_reason(monkeypatch):
    FakeFirewall(monkeypatch, fails="iptables is not installed (not found on PATH)")
    refusal = refusal_after_start(guard_for())
    assert refusal.startswith("egress is unavailable on this worker") and "iptables is not installed" in refusal
    assert refusal.endswith("the job was not run")


def test_a_docker_engine_on_another_machine_refuses_egress(monkeypatch):
    FakeFirewall(monkeypatch, bridge_here=False)
    assert "not on this machine" in refusal_after_start(guard_for())


def test_with_the_policy_off_egress_runs_without_rules(monkeypatch):
    fake = FakeFirewall(monkeypatch, fails="must not be called")
    assert refusal_after_start(guard_for(CRONIUM_EGRESS_POLICY="off")) is None
    assert fake.installs == 0


def test_rules_that_vanished_are_put_back_before_the_next_egress_job(monkeypatch):
    fake = FakeFirewall(monkeypatch)
    guard = guard_for()
    assert refusal_after_start(guard) is None
    fake.table = []  # a firewall reload
    monkeypatch.setattr(guard_module.time, "monotonic", lambda: 10**9)  # the recheck is due
    assert asyncio.run(guard.refusal()) is None
    assert fake.installs == 2


def test_egress_jobs_only_when_asked_and_allowed():
    job = ClaimedJob(id="j", attempt=1, type="bash", user_id=1, execution={"network": "egress"}, input=None, log_seq_start=1)
    assert wants_egress(job, WorkerSettings(_env_file=None, ORCHESTRATOR_TOKEN="unit-test-token"))
    assert not wants_egress(job, WorkerSettings(_env_file=None, ORCHESTRATOR_TOKEN="unit-test-token", CRONIUM_ALLOW_EGRESS=False))
    assert not wants_egress(dataclasses.replace(job, execution={}), WorkerSettings(_env_file=None, ORCHESTRATOR_TOKEN="unit-test-token"))
